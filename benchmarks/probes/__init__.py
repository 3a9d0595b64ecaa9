"""Probes: measurements of candidate features before they are built.

Unlike the benchmarks one level up, a probe may patch skscor's private modules
(for example to swap the default network), because what it measures is not in
the package yet; its records are labelled with its own method names and its
results are reported as a probe in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse


def probe_parser(
    doc, *, tasks="all", bench=False, out_required=True, cut=False
) -> argparse.ArgumentParser:
    """The options every probe takes: ``--seeds``, ``--tasks``, ``--method``
    (comma-separated) and ``--out`` (optional where ``out_required`` is False,
    for a probe that can also only print); with ``bench``, ``--bench`` choosing the
    natural benchmark or the preprocessing benchmark's raw-frame arm (where
    ``--seeds`` is a count, as there); with ``cut`` (probes that run the natural
    benchmark through :func:`run_natural_as`), ``--cut-minority``. The probe
    adds its own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if bench:
        parser.add_argument(
            "--bench", choices=("natural", "preprocessing"), default="natural"
        )
    parser.add_argument("--seeds", default="0", help="natural: list; else a count")
    parser.add_argument("--tasks", default=tasks)
    parser.add_argument("--method", default="scor", help="comma-separated")
    parser.add_argument("--out", required=out_required)
    if cut:
        parser.add_argument(
            "--cut-minority", type=int, default=None, metavar="M",
            help="keep M training rows of each task's rarest class",
        )  # fmt: skip
    return parser


def register_as(suffix, methods, **overrides) -> list[str]:
    """Register each of ``methods`` (comma-separated) as ``f"{method}+{suffix}"``.

    The same estimator and parameters under the probe's own name, so that its
    records never pass for the defaults'; ``overrides`` change parameters.
    Returns the new names.
    """
    from skscor._variants import VARIANTS, Variant

    names = []
    for method in methods.split(","):
        names.append(f"{method}+{suffix}")
        base = VARIANTS[method]
        VARIANTS[names[-1]] = (
            Variant(
                base.estimator,
                {**base.params, **overrides},
                f"{base.description}; probe {suffix}: {overrides}",
                base.kind,
            )
            if overrides
            else base
        )
    return names


def run_natural_as(suffix, args, **overrides) -> None:
    """Run the natural benchmark on ``--method`` under :func:`register_as`'s
    names (with ``overrides`` of the estimators' parameters)."""
    from .. import natural

    names = register_as(suffix, args.method, **overrides)
    cut = getattr(args, "cut_minority", None)
    natural.main([
        "--tasks", args.tasks, "--methods", ",".join(names),
        "--seeds", args.seeds, "--out", args.out,
        *(["--cut-minority", str(cut)] if cut is not None else []),
    ])  # fmt: skip


def run_preprocessing_builtin(args) -> None:
    """Run the preprocessing benchmark's raw-frame arm (``builtin``) for each
    ``--method``; its records keep the method name ``builtin``, so ``--out``
    should be a file of the probe's own."""
    from .. import preprocessing

    preprocessing.main([
        "quality", "--seeds", args.seeds, "--tasks", *args.tasks.split(","),
        "--methods", "builtin", "--estimators", *args.method.split(","),
        "--threads", "1", "--json", args.out, "--resume",
    ])  # fmt: skip


def members_one_by_one() -> None:
    """Train every ensemble member on its own (no lockstep), in this process.

    The lockstep (``skscor._lockstep``) trains the members through
    ``MLP.forward_stacked`` and its own fused step, so a probe that replaces the
    network's ``forward`` or the net's step would be bypassed there: its
    records would be the defaults' for every member after the first. Every
    probe that patches either calls this first.
    """
    from skscor import _training

    _training._TrainingMixin._lockstep = False


def run_natural(mlp_class, suffix, args) -> None:
    """Run the natural benchmark with ``mlp_class`` as every estimator's network,
    under :func:`run_natural_as`'s names (members trained one by one)."""
    from skscor import _training

    members_one_by_one()
    _training.MLP = mlp_class
    run_natural_as(suffix, args)


def fit_and_score(est, X, y, X_test, y_test) -> dict:
    """Fit ``est`` (warnings silenced) and score it on the test rows: fit
    seconds, balanced accuracy, worst-class recall and each member's epochs."""
    import time
    import warnings

    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, recall_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t0
    pred = est.predict(X_test)
    return {
        "seconds": seconds,
        "bacc": balanced_accuracy_score(y_test, pred),
        "wcr": float(np.min(recall_score(y_test, pred, average=None))),
        "epochs": [len(net.history) for net in est.members_],
    }


def run_alternated(args, fit, labels) -> None:
    """Two modes of the same fits, alternated in one process, on the natural
    tasks: ``fit(method, X, y, X_test, y_test, seed, mode)`` for ``mode`` False
    and True (False first on even seeds), 1 thread. One JSON record per task,
    method and seed, appended to ``args.out``: each mode's result under its
    label (``labels = (label_false, label_true)``), the speedup of True over
    False and whether every member stopped at the same epoch."""
    import json

    import torch

    from .. import _natural

    torch.set_num_threads(1)
    # The process's first optimizer pays a one-time import (about 2 s): not
    # either mode's cost.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    tasks = list(_natural.TASKS) if args.tasks == "all" else args.tasks.split(",")
    with open(args.out, "a") as out:
        for task in tasks:
            for seed in (int(s) for s in args.seeds.split(",")):
                X, y, Xt, yt = _natural.split_task(task, seed)
                for method in args.method.split(","):
                    order = (False, True) if seed % 2 == 0 else (True, False)
                    got = {
                        mode: fit(method, X, y, Xt, yt, seed, mode) for mode in order
                    }
                    a, b = got[False], got[True]
                    record = {
                        "task": task,
                        "method": method,
                        "seed": seed,
                        labels[0]: a,
                        labels[1]: b,
                        "speedup": a["seconds"] / b["seconds"],
                        "same_epochs": a["epochs"] == b["epochs"],
                    }
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                    print(
                        f"{task:18s} {method:6s} seed {seed}: "
                        f"{a['seconds']:6.1f} s -> {b['seconds']:6.1f} s "
                        f"({record['speedup']:.2f}x) bacc {a['bacc']:.3f}/"
                        f"{b['bacc']:.3f} wcr {a['wcr']:.3f}/{b['wcr']:.3f} "
                        f"same epochs {record['same_epochs']}",
                        flush=True,
                    )
