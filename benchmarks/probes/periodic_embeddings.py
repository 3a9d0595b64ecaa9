"""Probe: periodic numerical embeddings (PLR-lite) in front of the default MLP.

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
A measurement, not a feature: the default ``skscor.modules.MLP`` is replaced
in this process by a subclass that embeds every dense input column ``x_j``
(after the estimator's own conditioning: numeric, binary, one-hot and
missing-indicator columns alike) as ``relu(W [sin(2 pi c_j x_j),
cos(2 pi c_j x_j)])``, with 8 learned frequencies ``c_j ~ N(0, sigma^2)`` per
column and one linear map to 8 dimensions shared by the columns (Gorishniy et
al., NeurIPS 2022, "PLR-lite"), concatenated with the columns themselves.
Then the natural benchmark runs SCoR at its defaults on it.

    python -m benchmarks.probes.periodic_embeddings --sigma 1.0 --seeds 0 --out FILE
"""

from __future__ import annotations

import sys

from skscor.modules import MLP

from . import probe_parser, run_natural


def periodic_mlp(sigma: float):
    """The default MLP with periodic embeddings of its dense columns.

    The probe's own subclass became ``MLP(periodic=True)`` (and
    ``numeric_embedding``); the probe now runs it with its ``sigma``, on
    every estimator's network whatever ``numeric_embedding`` says.
    """

    class PeriodicMLP(MLP):
        def __init__(self, n_features, n_classes, **kwargs):
            kwargs.update(periodic=True, periodic_sigma=sigma)
            super().__init__(n_features, n_classes, **kwargs)

    return PeriodicMLP


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--sigma", type=float, default=1.0)
    args = parser.parse_args(argv)
    run_natural(periodic_mlp(args.sigma), f"periodic{args.sigma:g}", args)


if __name__ == "__main__":
    main(sys.argv[1:])
