"""Natural tabular tasks with 5,000+ training rows: skscor against its peers.

Every method gets the raw frame of :mod:`benchmarks._natural` (original
dtypes, categoricals as ``category``, NaN kept): skscor estimators condition
it themselves (``preprocessing='robust'``, categoricals from dtype); the
peers are class-balanced:

lr       LogisticRegression(class_weight='balanced', max_iter=2000) behind a
         ColumnTransformer (numeric: median imputation, missing indicators,
         StandardScaler; categorical: most-frequent imputation, one-hot with
         handle_unknown='ignore')
hgb      HistGradientBoostingClassifier(class_weight='balanced',
         categorical_features='from_dtype')
lgbm     LGBMClassifier(class_weight='balanced', n_jobs=1) on the category
         dtypes
realmlp  pytabkit's RealMLP_TD_Classifier at its defaults (n_threads=1,
         device='cpu'); it takes no missing numeric value, so numeric NaN are
         median-imputed with missing indicators in front of it (unbalanced:
         RealMLP has no class weights)
brf      imblearn's BalancedRandomForestClassifier(n_jobs=1) at its defaults
         (each tree on a balanced bootstrap) behind lr's ColumnTransformer
         without the scaler

Any name of the registry ``skscor._variants`` is a method too
(``build(name, random_state=seed, n_threads=1)``). One JSON line per (task,
method, seed) is appended to ``--out``; rows already there are skipped
(resumable). An exception in one row is recorded, with its message, and the
run goes on. ``--report FILE.md`` reads jsonl files into a markdown report.

``python -m benchmarks.natural --methods lr,hgb,lgbm --seeds 0,1,2 --out
benchmarks/results/natural_peers.jsonl``
``python -m benchmarks.natural --report natural.md --inputs a.jsonl b.jsonl``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from ._common import markdown_table, set_threads, source_version
from ._natural import (
    ALL_TASKS,
    CUT_TASKS,
    MAIN_TASKS,
    TASKS,
    describe,
    rarest_class,
    split_task,
)

BASE_PEERS = ("lr", "hgb", "lgbm")
# reported beside the base peers, each with its own win count: RealMLP-TD (the
# issue names it) and BalancedRandomForest (the kept-aside evaluation's best
# peer in worst-class recall)
EXTRA_PEERS = ("realmlp", "brf")
PEERS = (*BASE_PEERS, *EXTRA_PEERS)
PEER_SPECS = {
    "lr": "LogisticRegression(class_weight='balanced', max_iter=2000), "
    "ColumnTransformer: median + indicator + StandardScaler / most-frequent + "
    "one-hot",
    "hgb": "HistGradientBoostingClassifier(class_weight='balanced', "
    "categorical_features='from_dtype')",
    "lgbm": "LGBMClassifier(class_weight='balanced', n_jobs=1, verbose=-1)",
    "realmlp": "pytabkit RealMLP_TD_Classifier(n_threads=1, device='cpu'), "
    "numeric NaN median-imputed with indicators",
    "brf": "imblearn BalancedRandomForestClassifier(n_jobs=1) at its defaults "
    "(100 trees, each on a balanced bootstrap), ColumnTransformer: median + "
    "indicator / most-frequent + one-hot",
}
SMOKE_TASKS = ("default", "marketing")
SMOKE_METHODS = ("scor", "lr")
SMOKE_ROWS = 600
N_BINS = 15


# ------------------------------------------------------------------ methods
def _columns(scale=True):
    """Numeric: median + missing indicator (+ StandardScaler); categorical:
    most frequent + one-hot. The hand-built front of the peers without native
    categoricals and NaN."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler() if scale else "passthrough",
    )
    categorical = make_pipeline(
        # category columns as object: SimpleImputer reads NaN there
        FunctionTransformer(lambda X: X.astype(object), feature_names_out="one-to-one"),
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    return ColumnTransformer(
        [
            ("num", numeric, make_column_selector(dtype_include="number")),
            ("cat", categorical, make_column_selector(dtype_include="category")),
        ]
    )


def _lr():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        _columns(), LogisticRegression(class_weight="balanced", max_iter=2000)
    )


def _brf(seed):
    from imblearn.ensemble import BalancedRandomForestClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        _columns(scale=False),
        BalancedRandomForestClassifier(random_state=seed, n_jobs=1),
    )


