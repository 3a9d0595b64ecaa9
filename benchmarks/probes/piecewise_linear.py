"""Probe: piecewise-linear encodings of the continuous columns (PLE, quantile bins).

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
Each continuous input column ``x`` (after the estimator's own conditioning; the
0/1 columns are left as they are, their encoding would be the column itself)
gets ``T`` bins between quantiles ``b_0 < ... < b_T`` of the training rows and
the encoding of Gorishniy et al. (NeurIPS 2022, "On embeddings for numerical
features in tabular deep learning"; the default numerical embedding of TabM):

    e_t = clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1),

except that the first bin is not clipped below and the last not above, so the
encoding stays linear beyond the training range. The ``T`` values of every
column join the network's inputs beside the column itself ("MLP-Q": the first
layer then learns a piecewise-linear function of each column with knots at its
quantiles, the thresholds a tree would split on). The question: does it close
the gap to the boosters where thresholds decide (``magic``, ``satimage``)
without the periodic embeddings' losses on the multiclass tasks?

``--mode always``: every network has the encoding (``numeric_embedding=None``
otherwise). ``--mode auto``: ``numeric_embedding='auto'`` compares no
embedding against the encoding (in the periodic embeddings' place) on the
first member's held-out rows, with the same one-standard-error rule.
``--mode alternate``: a mixed ensemble, the defaults (``'auto'`` as it is)
with the encoding added to the second and fourth members only.

    python -m benchmarks.probes.piecewise_linear --mode always --seeds 0 --out FILE
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from skscor import _training
from skscor.modules import MLP

from . import members_one_by_one, probe_parser, run_natural_as

# The conditioned training matrix of the fit being built (set by the wrapper
# of ``_train`` below): the module sees only its shapes.
_CURRENT: dict = {}


def quantile_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    """The distinct quantiles of ``x`` at ``n_bins + 1`` evenly spaced levels."""
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.zeros(0)
    return np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)))


def make_ple_mlp(n_bins: int, mode: str):
    class PLEMLP(MLP):
        """The default MLP with the PLE of its continuous columns as extra inputs."""

        def __init__(self, n_features, n_classes, **kwargs):
            if mode == "alternate":
                # the members after the first: odd ones add the encoding
                use = _CURRENT["member"] % 2 == 1
            else:
                use = mode == "always" or bool(kwargs.get("periodic"))
                kwargs["periodic"] = False
            binary = set(kwargs.get("binary_columns", ()))
            n_codes = len(kwargs.get("embeddings", ()))
            n_dense = n_features - n_codes
            X = _CURRENT["X"]
            cols, lefts, widths, first, last = [], [], [], [], []
            if use:
                for j in range(n_dense):
                    if j in binary:
                        continue
                    edges = quantile_edges(
                        np.asarray(X[:, j], dtype=np.float64), n_bins
                    )
                    if edges.size < 3:  # one bin: the column itself
                        continue
                    t = edges.size - 1
                    cols += [j] * t
                    lefts += edges[:-1].tolist()
                    widths += np.diff(edges).tolist()
                    first += [1.0] + [0.0] * (t - 1)
                    last += [0.0] * (t - 1) + [1.0]
            self.n_ple = len(cols)
            super().__init__(n_features + self.n_ple, n_classes, **kwargs)
            self.n_dense0 = n_dense
            f32 = {"dtype": torch.float32}
            self.register_buffer("ple_cols", torch.tensor(cols, dtype=torch.long))
            self.register_buffer("ple_left", torch.tensor(lefts, **f32))
            self.register_buffer("ple_width", torch.tensor(widths, **f32))
            self.register_buffer("ple_first", torch.tensor(first, **f32).bool())
            self.register_buffer("ple_last", torch.tensor(last, **f32).bool())

        def forward(self, X):
            if self.n_ple == 0:
                return super().forward(X)
            r = (X[:, self.ple_cols] - self.ple_left) / self.ple_width
            low = torch.where(self.ple_first, r, r.clamp(min=0.0))
            r = torch.where(self.ple_last, low, low.clamp(max=1.0))
            d = self.n_dense0
            return super().forward(torch.cat([X[:, :d], r, X[:, d:]], dim=1))

    return PLEMLP


def _wrap_train():
    """Keep the training matrix, and count the members a fit builds (the
    first member's candidates under ``'auto'`` all count as member 0)."""
    mixin = _training._TrainingMixin
    train, members, choose = mixin._train, mixin._train_members, mixin._choose_embedding

    def _train(self, X, y_enc, sample_weight, device, seed, first, *args, **kwargs):
        _CURRENT["X"] = X
        if first and not _CURRENT.get("choosing"):
            _CURRENT["member"] += 1
        return train(
            self, X, y_enc, sample_weight, device, seed, first, *args, **kwargs
        )

    def _train_members(self, *args, **kwargs):
        _CURRENT["member"] = -1
        return members(self, *args, **kwargs)

    def _choose_embedding(self, *args, **kwargs):
        _CURRENT["member"] += 1
        _CURRENT["choosing"] = True
        try:
            return choose(self, *args, **kwargs)
        finally:
            _CURRENT["choosing"] = False

    mixin._train = _train
    mixin._train_members = _train_members
    mixin._choose_embedding = _choose_embedding


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument(
        "--mode", choices=("always", "auto", "alternate"), default="always"
    )
    parser.add_argument("--bins", type=int, default=16)
    args = parser.parse_args(argv)
    members_one_by_one()  # each member's network through its own forward
    _wrap_train()
    _training.MLP = make_ple_mlp(args.bins, args.mode)
    suffix = f"ple{args.bins}" + ("" if args.mode == "always" else f"-{args.mode}")
    # always: the encoding alone, with no periodic candidate beside it
    overrides = {"numeric_embedding": None} if args.mode == "always" else {}
    run_natural_as(suffix, args, **overrides)


if __name__ == "__main__":
    main(sys.argv[1:])
