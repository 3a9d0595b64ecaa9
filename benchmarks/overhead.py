"""Where the estimator's fit time goes beyond a hand-written loop.

Measured through public API only (no patching of skscor's internals): the
hand loop of ``speed.py`` and the registry variants ``ce`` (SCoRClassifier with
alpha=0) and ``scor`` (its defaults), each fitted for 1 and for ``--epochs``
epochs in alternated rounds on the same data. Two fits per method split the
time into a per-epoch part (the slope: the training loop, per-step overhead)
and a fixed per-fit part (the intercept: validation, copies, the post-training
finiteness check and the fitted reports). A second table times, with the
public functions, the post-training work that every fit does: a forward pass
over the training rows (``predict``), ``class_disparity`` on its output (both
build ``disparity_report_``) and ``spectral_report``.

The prototype of fix B (the disparity report from the last training epoch's
predictions), which earlier versions of this script measured by patching
private methods, is no longer measured: its saving is at most the "predict +
class_disparity" row of the second table (see README.md).

CPU time of the process is the primary clock (robust to other processes on a
shared machine); wall time is reported too.

Run from the repository root: ``python -m benchmarks.overhead`` (``--epochs``,
``--rows``, ``--repeats``; ``--smoke`` for a run of seconds).
"""

from __future__ import annotations

import argparse
import gc
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning

from skscor.metrics import class_disparity
from skscor.spectral import spectral_report

from ._common import clocks, load_average, machine_info, markdown_table, set_threads
from .speed import HAND, estimator, hand_loop, make_data, method_legend

METHODS = ("ce", "scor")


def _median_times(fn, repeats):
    walls, cpus = [], []
    for _ in range(repeats):
        out = {}
        with clocks("cpu", out):
            fn()
        walls.append(out["wall"])
        cpus.append(out["cpu"])
    return float(np.median(walls)), float(np.median(cpus))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes (seconds)")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--epochs", type=int, default=5, help="the longer fit (>= 2)")
    p.add_argument("--repeats", type=int, default=7, help="alternated rounds")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if args.smoke:
        args.rows, args.epochs, args.repeats = 2000, 2, 1
    if args.epochs < 2:
        p.error("--epochs must be >= 2 (the slope needs two epoch counts)")
    set_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)
    hidden = (16, 16) if args.smoke else (128, 128)
    X, y = make_data(args.rows, 10 if args.smoke else 50, 2)
    kw = {"hidden": hidden, "batch_size": 256, "device": "cpu"}
    epoch_counts = (1, args.epochs)

    fitted = {}

    def run(name, epochs):
        if name == HAND:
            return lambda: hand_loop(X, y, epochs=epochs, **kw)

        def fit():
            fitted[name] = estimator(name, epochs=epochs, **kw).fit(X, y)

        return fit

    runs = {(name, e): run(name, e) for name in (HAND, *METHODS) for e in epoch_counts}
    info = machine_info("cpu")
    for f in runs.values():  # warm-up: imports, allocator
        f()
    times = {k: {"wall": [], "cpu": []} for k in runs}
    keys = list(runs)
    for r in range(args.repeats):
        for key in keys if r % 2 == 0 else keys[::-1]:
            gc.collect()
            out = {}
            with clocks("cpu", out):
                runs[key]()
            times[key]["wall"].append(out["wall"])
            times[key]["cpu"].append(out["cpu"])

    def arr(name, epochs, clock="cpu"):
        return np.asarray(times[(name, epochs)][clock])

    def split(name):
        """Per-round per-epoch slope and fixed per-fit intercept (CPU s)."""
        short, long = arr(name, 1), arr(name, args.epochs)
        per_epoch = (long - short) / (args.epochs - 1)
        return per_epoch, short - per_epoch

    hand_epoch, hand_fixed = split(HAND)
    rows = []
    for name in (HAND, *METHODS):
        per_epoch, fixed = split(name)
        rows.append(
            [
                name,
                float(np.median(arr(name, 1))),
                float(np.median(arr(name, args.epochs))),
                float(np.median(arr(name, args.epochs) / arr(HAND, args.epochs))),
                float(
                    np.median(
                        arr(name, args.epochs, "wall") / arr(HAND, args.epochs, "wall")
                    )
                ),
                float(np.median(per_epoch)),
                float(np.median(per_epoch / hand_epoch)),
                float(np.median(fixed - hand_fixed)),
            ]
        )

    # Post-training work of the last fitted estimator, timed with the public
    # functions that build its reports.
    clf = fitted["scor"]

    def disparity():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            class_disparity(y, clf.predict(X), labels=clf.classes_)

    fit_cpu = float(np.median(arr("scor", args.epochs)))
    reports = []
    for label, fn in [
        ("predict on the training rows", lambda: clf.predict(X)),
        ("predict + class_disparity (disparity_report_)", disparity),
        (
            "spectral_report (spectral_report_)",
            lambda: spectral_report(clf.net_.module_),
        ),
    ]:
        wall, cpu = _median_times(fn, max(3, args.repeats))
        reports.append([label, wall, cpu, cpu / fit_cpu])

    print(
        f"# Fit overhead vs hand loop: {args.rows:,} rows, MLP {hidden}, batch 256, "
        f"1 and {args.epochs} epochs, {args.threads} torch thread(s), "
        f"{args.repeats} alternated rounds (medians)\n"
    )
    print(markdown_table(["key", "value"], [[k, v] for k, v in info.items()]))
    print(
        "\nRegistry variants (each with the hand loop's network, batch and Adam "
        f"at 1e-3):\n\n{method_legend(METHODS)}\n"
    )
    print(
        "Per epoch: the slope between the 1-epoch and the "
        f"{args.epochs}-epoch fit; fixed: the intercept, minus the hand loop's "
        "(what each fit adds once, whatever its length). Medians of per-round "
        "values.\n"
    )
    print(
        markdown_table(
            [
                "method",
                "CPU s, 1 epoch",
                f"CPU s, {args.epochs} epochs",
                f"ratio vs hand, {args.epochs} epochs (CPU)",
                "(wall)",
                "CPU s per epoch",
                "per epoch vs hand",
                "fixed CPU s beyond hand",
            ],
            rows,
        )
    )
    print(
        "\n## Post-training work in every fit (public functions on the fitted "
        f"scor, {args.rows:,} training rows)\n"
    )
    print(
        markdown_table(
            ["work", "wall s", "CPU s", f"fraction of the {args.epochs}-epoch fit"],
            reports,
        )
    )
    print(f"\nLoad average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
