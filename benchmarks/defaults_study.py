"""Which imbalance handling skscor ships at its defaults: a study on the quality tasks.

Ten network variants (plain cross-entropy, SCoR unweighted / class-balanced /
with both forms of logit adjustment / with early stopping, and the balanced
defaults of Focal, SAM (static weights and DRW) and MR2) and three peers
(HistGradientBoosting and LogisticRegression with balanced class weights,
BalancedRandomForest) on the tasks of ``benchmarks._data``. Appends one JSON
line per (task, seed, variant) to ``--jsonl`` (resumable), then prints a
markdown table of mean ranks.

``python -m benchmarks.defaults_study --seeds 1 --jsonl study.jsonl``
"""

from __future__ import annotations

import argparse
import collections
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.ensemble import BalancedRandomForestClassifier
from scipy.stats import rankdata
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor.metrics import class_disparity

from ._data import available_names, make_task

VARIANTS = {
    "ce_none": lambda s: SCoRClassifier(alpha=0.0, class_weight=None, random_state=s),
    "scor_none": lambda s: SCoRClassifier(class_weight=None, random_state=s),
    "scor_bal": lambda s: SCoRClassifier(random_state=s),
    "scor_la_loss": lambda s: SCoRClassifier(
        class_weight=None, logit_adjustment="loss", random_state=s
    ),
    "scor_la_post": lambda s: SCoRClassifier(
        class_weight=None, logit_adjustment="post-hoc", random_state=s
    ),
    "scor_bal_es": lambda s: SCoRClassifier(early_stopping=True, random_state=s),
    "focal_bal": lambda s: FocalClassifier(random_state=s),
    "sam_bal": lambda s: SAMClassifier(reweighting=None, random_state=s),
    "sam_drw": lambda s: SAMClassifier(reweighting="drw", random_state=s),
    "mr2_bal": lambda s: MR2Classifier(random_state=s),
    "hgb_bal": lambda s: HistGradientBoostingClassifier(
        class_weight="balanced", random_state=s
    ),
    "lr_bal": lambda s: LogisticRegression(class_weight="balanced", max_iter=2000),
    "brf": lambda s: BalancedRandomForestClassifier(
        sampling_strategy="all", replacement=True, bootstrap=False, random_state=s
    ),
}


def run(path: Path, seeds: int) -> None:
    done = set()
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done.add((r["task"], r["seed"], r["v"]))
    with path.open("a") as out:
        for seed in range(seeds):
            for name in available_names():
                task = make_task(name, seed)
                for v, make in VARIANTS.items():
                    if (name, seed, v) in done:
                        continue
                    clf = make(seed)
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        clf.fit(task.X_train, task.y_train)
                    dt = time.perf_counter() - t0
                    rep = class_disparity(task.y_test, clf.predict(task.X_test))
                    rec = {
                        "task": name,
                        "seed": seed,
                        "v": v,
                        "wcr": float(rep.worst_class_recall),
                        "bacc": float(rep.balanced_accuracy),
                        # LogisticRegression's n_iter_ is an array.
                        "n_iter": int(np.max(getattr(clf, "n_iter_", 0))),
                        "t": dt,
                    }
                    out.write(json.dumps(rec) + "\n")
                    out.flush()


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    names = list(VARIANTS)
    cells = collections.defaultdict(dict)
    for r in rows:
        cells[(r["task"], r["seed"])][r["v"]] = r
    keys = [k for k, v in cells.items() if all(n in v for n in names)]
    tasks = sorted({t for t, _ in keys})

    def mean_over_seeds(t, v, m):
        return np.mean([cells[k][v][m] for k in keys if k[0] == t])

    lines = [
        f"{len(tasks)} tasks, {len(keys)} task-seeds complete.",
        "",
        "| method | mean rank worst-class recall | mean worst-class recall | "
        "mean rank balanced accuracy | median balanced accuracy | beats plain CE "
        "on worst-class recall | mean fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    ranks = {}
    for m in ("wcr", "bacc"):
        ranks[m] = collections.defaultdict(list)
        for t in tasks:
            rk = rankdata([-mean_over_seeds(t, v, m) for v in names])
            for v, r in zip(names, rk, strict=True):
                ranks[m][v].append(r)
    for v in names:
        wcr = [mean_over_seeds(t, v, "wcr") for t in tasks]
        bacc = [mean_over_seeds(t, v, "bacc") for t in tasks]
        ce = [mean_over_seeds(t, "ce_none", "wcr") for t in tasks]
        beats = sum(a > b for a, b in zip(wcr, ce, strict=True))
        secs = np.mean([cells[k][v]["t"] for k in keys])
        lines.append(
            f"| {v} | {np.mean(ranks['wcr'][v]):.2f} | {np.mean(wcr):.3f} | "
            f"{np.mean(ranks['bacc'][v]):.2f} | {np.median(bacc):.3f} | "
            f"{beats}/{len(tasks)} | {secs:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jsonl", type=Path, default=Path("defaults_study.jsonl"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.table_only:
        run(args.jsonl, args.seeds)
    print(table(args.jsonl))


if __name__ == "__main__":
    main()
