"""Probe: fused optimizer kernels against multi-tensor ones, whole fits.

Since stop 37 the estimators build Adam and AdamW with fused kernels where the
device has them (``skscor.utils._torch.optimizer_kernels``), before with
``foreach=True``. This patches the choice back to ``foreach`` for one arm.
The two kernels compute the same update up to float rounding, so this
measures fit time, and shows on real tasks how far the rounding moves the
members' epochs and the test scores. For each task, method and seed the two
fits run in one process, alternated (foreach first on even seeds), 1 thread;
one JSON record per pair (``speedup``: foreach time over fused time).

    python -m benchmarks.probes.optimizer_kernels --tasks penbased-lt10,satimage \
        --method scor,focal,sam,mr2 --seeds 0,1 --out FILE
"""

from __future__ import annotations

import sys

from skscor import _training
from skscor._variants import VARIANTS

from . import fit_and_score, probe_parser, run_alternated

_CHOSEN = _training.optimizer_kernels


def _multi_tensor(kwargs, device):
    return dict(kwargs)


def _fit(method, X, y, Xt, yt, seed, fused):
    est = VARIANTS[method].build(random_state=seed, n_threads=1)
    _training.optimizer_kernels = _CHOSEN if fused else _multi_tensor
    try:
        return fit_and_score(est, X, y, Xt, yt)
    finally:
        _training.optimizer_kernels = _CHOSEN


def main(argv=None):
    args = probe_parser(__doc__, tasks="penbased-lt10,satimage").parse_args(argv)
    run_alternated(args, _fit, ("foreach", "fused"))


if __name__ == "__main__":
    sys.exit(main())