class RealMLP:
    """pytabkit's RealMLP-TD at its defaults, numeric NaN imputed in front
    (the training median, and a missing indicator per column with NaN in
    training)."""

    def __init__(self, seed):
        self.seed = seed

    def _impute(self, X):
        X = X.copy()
        for c in self.flagged_:
            X[f"{c}__nan"] = X[c].isna().astype(np.float64)
        for c, med in self.medians_.items():
            X[c] = X[c].fillna(med)
        return X

    def fit(self, X, y):
        import pandas as pd
        from pytabkit import RealMLP_TD_Classifier

        numeric = [
            c for c in X.columns if not isinstance(X[c].dtype, pd.CategoricalDtype)
        ]
        # every numeric column's median: a test row may miss a value that no
        # training row missed (nass_cds); indicators where training had NaN
        self.medians_ = {c: float(X[c].median()) for c in numeric}
        self.flagged_ = [c for c in numeric if X[c].isna().any()]
        self.model_ = RealMLP_TD_Classifier(
            n_threads=1, random_state=self.seed, device="cpu", verbosity=0
        )
        self.model_.fit(self._impute(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(self._impute(X))

    def predict_proba(self, X):
        return self.model_.predict_proba(self._impute(X))


def make_method(name, seed, overrides=None):
    """A new model of ``name``: a peer, or a registry variant of skscor."""
    if name == "lr":
        return _lr()
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            class_weight="balanced",
            categorical_features="from_dtype",
            random_state=seed,
        )
    if name == "lgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            class_weight="balanced", random_state=seed, verbose=-1, n_jobs=1
        )
    if name == "realmlp":
        return RealMLP(seed)
    if name == "brf":
        return _brf(seed)
    from skscor._variants import build

    return build(name, random_state=seed, n_threads=1, **(overrides or {}))


def check_methods(names):
    from skscor._variants import VARIANTS

    unknown = [n for n in names if n not in PEERS and n not in VARIANTS]
    if unknown:
        raise SystemExit(
            f"unknown method(s) {unknown}; peers: {', '.join(PEERS)}; "
            f"registry: {', '.join(VARIANTS)}"
        )


# ------------------------------------------------------------------ metrics
def ece(y, proba, n_bins=N_BINS, weights=None):
    """Expected calibration error on the max probability, equal-width bins.

    ``weights``: row weights (the balanced form weights each class's rows by
    the inverse of its count, as if the classes were equally frequent).
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            wm = w[m]
            gap = np.average(correct[m], weights=wm) - np.average(conf[m], weights=wm)
            total += wm.sum() * abs(gap)
    return float(total / w.sum())


def balanced_weights(y, n_classes):
    """Row weights that make every class present in ``y`` weigh the same."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return 1.0 / counts[y]


