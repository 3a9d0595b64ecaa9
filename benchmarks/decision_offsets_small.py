"""Decision offsets on the small quality tasks where they can act.

``decision_offsets='auto'`` chooses offsets only when every class has 100 or
more held-out rows; of the 26 quality tasks that holds for ``segment0`` and
``page-blocks0`` (the others have 1-83 rows of their rarest class). Each
estimator is fitted once per task and seed and scored twice on the test rows:
with its offsets and with the plain argmax (``decision_offsets_`` zeroed, the
same networks).

    python -m benchmarks.decision_offsets_small --out FILE
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from skscor._variants import build
from skscor.metrics import class_disparity

from ._data import available_names, make_task

TASKS = ("natural:segment0", "natural:page-blocks0")


def run(out: Path, methods, seeds) -> None:
    names = [n for n in available_names() if n in TASKS]
    for seed in seeds:
        for name in names:
            task = make_task(name, seed)
            for method in methods:
                clf = build(method, random_state=seed, n_threads=1)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf.fit(task.X_train, task.y_train)
                fit_s = time.perf_counter() - t0
                tuned = class_disparity(task.y_test, clf.predict(task.X_test))
                offsets = clf.decision_offsets_.copy()
                clf.decision_offsets_[:] = 0.0
                plain = class_disparity(task.y_test, clf.predict(task.X_test))
                rec = {
                    "task": name,
                    "seed": seed,
                    "v": method,
                    "bacc": float(tuned.balanced_accuracy),
                    "wcr": float(tuned.worst_class_recall),
                    "plain_bacc": float(plain.balanced_accuracy),
                    "plain_wcr": float(plain.worst_class_recall),
                    "decision_offsets": offsets.tolist(),
                    "t": fit_s,
                }
                with out.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--methods", default="scor,focal,sam,mr2")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args(argv)
    run(
        args.out,
        args.methods.split(","),
        [int(s) for s in args.seeds.split(",")],
    )


if __name__ == "__main__":
    main()
