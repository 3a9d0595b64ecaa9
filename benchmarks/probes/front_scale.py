"""Probe: a learned scale per input of the first layer, moving faster (RealMLP-TD's).

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
RealMLP-TD (Holzmueller et al., 2024) puts a diagonal "front scale" ``s`` (one
value per input of the first layer, initialised at 1) in front of its first
layer and trains it at 6 times the network's learning rate: a cheap, fast
feature selection, one of the ingredients its ablation ranks high. Here the
default network's first-layer weight is reparametrised as
``W diag(1 + K u)`` with ``u`` a parameter initialised at 0: under Adam, whose
step is about the learning rate whatever the gradient's size, ``s = 1 + K u``
moves ``K`` times as fast as a plain parameter, which is what a learning-rate
factor of ``K`` does, without a second parameter group (the epoch hooks write
one learning rate into every group). Weight decay, where the estimator uses it,
pulls ``s`` toward 1. The question it asks: does a fast per-input scale close
the balanced-accuracy gaps on the large natural tasks (``satimage``,
``magic``, ``default``)? Then the natural benchmark runs the method at its
defaults with it (members trained one by one).

    python -m benchmarks.probes.front_scale --factor 30 --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from torch.nn.utils import parametrize

from skscor.modules import MLP

from . import probe_parser, run_natural


class _ColumnScale(nn.Module):
    """``W -> W * (1 + factor * u)`` per input column of ``W``."""

    def __init__(self, n_inputs: int, factor: float):
        super().__init__()
        self.factor = float(factor)
        self.u = nn.Parameter(torch.zeros(n_inputs))

    def forward(self, weight):
        return weight * (1.0 + self.factor * self.u)


def scaled_mlp(factor: float) -> type:
    """The default MLP with its first layer's inputs scaled by a fast ``s``."""

    class FrontScaleMLP(MLP):
        def __init__(self, n_features, n_classes, **kwargs):
            super().__init__(n_features, n_classes, **kwargs)
            first = next((m for m in self.body if isinstance(m, nn.Linear)), self.head)
            parametrize.register_parametrization(
                first, "weight", _ColumnScale(first.in_features, factor)
            )

    return FrontScaleMLP


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--factor", type=float, default=30.0)
    args = parser.parse_args(argv)
    run_natural(scaled_mlp(args.factor), f"front-scale{args.factor:g}", args)


if __name__ == "__main__":
    main(sys.argv[1:])
