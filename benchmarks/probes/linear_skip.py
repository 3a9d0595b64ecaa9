"""Probe: a linear skip connection from the dense inputs to the logits.

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
The default ``skscor.modules.MLP`` is replaced in this process by a subclass
whose logits add ``W x`` over the leading float input columns (after the
estimator's own conditioning), ``W`` initialised at zero so training starts
from the default network. The question it asks: on the natural tasks where
LogisticRegression(balanced) has the best balanced accuracy of the peers, does
a linear path beside the hidden layer close the gap? Then the natural
benchmark runs the method at its defaults on it.

    python -m benchmarks.probes.linear_skip --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

from torch import nn

from skscor.modules import MLP

from . import probe_parser, run_natural


class SkipMLP(MLP):
    """The default MLP plus a zero-initialised linear map of the dense inputs."""

    def __init__(self, n_features, n_classes, **kwargs):
        super().__init__(n_features, n_classes, **kwargs)
        self.skip = nn.Linear(self.n_dense, n_classes, bias=False)
        nn.init.zeros_(self.skip.weight)

    def forward(self, X):
        return super().forward(X) + self.skip(X[:, : self.n_dense])


def main(argv=None) -> None:
    args = probe_parser(__doc__, cut=True).parse_args(argv)
    run_natural(SkipMLP, "linear-skip", args)


if __name__ == "__main__":
    main(sys.argv[1:])
