"""Probe: MR2's representation term fused (its gradient written out, one
block of pairs per class on the CPU) against the plain autograd operations.

Both compute the same term and gradient up to float rounding, so this measures
MR2's fit time at its defaults and checks on real tasks that the members stop
at the same epochs and the test scores agree. For each task and seed the two
fits run in one process, alternated (autograd first on even seeds), 1 thread;
one JSON record per pair.

    python -m benchmarks.probes.mr2_rep_term --tasks magic,satimage --seeds 0 \
        --out FILE

``--micro`` times the term alone instead (forward and backward on random
ReLU features of width 100, best / median of 7 rounds of 100 calls, 1 thread)
for batches and class shares like the natural tasks', and prints a table;
``--out`` is then not written.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from skscor._variants import VARIANTS
from skscor.losses import _mr2

from . import fit_and_score, probe_parser, run_alternated


def _autograd_term(features, target, s_bar, n_classes):
    # the term as before the fused version: validation, then plain autograd
    _mr2._check_features(features, target)
    if isinstance(s_bar, torch.Tensor):
        s_bar = s_bar.detach().reshape(()).to(features.dtype)
    return _mr2._rep_autograd(features, target.long(), s_bar, n_classes)


def _fit(method, X, y, Xt, yt, seed, fused):
    est = VARIANTS[method].build(random_state=seed, n_threads=1)
    fused_term = _mr2.mr2_representation_term
    if not fused:
        _mr2.mr2_representation_term = _autograd_term
    try:
        return fit_and_score(est, X, y, Xt, yt)
    finally:
        _mr2.mr2_representation_term = fused_term


def _by_class(h, y, s, k):
    return _mr2._RepTerm.apply(h, y, s, k, torch.bincount(y, minlength=k).tolist())


_LAYOUTS = {
    "autograd (before)": lambda h, y, s, k: _mr2._rep_autograd(h, y, s, k),
    "fused, by class": _by_class,
    "fused, masked": lambda h, y, s, k: _mr2._RepTerm.apply(h, y, s, k, None),
    "chosen by class sizes (CPU default)": _mr2.mr2_representation_term,
}

# (batch, classes, class shares or None for even)
_MICRO_CASES = [
    (200, 2, (0.9, 0.1)),
    (200, 2, (0.65, 0.35)),
    (475, 2, (0.65, 0.35)),
    (1024, 2, (0.9, 0.1)),
    (200, 6, None),
    (512, 10, None),
    (200, 10, "IF10"),
    (200, 26, "IF10"),
    (1024, 26, "IF10"),
]


def _micro():
    def best_median(fn, h, y, k, calls=100):
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(h.detach().requires_grad_(True), y, 0.5, k).backward()
            times.append((time.perf_counter() - t0) / calls * 1e3)
        return min(times), float(np.median(times))

    print("| batch | classes (shares) | " + " | ".join(_LAYOUTS) + " |")
    print("|---" * (2 + len(_LAYOUTS)) + "|")
    for n, k, shares in _MICRO_CASES:
        g = torch.Generator().manual_seed(0)
        h = torch.randn(n, 100, generator=g).relu()
        if shares is None:
            y = torch.randint(0, k, (n,), generator=g)
        elif shares == "IF10":  # long tail: shares fall tenfold over the classes
            w = torch.tensor([10 ** (-i / (k - 1)) for i in range(k)])
            y = torch.multinomial(w / w.sum(), n, True, generator=g)
        else:
            y = torch.multinomial(torch.tensor(shares), n, True, generator=g)
        # alternate the layouts round by round: the same load for each
        got = {name: [] for name in _LAYOUTS}
        for _ in range(2):
            for name, fn in _LAYOUTS.items():
                got[name].append(best_median(fn, h, y, k))
        cells = {
            name: (min(b for b, _ in r), min(m for _, m in r))
            for name, r in got.items()
        }
        base = cells["autograd (before)"][0]
        share = shares if isinstance(shares, str) else "even"
        if isinstance(shares, tuple):
            share = "/".join(map(str, shares))
        row = [f"{b:.2f} / {m:.2f} ms ({base / b:.2f}x)" for b, m in cells.values()]
        print(f"| {n} | {k} ({share}) | " + " | ".join(row) + " |", flush=True)


def main(argv=None):
    parser = probe_parser(__doc__, tasks="all", out_required=False)
    parser.set_defaults(method="mr2")
    parser.add_argument("--micro", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.micro:
        return _micro()
    if not args.out:
        parser.error("--out is required (without --micro)")
    run_alternated(args, _fit, ("autograd", "fused"))


if __name__ == "__main__":
    sys.exit(main())
