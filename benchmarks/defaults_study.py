"""Which imbalance handling skscor ships at its defaults: a study on the quality tasks.

Ten network variants (plain cross-entropy, SCoR unweighted / class-balanced /
with both forms of logit adjustment / with early stopping, and the balanced
defaults of Focal, SAM (static weights and DRW) and MR2) and four peers
(HistGradientBoosting, LightGBM and LogisticRegression with balanced class
weights, BalancedRandomForest) on the tasks of ``benchmarks._data``. Appends one JSON
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
from scipy.stats import rankdata

from skscor._variants import build
from skscor.metrics import class_disparity

from ._data import available_names, make_task
from ._peers import PEERS
from .natural import output_calibration

# The study's methods: registry variants (skscor._variants), then peers
# (benchmarks._peers). Results written before the registry took them over
# used other names; ALIASES reads those files.
NETWORKS = (
    "ce",
    "scor-paper",
    "scor",
    "scor+la",
    "scor+la-post-hoc",
    "scor+es",
    "scor+refit",
    "focal",
    "sam",
    "sam+drw",
    "mr2",
)
PEER_NAMES = ("hgb+balanced", "logreg+balanced", "balanced-rf") + (
    ("lgbm+balanced",) if "lgbm+balanced" in PEERS else ()
)
METHODS = NETWORKS + PEER_NAMES
ALIASES = {
    "ce_none": "ce",
    "scor_none": "scor-paper",
    "scor_bal": "scor",
    "scor_la_loss": "scor+la",
    "scor_la_post": "scor+la-post-hoc",
    "scor_bal_es": "scor+es",
    "focal_bal": "focal",
    "sam_bal": "sam+static",
    "sam_drw": "sam",
    "mr2_bal": "mr2",
    "hgb_bal": "hgb+balanced",
    "lr_bal": "logreg+balanced",
    "brf": "balanced-rf",
}
# The peers at their library defaults (HistGradientBoosting 100 rounds,
# a 100-tree balanced forest), as a practitioner would run them.
_PEER_CFG = {"brf_trees": 100, "hgb_max_iter": 100}


def make(name, seed):
    """A new model of method ``name``: a registry variant at its defaults or a peer."""
    if name in PEERS:
        return PEERS[name][1](_PEER_CFG, seed, None, None)
    return build(name, random_state=seed)


def _records(path):
    for line in path.read_text().splitlines():
        r = json.loads(line)
        r["v"] = ALIASES.get(r["v"], r["v"])
        yield r


def run(path: Path, seeds: int, methods=METHODS) -> None:
    done = set()
    if path.exists():
        for r in _records(path):
            done.add((r["task"], r["seed"], r["v"]))
    with path.open("a") as out:
        for seed in range(seeds):
            for name in available_names():
                task = make_task(name, seed)
                for v in methods:
                    if (name, seed, v) in done:
                        continue
                    clf = make(v, seed)
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
                    if hasattr(clf, "predict_proba"):
                        rec.update(output_calibration(clf, task.X_test, task.y_test))
                    out.write(json.dumps(rec) + "\n")
                    out.flush()


def table(path: Path, methods=METHODS) -> str:
    rows = list(_records(path))
    names = list(methods)
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
        base = "ce" if "ce" in names else names[0]
        ce = [mean_over_seeds(t, base, "wcr") for t in tasks]
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
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="comma-separated registry variants and peers (default: the study's)",
    )
    args = parser.parse_args(argv)
    methods = tuple(args.methods.split(","))
    torch.set_num_threads(args.threads)
    if not args.table_only:
        run(args.jsonl, args.seeds, methods)
    print(table(args.jsonl, methods))


if __name__ == "__main__":
    main()
