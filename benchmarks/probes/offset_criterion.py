"""Probe: what the decision offsets should maximise, on the natural tasks.

``decision_offsets='auto'`` chooses per-class logit offsets on the members'
out-of-fold predictions, maximising balanced accuracy plus worst-class recall
(``skscor/_decision.py``). This probe fits each ``--method`` once per task and
seed at its defaults, keeps the out-of-fold logits the offsets were chosen on
and the test rows' averaged decision logits, and scores on the test rows the
offsets that other criteria would have chosen from the same out-of-fold rows:
balanced accuracy plus ``w`` times worst-class recall for each ``--weights``
value (``w = 1`` is the default; ``plain`` is the argmax without offsets).
One fit serves every criterion, so the comparison is paired.

    python -m benchmarks.probes.offset_criterion --tasks all \\
        --method scor,focal,sam,mr2 --seeds 0,1,2 --out FILE

``--dump DIR`` also saves each fit's out-of-fold logits and labels, the test
rows' logits without offsets and the test labels (``DIR/TASK-METHOD-SEED.npz``),
so that further criteria can be scored on them without refitting. ``--set
name=value`` (a Python literal, repeatable) changes the estimators' parameters,
as in ``benchmarks.probes.params``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import probe_parser
from .params import parse_overrides


def _scores(y, pred, n_classes):
    recalls = np.array([np.mean(pred[y == c] == c) for c in range(n_classes)])
    return float(recalls.mean()), float(recalls.min())


def tune_with(logits, y, n_classes, criterion):
    """``skscor._decision.tune_offsets`` maximising ``criterion`` instead (a
    function of the per-class recalls along the grid, ``(len(GRID), k)``, to
    one score per grid value); the estimator's own is restored after."""
    from skscor import _decision

    original = _decision._criterion
    _decision._criterion = criterion
    try:
        return _decision.tune_offsets(logits, y, n_classes)
    finally:
        _decision._criterion = original


def _tune(logits, y, n_classes, weight):
    return tune_with(
        logits, y, n_classes, lambda r: r.mean(axis=-1) + weight * r.min(axis=-1)
    )


def fit_one(method, task, seed, weights, dump=None, overrides=None) -> dict:
    import warnings

    from skscor import _training
    from skscor._variants import build

    from .. import _natural

    X, y, Xt, yt = _natural.split_task(task, seed)
    n_classes = int(max(y.max(), yt.max()) + 1)
    seen = {}
    original = _training.tune_offsets

    def capture(logits, labels, k):
        seen["oof"] = (np.asarray(logits, dtype=np.float64), np.asarray(labels))
        return original(logits, labels, k)

    _training.tune_offsets = capture
    try:
        est = build(method, random_state=seed, n_threads=1)
        est.set_params(**(overrides or {}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    finally:
        _training.tune_offsets = original
    chosen = np.asarray(est.decision_offsets_)
    # The logits the offsets move (output=False: no offsets and no output
    # temperature, which scales the output after them and would make a grid
    # of offsets mean another shift on every fit).
    test_logits = est._forward(est._network_input(Xt), output=False)
    # test labels in the estimator's encoding (classes_ are the task's codes)
    yt_enc = np.searchsorted(est.classes_, yt)
    decided = np.searchsorted(est.classes_, est.predict(Xt))
    if not np.array_equal(np.argmax(test_logits + chosen, 1), decided):
        raise AssertionError("the probe's logits must reproduce predict")
    record = {"task": task, "method": method, "seed": seed}
    record["plain"] = _scores(yt_enc, np.argmax(test_logits, 1), n_classes)
    if "oof" not in seen:
        record["note"] = "no out-of-fold rows"
        return record
    oof, oof_y = seen["oof"]
    if dump is not None:
        np.savez_compressed(
            Path(dump) / f"{task}-{method}-{seed}.npz",
            oof=oof,
            oof_y=oof_y,
            test=test_logits,
            test_y=yt_enc,
            chosen=chosen,
        )
    record["oof_rows"] = int(len(oof_y))
    record["oof_min_class"] = int(np.bincount(oof_y, minlength=n_classes).min())
    for w in weights:
        b = _tune(oof, oof_y, n_classes, w)
        if w == 1.0:
            assert np.allclose(b, chosen), "the probe's w=1 must be the default"
        record[f"w{w:g}"] = _scores(yt_enc, np.argmax(test_logits + b, 1), n_classes)
        record[f"w{w:g}_offsets"] = [float(v) for v in b]
    return record


def main(argv=None) -> None:
    import torch

    from .. import _natural

    parser = probe_parser(__doc__)
    parser.add_argument("--weights", default="0,0.25,0.5,1,2")
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.overrides)
    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    weights = [float(w) for w in args.weights.split(",")]
    if 1.0 not in weights:
        weights.append(1.0)
    tasks = list(_natural.TASKS) if args.tasks == "all" else args.tasks.split(",")
    with open(args.out, "a") as out:
        for task in tasks:
            for seed in (int(s) for s in args.seeds.split(",")):
                for method in args.method.split(","):
                    rec = fit_one(method, task, seed, weights, args.dump, overrides)
                    if overrides:
                        rec["overrides"] = repr(overrides)
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    cells = " ".join(
                        f"{k}={rec[k][0]:.3f}/{rec[k][1]:.3f}"
                        for k in ["plain"] + [f"w{w:g}" for w in weights]
                        if k in rec
                    )
                    print(f"{task:18s} {method:6s} {seed}: {cells}", flush=True)


if __name__ == "__main__":
    main()