def calibration(y_test, proba, n_classes):
    """Log-loss, Brier score and ECE, plain and under a uniform class prior."""
    from sklearn.metrics import log_loss

    labels = np.arange(n_classes)
    onehot = np.eye(n_classes)[y_test]
    bw = balanced_weights(y_test, n_classes)
    p = np.clip(proba, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    sq = ((proba - onehot) ** 2).sum(axis=1)
    return {
        "log_loss": float(log_loss(y_test, p, labels=labels)),
        "brier": float(sq.mean()),
        "ece": ece(y_test, proba),
        # The same under a uniform class prior (each class's rows weighing
        # the same): what the balanced default output answers for.
        "bal_log_loss": float(log_loss(y_test, p, labels=labels, sample_weight=bw)),
        "bal_brier": float(np.average(sq, weights=bw)),
        "bal_ece": ece(y_test, proba, weights=bw),
    }


def output_calibration(model, X, y):
    """Calibration of a fitted model's probabilities on the test rows ``X, y``.

    :func:`calibration`'s keys; for an skscor estimator also its
    ``output_prior='training'`` output (keys prefixed ``prior_``) and both
    outputs at temperature 1 (``t1_``, ``prior_t1_``): what its fitted
    temperatures did. The model's parameters are restored.
    """
    y = np.asarray(y).astype(int)
    k = int(max(np.max(np.asarray(model.classes_, dtype=int)), y.max())) + 1
    rec = calibration(y, full_proba(model, X, k), k)
    temps = getattr(model, "output_temperatures_", None)
    if temps is None:
        return rec
    rec["output_temperatures"] = dict(temps)
    kept = model.get_params()
    runs = (("prior_", "training", "auto"), ("t1_", None, 1.0))
    runs += (("prior_t1_", "training", 1.0),)
    try:
        for prefix, out, t in runs:
            model.set_params(output_prior=out, output_temperature=t)
            for key, v in calibration(y, full_proba(model, X, k), k).items():
                rec[prefix + key] = v
    finally:
        model.set_params(
            output_prior=kept["output_prior"],
            output_temperature=kept["output_temperature"],
        )
    return rec


def metrics(y_test, pred, proba, n_classes, rare):
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    labels = np.arange(n_classes)
    recalls = recall_score(y_test, pred, labels=labels, average=None, zero_division=0)
    return {
        "bacc": float(balanced_accuracy_score(y_test, pred)),
        "wcr": float(recalls.min()),
        "macro_f1": float(
            f1_score(y_test, pred, labels=labels, average="macro", zero_division=0)
        ),
        **calibration(y_test, proba, n_classes),
        "rare_class": int(rare),
        "rare_mean_proba": float(proba[:, rare].mean()),
        "rare_test_rate": float((y_test == rare).mean()),
        "recalls": [float(r) for r in recalls],
    }


def full_proba(model, X, n_classes):
    """``predict_proba`` with one column per label 0..K-1."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    out = np.zeros((len(proba), n_classes))
    out[:, np.asarray(model.classes_, dtype=int)] = proba
    return out


def run_one(task, method, seed, split, overrides=None, version=None) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    X_tr, y_tr, X_te, y_te = split
    n_classes = int(max(y_tr.max(), y_te.max()) + 1)
    rare = rarest_class(y_tr)
    rec = {"task": task, "method": method, "seed": seed}
    rec.update(describe(X_tr, y_tr))
    rec["n_test"] = int(len(y_te))
    if overrides:
        rec["overrides"] = overrides
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = make_method(method, seed, overrides)
            t0 = time.perf_counter()
            model.fit(X_tr, y_tr)
            rec["fit_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            pred = np.asarray(model.predict(X_te)).astype(int)
            proba = full_proba(model, X_te, n_classes)
            rec["predict_s"] = time.perf_counter() - t0
            rec.update(metrics(y_te, pred, proba, n_classes, rare))
            if hasattr(model, "output_prior"):  # a skscor estimator
                # The same fit answering for the training frequencies: a
                # prediction-time choice, so no refit (keys prefixed prior_).
                model.set_params(output_prior="training")
                pred_p = np.asarray(model.predict(X_te)).astype(int)
                proba_p = full_proba(model, X_te, n_classes)
                rec.update(
                    {
                        f"prior_{k}": v
                        for k, v in metrics(
                            y_te, pred_p, proba_p, n_classes, rare
                        ).items()
                    }
                )
                temps = getattr(model, "output_temperatures_", None)
                if temps is not None:
                    # The same fit's probabilities at temperature 1 (keys
                    # prefixed t1_ and prior_t1_): what the temperatures did.
                    rec["output_temperatures"] = dict(temps)
                    model.set_params(output_temperature=1.0)
                    for key, out in (("prior_t1_", "training"), ("t1_", None)):
                        model.set_params(output_prior=out)
                        proba_1 = full_proba(model, X_te, n_classes)
                        pred_1 = np.asarray(model.predict(X_te)).astype(int)
                        rec.update(
                            {
                                f"{key}{k}": v
                                for k, v in metrics(
                                    y_te, pred_1, proba_1, n_classes, rare
                                ).items()
                            }
                        )
                    model.set_params(output_temperature="auto")
                model.set_params(output_prior=None)
                if hasattr(model, "numeric_embedding_"):
                    # what numeric_embedding='auto' chose, and on what scores
                    rec["numeric_embedding"] = model.numeric_embedding_
                    scores = getattr(model, "numeric_embedding_scores_", None)
                    if scores is not None:
                        rec["numeric_embedding_scores"] = scores
                offsets = getattr(model, "decision_offsets_", None)
                if offsets is not None:
                    rec["decision_offsets"] = [float(b) for b in offsets]
                if offsets is not None and np.any(offsets):
                    # The same fit deciding by the plain argmax (keys
                    # prefixed plain_): what the offsets changed.
                    model.decision_offsets_ = np.zeros_like(offsets)
                    pred_0 = np.asarray(model.predict(X_te)).astype(int)
                    proba_0 = full_proba(model, X_te, n_classes)
                    model.decision_offsets_ = offsets
                    rec.update(
                        {
                            f"plain_{k}": v
                            for k, v in metrics(
                                y_te, pred_0, proba_0, n_classes, rare
                            ).items()
                        }
                    )
            n_iter = getattr(model, "n_iter_", None)
            if n_iter is not None:  # LogisticRegression's is an array
                rec["n_iter"] = int(np.max(n_iter))
        except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
            rec["error"] = f"{type(exc).__name__}: {exc}"[:2000]
            # file names only: a record names no path of the machine it ran on
            rec["traceback"] = re.sub(
                r'File "[^"]*/([^/"]+)"', r'File "\1"', traceback.format_exc()
            )[-4000:]
    rec["n_convergence_warnings"] = sum(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    rec["warnings"] = sorted({w.category.__name__ for w in caught})
    rec["version"] = version or source_version()
    return rec


def run(args) -> None:
    tasks = args.tasks
    methods = args.methods
    check_methods(methods)
    # the checkout when this process imports skscor: the code every row runs
    # (a later edit of the checkout does not reach a running process)
    version = source_version()
    out = args.out
    cut = args.cut_minority
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            if r.get("cut_minority") == cut:
                done.add((r["task"], r["method"], r["seed"]))
    overrides = {"max_iter": args.max_iter} if args.max_iter else None
    out.parent.mkdir(parents=True, exist_ok=True)
    # seeds outermost: a run stopped early leaves whole seeds
    for seed in args.seeds:
        for task in tasks:
            todo = [m for m in methods if (task, m, seed) not in done]
            if not todo:
                continue
            split = split_task(task, seed, max_rows=args.max_rows, cut_minority=cut)
            for method in todo:
                ov = overrides if method not in PEERS else None
                rec = run_one(task, method, seed, split, ov, version)
                if cut is not None:
                    rec["cut_minority"] = cut
                with out.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                short = {
                    k: round(v, 3) if isinstance(v, float) else v
                    for k, v in rec.items()
                    if k in ("task", "method", "seed", "bacc", "wcr", "fit_s",
                             "n_iter", "error")
                }  # fmt: skip
                print(json.dumps(short), file=sys.stderr, flush=True)


# ------------------------------------------------------------------- report
def _read(paths):
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in Path(path).read_text().splitlines()]
    cuts = {r.get("cut_minority") for r in rows}
    if len(cuts) > 1:
        # the same task names would stand for different training sets
        raise SystemExit(
            "the inputs mix --cut-minority runs "
            f"({', '.join(sorted('none' if c is None else str(c) for c in cuts))}); "
            "report each on its own"
        )
    # the last record of a (task, method, seed) wins
    latest = {(r["task"], r["method"], r["seed"]): r for r in rows}
    return list(latest.values())


def _mean(rows, key):
    vals = [r[key] for r in rows if key in r]
    return float(np.mean(vals)) if vals else float("nan")


def _pm(rows, key, digits=3):
    vals = [r[key] for r in rows if key in r]
    if not vals:
        return "-"
    return f"{np.mean(vals):.{digits}f} ± {np.std(vals):.{digits}f}"


def _summary(tasks, methods, means, ok) -> list:
    """Wins against the best peer and mean ranks over ``tasks``."""
    from scipy.stats import rankdata

    out = []
    skscor_methods = [m for m in methods if m not in PEERS]
    base = [p for p in BASE_PEERS if p in methods]
    if skscor_methods and base:
        extra = [p for p in EXTRA_PEERS if p in methods]
        body = []
        for m in skscor_methods:
            w_wcr = w_bacc = n = 0
            vs = {p: [0, 0, 0] for p in extra}  # WCR wins, bacc wins, tasks
            worst = (np.inf, "")
            for t in tasks:
                if (t, m) not in means or not all((t, p) in means for p in base):
                    continue
                n += 1
                best_wcr = max(means[(t, p)]["wcr"] for p in base)
                best_bacc = max(means[(t, p)]["bacc"] for p in base)
                mine = means[(t, m)]
                w_wcr += mine["wcr"] > best_wcr
                w_bacc += mine["bacc"] > best_bacc
                if best_wcr > 0:
                    ratio = mine["wcr"] / best_wcr
                else:  # no peer recalls every class
                    ratio = 1.0 if mine["wcr"] == 0 else np.inf
                if ratio < worst[0]:
                    worst = (ratio, t)
                for p in extra:
                    if (t, p) in means:
                        vs[p][0] += mine["wcr"] > means[(t, p)]["wcr"]
                        vs[p][1] += mine["bacc"] > means[(t, p)]["bacc"]
                        vs[p][2] += 1
            cells = []
            for p in extra:
                wins_wcr, wins_bacc, n_p = vs[p]
                cells += (
                    [f"{wins_wcr}/{n_p}", f"{wins_bacc}/{n_p}"] if n_p else ["-"] * 2
                )
            body.append([
                m, f"{w_wcr}/{n}", f"{w_bacc}/{n}", *cells,
                f"{worst[0]:.3f} ({worst[1]})" if n else "-",
            ])  # fmt: skip
        out += [
            "Wins on the mean over seeds against the best of "
            f"{{{', '.join(base)}}} on each task (the best peer differs by task "
            "and metric), and against "
            + (", ".join(extra) if extra else "no other peer")
            + " where it ran; a tie counts as a loss.",
            "",
            markdown_table(
                [
                    "method",
                    "WCR > best peer",
                    "bacc > best peer",
                    *[f"{k} > {p}" for p in extra for k in ("WCR", "bacc")],
                    "worst WCR / best peer's WCR (task)",
                ],
                body,
            ),  # fmt: skip
            "",
        ]
    # mean ranks over the tasks where every method has results
    common = [t for t in tasks if all((t, m) in means for m in methods)]
    if common:
        ranks = {k: {m: [] for m in methods} for k in ("wcr", "bacc")}
        for t in common:
            for k in ranks:
                rk = rankdata([-means[(t, m)][k] for m in methods])
                for m, r in zip(methods, rk, strict=True):
                    ranks[k][m].append(r)
        body = [
            [m, np.mean(ranks["wcr"][m]), np.mean(ranks["bacc"][m]),
             np.mean([means[(t, m)]["wcr"] for t in common]),
             np.mean([means[(t, m)]["bacc"] for t in common]),
             np.mean([_mean([r for r in ok if r["task"] == t and r["method"] == m],
                            "fit_s") for t in common])]
            for m in methods
        ]  # fmt: skip
        body.sort(key=lambda row: row[1])
        out += [
            f"Mean rank over the {len(common)} tasks where every method ran "
            f"({', '.join(common)}; 1 = best; mean over seeds per task):",
            "",
            markdown_table(
                [
                    "method",
                    "mean rank WCR",
                    "mean rank bacc",
                    "mean WCR",
                    "mean bacc",
                    "mean fit s",
                ],
                body,
            ),  # fmt: skip
            "",
        ]
    return out


def _offsets_summary(tasks, methods, ok) -> list:
    """Each skscor method with its decision offsets against the plain argmax.

    A record without ``plain_*`` keys chose zero offsets (or predates them:
    such records carry no ``decision_offsets`` and are left out).
    """
    body = []
    for m in methods:
        d = {k: [] for k in ("bacc", "wcr", "log_loss", "ece")}
        moved = n_rec = 0
        for t in tasks:
            rs = [r for r in ok if r["task"] == t and r["method"] == m]
            rs = [r for r in rs if "decision_offsets" in r]
            if not rs:
                continue
            n_rec += len(rs)
            moved += sum("plain_bacc" in r for r in rs)
            for k in d:
                d[k].append(np.mean([r[k] - r.get(f"plain_{k}", r[k]) for r in rs]))
        if not d["bacc"]:
            continue
        up = {k: sum(v > 0 for v in d[k]) for k in ("bacc", "wcr")}
        down = {k: sum(v < 0 for v in d[k]) for k in ("bacc", "wcr")}
        body.append([
            m, len(d["bacc"]), f"{moved}/{n_rec}",
            f"{np.mean(d['bacc']):+.4f} ({up['bacc']}/{down['bacc']})",
            f"{np.mean(d['wcr']):+.4f} ({up['wcr']}/{down['wcr']})",
            f"{np.mean(d['log_loss']):+.4f}", f"{np.mean(d['ece']):+.4f}",
        ])  # fmt: skip
    if not body:
        return []
    return [
        "## Decision offsets against the plain argmax of the same fits",
        "",
        "Mean over tasks of the per-task mean difference (offsets minus plain "
        "argmax; tasks up/down); records: fits whose offsets were not all zero.",
        "",
        markdown_table(
            [
                "method",
                "tasks",
                "records with offsets",
                "d bacc (up/down)",
                "d WCR (up/down)",
                "d log-loss",
                "d ECE",
            ],
            body,
        ),
        "",
    ]


def report(paths, command=None) -> str:

    rows = _read(paths)
    cut = rows[0].get("cut_minority") if rows else None
    ok = [r for r in rows if "error" not in r]
    tasks = [t for t in ALL_TASKS if any(r["task"] == t for r in rows)]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    methods = [m for m in PEERS if m in methods] + [
        m for m in methods if m not in PEERS
    ]
    skscor_methods = [m for m in methods if m not in PEERS]
    out = ["# Natural tabular tasks with 5,000+ training rows", ""]
    if command:
        out += [f"Command: `{command}`", ""]
    versions = sorted({r.get("version", "?") for r in rows})
    out += [
        f"Read {len(rows)} records from {', '.join(Path(p).name for p in paths)} "
        f"(skscor commits {', '.join(versions)}); {len(rows) - len(ok)} failed.",
        "Stratified 80/20 split per seed (training capped at 20,000 rows, "
        "stratified); 1 thread; metrics on the test rows. bacc: balanced "
        "accuracy; WCR: worst-class recall; ECE: 15 equal-width bins on the "
        "max probability; Brier: sum over classes, mean over rows; rare p / "
        "rate: mean predicted probability of the rarest training class against "
        "its test rate.",
        "",
    ]
    if cut is not None:
        out += [
            f"Minority cut: {cut} training rows of each task's rarest class "
            "kept (`--cut-minority`), the test rows as drawn.",
            "",
        ]
    out += [f"- `{m}`: {PEER_SPECS[m]}" for m in methods if m in PEER_SPECS]
    if skscor_methods:
        out.append(
            "- skscor: `build(name, random_state=seed, n_threads=1)` from the "
            "registry, raw frame in: " + ", ".join(f"`{m}`" for m in skscor_methods)
        )
    out += ["", "## Tasks", ""]
    trows = []
    for t in tasks:
        first = min((r for r in rows if r["task"] == t), key=lambda r: r["seed"])
        spec = ALL_TASKS[t]
        trows.append([
            t, spec.source.split(":")[1], spec.outcome, first["n_train"],
            first["n_test"], f"{first['n_numeric']}/{first['n_categorical']}",
            first["n_classes"], f"{first['imbalance_ratio']:.1f}",
            f"{first['pct_nan']:.2f}", spec.note or "",
        ])  # fmt: skip
    out += [
        markdown_table(
            [
                "task",
                "source",
                "outcome",
                "n_train",
                "n_test",
                "num/cat",
                "classes",
                "imbalance (train)",
                "% NaN",
                "flag",
            ],
            trows,
        ),  # fmt: skip
        "",
        "Sizes of seed 0 (penbased-lt10's long tail varies a little with the seed).",
        "",
    ]

    # per task tables
    means = {}  # (task, method) -> {metric: mean over seeds}
    out += ["## Per task (mean ± sd over seeds)", ""]
    for t in tasks:
        out += [f"### {t}", ""]
        body = []
        for m in methods:
            rs = [r for r in ok if r["task"] == t and r["method"] == m]
            errs = [r for r in rows if r["task"] == t and r["method"] == m]
            n_err = len(errs) - len(rs)
            if not errs:
                continue
            if rs:
                means[(t, m)] = {
                    k: _mean(rs, k)
                    for k in ("bacc", "wcr", "macro_f1", "log_loss", "brier", "ece")
                }
            conv = sum(r.get("n_convergence_warnings", 0) for r in rs)
            iters = [r["n_iter"] for r in rs if "n_iter" in r]
            body.append([
                m, len(rs), _pm(rs, "bacc"), _pm(rs, "wcr"), _pm(rs, "macro_f1"),
                _pm(rs, "log_loss"), _pm(rs, "brier"), _pm(rs, "ece"),
                (f"{_mean(rs, 'rare_mean_proba'):.3f} / "
                 f"{_mean(rs, 'rare_test_rate'):.3f}") if rs else "-",
                _pm(rs, "fit_s", 1),
                f"{np.mean(iters):.0f}" if iters else "-",
                conv, n_err,
            ])  # fmt: skip
        out += [
            markdown_table(
                [
                    "method",
                    "seeds",
                    "bacc",
                    "WCR",
                    "macro-F1",
                    "log-loss",
                    "Brier",
                    "ECE",
                    "rare p / rate",
                    "fit s",
                    "n_iter",
                    "conv. warnings",
                    "errors",
                ],
                body,
            ),  # fmt: skip
            "",
        ]

    # summaries: every task, then the main ones
    main_tasks = [t for t in tasks if t in MAIN_TASKS]
    out += ["## Summary: all tasks", ""]
    out += _summary(tasks, methods, means, ok)
    if main_tasks and main_tasks != tasks:
        out += [
            f"## Summary: the {len(main_tasks)} unflagged tasks (5,000+ training rows)",
            "",
        ]
        out += _summary(main_tasks, methods, means, ok)
    out += _offsets_summary(tasks, skscor_methods, ok)
    failed = [r for r in rows if "error" in r]
    if failed:
        out += ["## Failures", ""]
        out += [
            f"- {r['task']} / {r['method']} / seed {r['seed']}: `{r['error'][:300]}`"
            for r in failed
        ]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------- main
def _list(text):
    return [s.strip() for s in text.split(",") if s.strip()]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=_list, default=None,
                   help="comma-separated; default: the main tasks "
                   f"({', '.join(MAIN_TASKS)}); 'all' adds the extras; "
                   "'cut' selects the sets for --cut-minority")  # fmt: skip
    p.add_argument("--methods", type=_list, default=None,
                   help="comma-separated peers and registry names")  # fmt: skip
    p.add_argument("--seeds", type=lambda s: [int(v) for v in _list(s)],
                   default=[0, 1, 2])  # fmt: skip
    p.add_argument("--out", type=Path, help="append JSON lines here")
    p.add_argument("--max-iter", type=int, default=None,
                   help="override max_iter of the skscor estimators")  # fmt: skip
    p.add_argument("--max-rows", type=int, default=None,
                   help="subsample every task to this many rows first")  # fmt: skip
    p.add_argument("--cut-minority", type=int, default=None, metavar="M",
                   help="keep M training rows of each task's rarest class "
                   "(test rows as drawn); records carry cut_minority")  # fmt: skip
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--report", type=Path, help="write a markdown report here")
    p.add_argument("--inputs", nargs="*", type=Path,
                   help="jsonl files for --report (default: --out)")  # fmt: skip
    p.add_argument("--smoke", action="store_true",
                   help=f"tasks {SMOKE_TASKS} at {SMOKE_ROWS} rows, methods "
                   f"{SMOKE_METHODS}, max_iter=5, seed 0")  # fmt: skip
    args = p.parse_args(argv)
    set_threads(args.threads)
    if args.smoke:
        args.tasks = args.tasks or list(SMOKE_TASKS)
        args.methods = args.methods or list(SMOKE_METHODS)
        args.max_iter = args.max_iter or 5
        args.max_rows = args.max_rows or SMOKE_ROWS
        if argv is None or "--seeds" not in argv:
            args.seeds = [0]
    if args.tasks == ["all"]:
        args.tasks = list(TASKS)
    if args.tasks == ["cut"]:
        args.tasks = list(CUT_TASKS)
    args.tasks = args.tasks or list(MAIN_TASKS)
    unknown = [t for t in args.tasks if t not in ALL_TASKS]
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; known: {', '.join(ALL_TASKS)}")
    if args.methods:
        if args.out is None:
            raise SystemExit("--out FILE.jsonl is needed to run methods")
        run(args)
    if args.report:
        inputs = args.inputs or ([args.out] if args.out else [])
        if not inputs:
            raise SystemExit("--report needs --inputs or --out")
        command = "python -m benchmarks.natural " + " ".join(
            str(a) for a in (argv if argv is not None else sys.argv[1:])
        )
        args.report.write_text(report(inputs, command) + "\n")


if __name__ == "__main__":
    main()
