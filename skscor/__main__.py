"""Command line: ``python -m skscor demo``."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score, recall_score

from .datasets import load_imbalanced_digits


def _methods(epochs):
    from . import SCoRClassifier

    common = {"hidden_layer_sizes": (128,), "max_iter": epochs, "batch_size": 64}
    return {
        "CE": lambda seed: SCoRClassifier(alpha=0.0, random_state=seed, **common),
        "SCoR": lambda seed: SCoRClassifier(alpha=1e-4, random_state=seed, **common),
    }


def run_demo(*, seeds=5, epochs=30, factor=10, reduced_class=3, out=sys.stdout):
    """Train each method on the imbalanced digits over several seeds; print a table.

    Returns
    -------
    results : dict
        Method name to a dict of metric arrays (one value per seed).
    """
    data = load_imbalanced_digits(
        reduced_class=reduced_class, factor=factor, random_state=0
    )
    counts = np.bincount(data.y_train)
    others = np.delete(counts, reduced_class)
    print(
        f"digits: {len(data.y_train)} training rows (class {reduced_class}: "
        f"{counts[reduced_class]}, others {others.min()}-{others.max()}), "
        f"{len(data.y_test)} balanced test rows; {seeds} seeds, {epochs} epochs",
        file=out,
    )
    results = {}
    for name, make in _methods(epochs).items():
        rows = {"bal_acc": [], "worst": [], "reduced": [], "seconds": []}
        for seed in range(seeds):
            clf = make(seed)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                # A fixed epoch budget is the protocol, not a convergence failure.
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(data.X_train, data.y_train)
            rows["seconds"].append(time.perf_counter() - t0)
            pred = clf.predict(data.X_test)
            recalls = recall_score(data.y_test, pred, average=None)
            rows["bal_acc"].append(balanced_accuracy_score(data.y_test, pred))
            rows["worst"].append(recalls.min())
            rows["reduced"].append(recalls[reduced_class])
        results[name] = {k: np.asarray(v) for k, v in rows.items()}
    header = (
        f"{'method':<8} {'balanced acc':>14} {'worst-class rec':>16} "
        f"{'reduced-class rec':>18} {'fit s':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, r in results.items():
        print(
            f"{name:<8} {r['bal_acc'].mean():>8.3f} ±{r['bal_acc'].std():.3f} "
            f"{r['worst'].mean():>10.3f} ±{r['worst'].std():.3f} "
            f"{r['reduced'].mean():>12.3f} ±{r['reduced'].std():.3f} "
            f"{r['seconds'].mean():>7.2f}",
            file=out,
        )
    return results


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _factor(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skscor",
        description="skscor: neural classifiers for class-imbalanced data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="compare cross-entropy and SCoR on digits with one class cut x10",
        description=(
            "Train plain cross-entropy (SCoR with alpha=0) and SCoR on sklearn's "
            "digits with one class cut to a tenth in training, test on a balanced "
            "split, and print mean ± std over seeds of balanced accuracy, "
            "worst-class recall, the reduced class's recall and fit time."
        ),
    )
    demo.add_argument(
        "--seeds", type=_positive_int, default=5, help="number of seeds (default 5)"
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=30,
        help="training epochs per fit (default 30)",
    )
    demo.add_argument(
        "--factor",
        type=_factor,
        default=10.0,
        help="reduction factor of the cut class (default 10)",
    )
    demo.add_argument(
        "--reduced-class",
        type=int,
        default=3,
        choices=range(10),
        metavar="{0..9}",
        help="digit to cut (default 3)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        run_demo(
            seeds=args.seeds,
            epochs=args.epochs,
            factor=args.factor,
            reduced_class=args.reduced_class,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
