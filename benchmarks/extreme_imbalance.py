"""Extreme imbalance: the defaults at imbalance ratios of 500 and 4,500.

The kept-aside evaluation of the project reaches imbalance ratios of 4,500;
neither the 26 quality tasks (ratio at most 129) nor the natural tasks (at
most 29) come near. This generates such tasks: ``make_classification`` with
80,000 rows, 20 features (8 informative, 4 redundant, no label noise) and one
class of weight ``1 / (1 + ratio)``, split 75/25 stratified; at ratio 4,500
the minority has 13 training rows and 4 test rows, so its recall moves in
steps of 0.25 and only the mean over seeds says anything. Each skscor
estimator runs at its defaults (1 thread) against class-balanced
LogisticRegression (standardized features) and HistGradientBoosting.

    python -m benchmarks.extreme_imbalance --out FILE
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from skscor._variants import VARIANTS, build
from skscor.metrics import class_disparity

from ._common import set_threads, source_version
from .natural import output_calibration


def make(ratio: int, seed: int, n: int = 80_000):
    """Training and test rows of one task (``X_tr, X_te, y_tr, y_te``)."""
    X, y = make_classification(
        n_samples=n,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        weights=[1.0 - 1.0 / (1 + ratio)],
        flip_y=0.0,
        random_state=seed,
    )
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def _peer(name: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "lr":
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(class_weight="balanced", max_iter=2000),
        )
    if name == "hgb":
        return HistGradientBoostingClassifier(
            class_weight="balanced", random_state=seed
        )
    raise ValueError(f"unknown method {name!r}: 'lr', 'hgb' or a registry name")


def run(out: Path, methods, ratios, seeds, rows=80_000, max_iter=None) -> None:
    set_threads(1)
    version = source_version()
    for ratio in ratios:
        for seed in seeds:
            X_tr, X_te, y_tr, y_te = make(ratio, seed, rows)
            for method in methods:
                if method in VARIANTS:
                    extra = {} if max_iter is None else {"max_iter": max_iter}
                    clf = build(method, random_state=seed, n_threads=1, **extra)
                else:
                    clf = _peer(method, seed)
                t0 = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    clf.fit(X_tr, y_tr)
                fit_s = time.perf_counter() - t0
                rep = class_disparity(y_te, clf.predict(X_te))
                rec = {
                    "ratio": ratio,
                    "seed": seed,
                    "method": method,
                    "n_minority_train": int(y_tr.sum()),
                    "n_minority_test": int(y_te.sum()),
                    "bacc": round(float(rep.balanced_accuracy), 4),
                    "wcr": round(float(rep.worst_class_recall), 4),
                    "fit_s": round(fit_s, 2),
                    "n_iter": getattr(clf, "n_iter_", None),
                    "warnings": sorted({str(w.message)[:100] for w in caught}),
                    "version": version,
                }
                # log-loss, Brier score and ECE, plain and class-balanced (for
                # an skscor estimator also its 'training' output and both at
                # temperature 1)
                rec.update(output_calibration(clf, X_te, y_te))
                with out.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--methods", default="lr,hgb,scor,focal,sam,mr2")
    parser.add_argument("--ratios", default="500,4500")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1, help="must be 1")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1,500 rows at ratio 20, 'lr' and 'scor' with max_iter=2, seed 0",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        run(args.out, ["lr", "scor"], [20], [0], rows=1500, max_iter=2)
        return
    run(
        args.out,
        args.methods.split(","),
        [int(r) for r in args.ratios.split(",")],
        [int(s) for s in args.seeds.split(",")],
    )


if __name__ == "__main__":
    main()
