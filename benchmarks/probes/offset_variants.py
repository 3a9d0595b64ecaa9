"""Probe: other ways to choose the decision offsets, scored without refitting.

Reads the fits saved by ``python -m benchmarks.probes.offset_criterion --dump
DIR`` (each fit's out-of-fold logits and labels, the test rows' logits without
offsets and the test labels) and scores on the test rows the offsets that
each rule below chooses from the same out-of-fold rows:

- ``default``: ``skscor._decision.tune_offsets`` (balanced accuracy plus
  worst-class recall; checked to reproduce the fitted offsets);
- ``plain``: no offsets (the argmax);
- ``smooth{h}``: the criterion averaged over a window of +-``h`` logits along
  each coordinate before its maximum is taken (the centre of a broad
  plateau rather than a narrow spike of a step function);
- ``shrink{s}``: the default offsets times ``s``;
- ``wcr``: worst-class recall alone (balanced accuracy only breaks ties);
- ``bag25``: the mean of the default rule's offsets over 25 bootstrap draws
  of the out-of-fold rows.

Prints, per method and rule, the mean test balanced accuracy and worst-class
recall over the tasks and the number of the 10 large tasks on which both
beat the best of the class-balanced peers in ``--peers`` (the natural
benchmark's records).

``--against DIR2`` (dumps of the same tasks, methods and seeds fitted another
way, e.g. ``offset_criterion --set 'hidden_layer_sizes=()'``) instead scores
choosing between the two ensembles per fit on their out-of-fold rows, as
``numeric_embedding='auto'`` chooses on its first member's: ``first`` and
``second`` always, ``lower`` the lower class-balanced out-of-fold log-loss,
``1se`` the second only when lower by more than one standard error of the
paired difference (``skscor._training._paired_gain``); each decides with its
own fitted offsets.

    python -m benchmarks.probes.offset_variants --dump DIR --peers FILE
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np

from skscor import _decision

from .offset_criterion import _scores, tune_with

LARGE = {
    "default",
    "lending_club",
    "wa_churn",
    "nass_cds",
    "flchain",
    "health_insurance",
    "smoke_ban",
    "magic",
    "satimage",
    "marketing",
}
PEERS = ("lr", "hgb", "lgbm")


def tune(logits, y, n_classes, criterion=None, smooth=0.0):
    """``tune_offsets`` with another criterion, or its own averaged over a
    window of +-``smooth`` logits along each coordinate's grid."""
    base = criterion or _decision._criterion
    half = int(round(smooth / (_decision.GRID[1] - _decision.GRID[0])))
    if not half:
        return tune_with(logits, y, n_classes, base)
    window = np.ones(2 * half + 1) / (2 * half + 1)

    def smoothed(recalls):
        score = np.pad(base(recalls), half, mode="edge")
        return np.convolve(score, window, "valid")

    return tune_with(logits, y, n_classes, smoothed)


def bagged(logits, y, n_classes, draws=25, seed=0):
    rng = np.random.default_rng(seed)
    picks = (rng.integers(0, len(y), len(y)) for _ in range(draws))
    return np.mean([tune(logits[i], y[i], n_classes) for i in picks], axis=0)


def _wcr_first(recalls):
    return recalls.min(axis=-1) + 1e-3 * recalls.mean(axis=-1)


RULES = {
    "default": lambda o, y, k: tune(o, y, k),
    "plain": lambda o, y, k: np.zeros(k),
    "smooth0.1": lambda o, y, k: tune(o, y, k, smooth=0.1),
    "smooth0.25": lambda o, y, k: tune(o, y, k, smooth=0.25),
    "smooth0.5": lambda o, y, k: tune(o, y, k, smooth=0.5),
    "shrink0.5": lambda o, y, k: 0.5 * tune(o, y, k),
    "shrink0.75": lambda o, y, k: 0.75 * tune(o, y, k),
    "wcr": lambda o, y, k: tune(o, y, k, criterion=_wcr_first),
    "bag25": bagged,
}


def _choices(dump: Path, against: Path):
    """Per fit, the test scores of each rule choosing between two ensembles."""
    from skscor._training import _paired_gain

    results = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in sorted(against.glob("*.npz")):
        task, method, _ = path.stem.rsplit("-", 2)
        first, second = np.load(dump / path.name), np.load(path)
        y = first["oof_y"]
        if not np.array_equal(y, second["oof_y"]):
            raise AssertionError(f"{path.name}: not the same held-out rows")
        k = first["test"].shape[1]
        loss_a, loss_b, se = _paired_gain(y, first["oof"], second["oof"], k)
        picks = {
            "first": first,
            "second": second,
            "lower": second if loss_b < loss_a else first,
            "1se": second if loss_b < loss_a - se else first,
        }
        for name, fit in picks.items():
            pred = np.argmax(fit["test"] + fit["chosen"], axis=1)
            results[(method, name)][task].append(_scores(fit["test_y"], pred, k))
    return results


def _rules(dump: Path):
    """Per fit, the test scores of each rule in RULES."""
    results = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in sorted(dump.glob("*.npz")):
        task, method, _ = path.stem.rsplit("-", 2)
        fit = np.load(path)
        k = fit["test"].shape[1]
        for name, rule in RULES.items():
            b = rule(fit["oof"], fit["oof_y"], k)
            if name == "default" and not np.allclose(b, fit["chosen"]):
                raise AssertionError(f"{path.name}: the default rule must reproduce")
            pred = np.argmax(fit["test"] + b, axis=1)
            results[(method, name)][task].append(_scores(fit["test_y"], pred, k))
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, required=True)
    parser.add_argument("--peers", type=Path, required=True)
    parser.add_argument("--against", type=Path, default=None)
    args = parser.parse_args(argv)
    peers = collections.defaultdict(list)
    for line in args.peers.open():
        rec = json.loads(line)
        if rec["method"] in PEERS:
            peers[(rec["task"], rec["method"])].append(rec)
    if args.against is None:
        results = _rules(args.dump)
    else:
        results = _choices(args.dump, args.against)
    print(
        "| method | rule | fits | mean bacc | mean WCR | both > best peer, 10 large |"
    )
    print("|---|---|---|---|---|---|")
    for (method, name), per_task in sorted(results.items()):
        wins, bacc, wcr, n = 0, [], [], 0
        for task, rows in per_task.items():
            rows = np.asarray(rows)
            n += len(rows)
            bacc.append(rows[:, 0].mean())
            wcr.append(rows[:, 1].mean())
            best = [
                max(np.mean([r[m] for r in peers[(task, p)]]) for p in PEERS)
                for m in ("bacc", "wcr")
            ]
            wins += task in LARGE and bacc[-1] > best[0] and wcr[-1] > best[1]
        print(
            f"| {method} | {name} | {n} | {np.mean(bacc):.4f} | {np.mean(wcr):.4f} "
            f"| {wins} |"
        )


if __name__ == "__main__":
    main()
