"""Probe: the ensemble's members in lockstep against one after the other.

The estimators train their members in lockstep (``skscor._lockstep``: one
fused step for all members) where that step is exact; ``_lockstep = False`` on
an instance trains them one after the other, the way 0.3 did. Both train the
same networks up to float rounding, so this measures fit time, and checks on
real tasks that the members stop at the same epochs and the test scores agree.
For each task, method and seed the two fits run in one process, alternated
(sequential first on even seeds), 1 thread; one JSON record per pair.

    python -m benchmarks.probes.lockstep --tasks all --method scor,mr2 \
        --seeds 0 --out FILE
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, recall_score

from skscor._variants import VARIANTS

from .. import _natural
from . import probe_parser


def _fit(method, X, y, Xt, yt, seed, lockstep):
    est = VARIANTS[method].build(random_state=seed, n_threads=1)
    est._lockstep = lockstep
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t0
    pred = est.predict(Xt)
    return {
        "seconds": seconds,
        "bacc": balanced_accuracy_score(yt, pred),
        "wcr": float(np.min(recall_score(yt, pred, average=None))),
        "epochs": [len(net.history) for net in est.members_],
    }


def main(argv=None):
    args = probe_parser(__doc__, tasks="all").parse_args(argv)
    torch.set_num_threads(1)
    # The process's first optimizer pays a one-time import (about 2 s):
    # not either mode's cost.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    tasks = list(_natural.TASKS) if args.tasks == "all" else args.tasks.split(",")
    with open(args.out, "a") as out:
        for task in tasks:
            for seed in (int(s) for s in args.seeds.split(",")):
                X, y, Xt, yt = _natural.split_task(task, seed)
                for method in args.method.split(","):
                    order = (False, True) if seed % 2 == 0 else (True, False)
                    got = {
                        mode: _fit(method, X, y, Xt, yt, seed, mode) for mode in order
                    }
                    seq, lock = got[False], got[True]
                    record = {
                        "task": task,
                        "method": method,
                        "seed": seed,
                        "sequential": seq,
                        "lockstep": lock,
                        "speedup": seq["seconds"] / lock["seconds"],
                        "same_epochs": seq["epochs"] == lock["epochs"],
                    }
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                    print(
                        f"{task:18s} {method:6s} seed {seed}: "
                        f"{seq['seconds']:6.1f} s -> {lock['seconds']:6.1f} s "
                        f"({record['speedup']:.2f}x) bacc {seq['bacc']:.3f}/"
                        f"{lock['bacc']:.3f} wcr {seq['wcr']:.3f}/{lock['wcr']:.3f} "
                        f"same epochs {record['same_epochs']}",
                        flush=True,
                    )


if __name__ == "__main__":
    sys.exit(main())
