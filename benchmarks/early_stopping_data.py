"""Early stopping's cost: the stopping rule, or the rows it holds out?

``SCoRClassifier()`` trained *without* early stopping on a stratified 90% of
each quality task's training split (the share ``early_stopping=True`` trains
on with ``validation_fraction=0.1``), 3 seeds, one JSON line per (task, seed)
in the format of ``benchmarks.defaults_study`` (variant ``scor_bal_90pct``),
so that its table can be set beside the defaults study's ``scor_bal`` and
``scor_bal_es`` rows.

``python -m benchmarks.early_stopping_data --jsonl rows90.jsonl``
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import torch
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from skscor import SCoRClassifier
from skscor._variants import SINGLE
from skscor.metrics import class_disparity

from ._data import available_names, make_task


def run(path: Path, seeds: int, fraction: float) -> None:
    with path.open("a") as out:
        for seed in range(seeds):
            for name in available_names():
                task = make_task(name, seed)
                kw = {"n_splits": 1, "test_size": fraction, "random_state": seed}
                try:
                    split = StratifiedShuffleSplit(**kw).split(
                        task.X_train, task.y_train
                    )
                    rows, _ = next(split)
                except ValueError:  # a class too small to stratify
                    rows, _ = next(ShuffleSplit(**kw).split(task.X_train))
                # 0.2's default training: one network, no held-out split
                clf = SCoRClassifier(random_state=seed, **SINGLE)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf.fit(task.X_train[rows], task.y_train[rows])
                seconds = time.perf_counter() - t0
                rep = class_disparity(task.y_test, clf.predict(task.X_test))
                record = {
                    "task": name,
                    "seed": seed,
                    "v": "scor_bal_90pct",
                    "wcr": float(rep.worst_class_recall),
                    "bacc": float(rep.balanced_accuracy),
                    "n_iter": int(clf.n_iter_),
                    "t": seconds,
                }
                out.write(json.dumps(record) + "\n")
                out.flush()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--jsonl", type=Path, default=Path("rows90.jsonl"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    run(args.jsonl, args.seeds, args.fraction)


if __name__ == "__main__":
    main()
