"""Probe: hidden biases that put each unit's kink inside the data (RealMLP-TD's).

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
PyTorch draws a hidden unit's bias uniformly in ``+-1/sqrt(fan_in)``, whatever
the inputs; RealMLP-TD (Holzmueller et al., 2024, ``bias_init_mode='he+5'``)
sets it from the data instead: with ``z_i = w . x_i`` the unit's
pre-activation on training row ``i``, the bias is minus a random convex
combination of five rows' ``z`` (weights from a flat Dirichlet), so the ReLU's
kink passes through the data's own range in the unit's direction. Here, at
the start of every fresh training run (no epoch yet), each hidden layer's bias
is set that way from up to 2,048 of the run's training rows, layer by layer.
The question it asks: do units that all cut through the data from the first
step fit the large natural tasks better? Then the natural benchmark runs the
method at its defaults with it (members trained one by one).

    python -m benchmarks.probes.data_bias_init --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

import torch
from torch import nn

from skscor import _net

from . import members_one_by_one, probe_parser, run_natural_as

_ROWS = 2048
_POINTS = 5


def _set_biases(module, X, generator) -> None:
    """Each hidden layer's bias from the pre-activations of the rows ``X``."""
    body = getattr(module, "body", None)
    if body is None:
        return
    linears = [m for m in body if isinstance(m, nn.Linear)]
    for layer in linears:
        # The layer's input (whatever the network puts before it: embeddings,
        # the periodic block, earlier layers) through a hook on its output,
        # minus the bias: the pre-activations without it.
        seen = {}
        # The folded first layer (0/1 columns beside the periodic block) is not
        # called as a module: the activation after it sees its output.
        position = list(body).index(layer)
        after = body[position + 1]
        handle = after.register_forward_pre_hook(
            lambda mod, args, seen=seen: seen.setdefault("z", args[0].detach())
        )
        try:
            with torch.no_grad():
                module(X)
        finally:
            handle.remove()
        z = seen["z"] - layer.bias.detach()
        n, units = z.shape
        rows = torch.randint(0, n, (units, _POINTS), generator=generator)
        weights = torch.empty(units, _POINTS).exponential_(generator=generator)
        weights /= weights.sum(1, keepdim=True)
        picked = z[rows, torch.arange(units)[:, None]]
        with torch.no_grad():
            layer.bias.copy_(-(picked * weights).sum(1).to(layer.bias.dtype))


def _install() -> None:
    base_run = _net._SkNet.run

    def run(self, train, valid=None, **kw):
        if len(self.history) == 0:
            n = len(train)
            generator = torch.Generator().manual_seed(int(kw["rng"].initial_seed()))
            rows = torch.randperm(n, generator=generator)[:_ROWS].to(train.device)
            X, _, _ = train.take(rows)
            _set_biases(self.module_, X, generator)
        return base_run(self, train, valid, **kw)

    _net._SkNet.run = run


def main(argv=None) -> None:
    args = probe_parser(__doc__, cut=True).parse_args(argv)
    members_one_by_one()
    _install()
    run_natural_as("data-bias", args)


if __name__ == "__main__":
    main(sys.argv[1:])
