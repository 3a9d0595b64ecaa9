"""Probe: class-balanced sampling of the training batches instead of class weights.

A probe measures a candidate before it is built, so unlike the benchmarks it
patches skscor's internals (see ``benchmarks/probes/__init__.py``). At the
defaults the classes are balanced by weights in the loss: on a task with a 3%
minority a batch of 200 holds about six minority rows, each weighing about
15, so the gradient's minority part rests on a handful of rows. Here each
epoch instead draws its ``n`` training rows with replacement, row ``i`` with
probability proportional to its class weight (the same expected objective), and
the loss is unweighted: every batch is about balanced. Everything else stays:
the members, their held-out rows and class-balanced validation loss, the kept
epoch, the offsets. ``--power 0.5`` draws by the square root of the weights and
keeps the other square root as a loss weight (half of each).

    python -m benchmarks.probes.balanced_sampling --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

import torch

from skscor import _net
from skscor._hooks import EpochHook

from . import members_one_by_one, probe_parser, run_natural_as

# The row probabilities of the run in progress (set by the hook below), read
# by the epoch's draw in place of ``torch.randperm``.
_STATE: dict = {}


class _Torch:
    """``torch`` for ``skscor._net``, whose ``randperm`` draws by weight."""

    def __getattr__(self, name):
        return getattr(torch, name)

    def randperm(self, n, generator=None, device=None):
        probs = _STATE.get("probs")
        if probs is None or probs.shape[0] != n:
            return torch.randperm(n, generator=generator, device=device)
        return torch.multinomial(probs, n, replacement=True, generator=generator)


class SampleByWeight(EpochHook):
    """After the class-balance hook: move the class weights into the draw."""

    def __init__(self, y, power):
        self.y, self.power = y, power
        self.weight = self.written = None

    def on_epoch_begin(self, net, values):
        crit = net.criterion_
        mine = self.written is not None and torch.equal(crit.class_weight, self.written)
        if crit.weighted and not mine:  # the balance hook wrote a phase's weights
            self.weight = crit.class_weight.detach().clone()
        if self.weight is None:
            _STATE["probs"] = None
            return
        draw = self.weight.pow(self.power)
        _STATE["probs"] = draw[self.y].double()
        rest = self.weight / draw
        crit.set_class_weight(None if self.power == 1 else rest)
        self.written = crit.class_weight.detach().clone()


def install(power: float) -> None:
    _net.torch = _Torch()
    run = _net._SkNet.run

    def run_sampled(self, train, valid=None, *, hooks=(), **kwargs):
        hooks = [*hooks, SampleByWeight(train.y, power)]
        try:
            return run(self, train, valid, hooks=hooks, **kwargs)
        finally:
            _STATE["probs"] = None

    _net._SkNet.run = run_sampled


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--power", type=float, default=1.0)
    args = parser.parse_args(argv)
    members_one_by_one()  # each member's draws through its own net.run
    install(args.power)
    run_natural_as(f"sampled{args.power:g}", args)


if __name__ == "__main__":
    main(sys.argv[1:])
