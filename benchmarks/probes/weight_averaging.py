"""Probe: an exponential moving average of the weights, evaluated and kept.

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
Every training step also updates a moving average of the network's weights
(``ema <- ema + (1 - d)(w - ema)``, with ``d`` set so that the average spans
``--horizon`` epochs of steps and warmed up as ``min(d, (1 + t) / (10 + t))``).
Validation, the stopping rule and the restored best epoch see the averaged
weights; training continues from the raw ones. The question it asks: on the
large natural tasks, where the defaults' balanced accuracy is 0.001-0.016 short
of the best peer's, does a smoother kept model (a cheap stand-in for a flatter
minimum) close the gap? Then the natural benchmark runs the method at its
defaults with it.

    python -m benchmarks.probes.weight_averaging --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import math
import sys

import torch

from skscor import _net

from . import members_one_by_one, probe_parser, run_natural_as


def _install(horizon: float) -> None:
    base_run = _net._SkNet.run
    base_validation = _net._SkNet.validation_scores
    base_begin = _net._SkNet._begin_epoch
    steps = {cls: cls._step for cls in (_net._SkNet, _net._SAMNet)}
    sam_begin = _net._SAMNet._begin_epoch

    def swap_back(net):
        raw = getattr(net, "_ema_raw", None)
        if raw is not None:
            with torch.no_grad():
                torch._foreach_copy_(net._ema_params, raw)
            net._ema_raw = None

    def run(self, train, valid=None, **kw):
        bs = int(self.batch_size)
        per_epoch = max(1, math.ceil(len(train) / bs))
        self._ema_decay = 1.0 - 1.0 / (horizon * per_epoch)
        self._ema_t = 0
        self._ema_raw = None
        # the trained parameters, listed once per run (not on every step)
        self._ema_params = [p for p in self.module_.parameters() if p.requires_grad]
        with torch.no_grad():
            self._ema = [p.detach().clone() for p in self._ema_params]
        try:
            return base_run(self, train, valid, **kw)
        finally:
            # Without a validation split nothing is restored: keep the average.
            if self._ema_raw is None:
                with torch.no_grad():
                    torch._foreach_copy_(self._ema_params, self._ema)
            self._ema_raw = None

    def make_step(orig):
        def step(self, X, y, w):
            loss = orig(self, X, y, w)
            t = self._ema_t
            d = min(self._ema_decay, (1 + t) / (10 + t))
            self._ema_t = t + 1
            with torch.no_grad():
                torch._foreach_lerp_(self._ema, self._ema_params, 1.0 - d)
            return loss

        return step

    def make_begin(orig):
        def begin(self, device):
            swap_back(self)
            return orig(self, device)

        return begin

    def validation_scores(self, valid, shift=None, class_weight=None):
        if getattr(self, "_ema", None) is not None and self._ema_raw is None:
            with torch.no_grad():
                self._ema_raw = [p.detach().clone() for p in self._ema_params]
                torch._foreach_copy_(self._ema_params, self._ema)
        return base_validation(self, valid, shift, class_weight)

    _net._SkNet.run = run
    _net._SkNet.validation_scores = validation_scores
    _net._SkNet._begin_epoch = make_begin(base_begin)
    _net._SAMNet._begin_epoch = make_begin(sam_begin)
    for cls, orig in steps.items():
        cls._step = make_step(orig)

    base_getstate = _net._SkNet.__getstate__

    def getstate(self):
        state = base_getstate(self)
        for key in ("_ema", "_ema_raw", "_ema_t", "_ema_decay", "_ema_params"):
            state.pop(key, None)
        return state

    _net._SkNet.__getstate__ = getstate


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--horizon", type=float, default=3.0)
    args = parser.parse_args(argv)
    members_one_by_one()  # each member's net through its own (patched) step
    _install(args.horizon)
    run_natural_as(f"ema{args.horizon:g}", args)


if __name__ == "__main__":
    main(sys.argv[1:])
