"""Command line: ``python -m skscor demo``."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .datasets import load_imbalanced_digits

METHODS = ("ce", "ce-ls", "focal", "scor", "scor-ls", "sam", "mr2")
_LABELS = {
    "ce": "CE",
    "ce-ls": "CE+LS",
    "focal": "Focal",
    "scor": "SCoR",
    "scor-ls": "SCoR+LS",
    "sam": "SAM",
    "mr2": "MR2",
}


def _make(method, seed, epochs):
    from . import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier

    common = {
        "hidden_layer_sizes": (128,),
        "max_iter": epochs,
        "batch_size": 32,
        "random_state": seed,
    }
    return {
        "ce": lambda: SCoRClassifier(alpha=0.0, **common),
        "ce-ls": lambda: SCoRClassifier(alpha=0.0, label_smoothing=0.1, **common),
        "focal": lambda: FocalClassifier(gamma=2.0, **common),
        "scor": lambda: SCoRClassifier(alpha=1e-4, **common),
        "scor-ls": lambda: SCoRClassifier(alpha=1e-4, label_smoothing=0.1, **common),
        "sam": lambda: SAMClassifier(rho=0.05, **common),
        "mr2": lambda: MR2Classifier(**common),
    }[method]()


def run_demo(
    *,
    methods=METHODS,
    seeds=3,
    epochs=30,
    factor=10,
    reduced_class=3,
    plot=None,
    out=None,
):
    """Train each method on the imbalanced digits over seeds; print a table.

    Parameters
    ----------
    methods : sequence of str, default=METHODS
        Any of ``ce, ce-ls, focal, scor, scor-ls, sam, mr2``.
    seeds : int, default=3
        Seeds per method (mean ± std are reported).
    epochs : int, default=30
        Epochs per fit (a fixed budget: the stopping rule is off).
    factor : float, default=10
        Reduction factor of the cut class in training.
    reduced_class : int, default=3
        The digit that is cut.
    plot : str or None, default=None
        File to write a figure to (per-class recall, last-layer spectrum).
    out : file, default=None
        Where the table goes; ``None`` is ``sys.stdout``.

    Returns
    -------
    results : dict
        Method to a dict of per-seed metric arrays, and ``models``: the fitted
        estimators of the first seed.
    """
    from .metrics import class_disparity

    out = sys.stdout if out is None else out
    data = load_imbalanced_digits(
        reduced_class=reduced_class, factor=factor, random_state=0
    )
    counts = np.bincount(data.y_train)
    others = np.delete(counts, reduced_class)
    print(
        f"digits: {len(data.y_train)} training rows (class {reduced_class}: "
        f"{counts[reduced_class]}, others {others.min()}-{others.max()}), "
        f"{len(data.y_test)} balanced test rows; {seeds} seeds, {epochs} epochs, "
        "MLP 64-128-10, Adam",
        file=out,
    )
    results = {}
    for method in methods:
        rows = {k: [] for k in ("bal_acc", "worst", "reduced", "sigma_min", "seconds")}
        models = []
        for seed in range(seeds):
            clf = _make(method, seed, epochs).set_params(tol=0.0)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                # A fixed epoch budget is the protocol, not a convergence failure.
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(data.X_train, data.y_train)
            rows["seconds"].append(time.perf_counter() - t0)
            rep = class_disparity(data.y_test, clf.predict(data.X_test))
            rows["bal_acc"].append(rep.balanced_accuracy)
            rows["worst"].append(rep.worst_class_recall)
            rows["reduced"].append(rep.recall[list(rep.labels).index(reduced_class)])
            rows["sigma_min"].append(clf.spectral_report_.summary["last_sigma_min"])
            models.append(clf)
        results[method] = {k: np.asarray(v) for k, v in rows.items()}
        results[method]["models"] = models[:1]
    _print_table(results, out)
    if plot:
        _plot(results, data, plot)
        print(f"figure written to {plot}", file=out)
    return results


def _print_table(results, out):
    cols = [
        ("balanced acc", "bal_acc", 3),
        ("worst-class rec", "worst", 3),
        ("reduced-class rec", "reduced", 3),
        ("last sigma_min", "sigma_min", 3),
    ]
    header = f"{'method':<8}" + "".join(f" {c[0]:>17}" for c in cols) + f" {'fit s':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for method, r in results.items():
        cells = "".join(
            f" {r[key].mean():>10.{nd}f} ±{r[key].std():.{nd}f}" for _, key, nd in cols
        )
        print(f"{_LABELS[method]:<8}{cells} {r['seconds'].mean():>7.2f}", file=out)


def _plot(results, data, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise SystemExit("--plot needs matplotlib: pip install 'skscor[plot]'") from err
    from .metrics import per_class_recall
    from .plotting import SpectrumDisplay

    methods = list(results)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    counts = np.bincount(data.y_train)
    order = np.argsort(-counts, kind="stable")
    width = 0.8 / len(methods)
    x = np.arange(len(order))
    for i, method in enumerate(methods):
        model = results[method]["models"][0]
        recall = per_class_recall(
            data.y_test, model.predict(data.X_test), labels=model.classes_
        )
        axes[0].bar(
            x + (i - (len(methods) - 1) / 2) * width,
            recall[order],
            width,
            label=_LABELS[method],
        )
    axes[0].set_xticks(x, [f"{c}\n{counts[c]}" for c in order])
    axes[0].set_xlabel("digit / training rows, frequent to rare")
    axes[0].set_ylabel("test recall (first seed)")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title("per-class test recall (classes by training frequency)")
    axes[0].legend(fontsize=7)
    SpectrumDisplay.from_estimator(
        [results[m]["models"][0] for m in methods],
        names=[_LABELS[m] for m in methods],
        layers=-1,
        ax=axes[1],
    )
    axes[1].set_title("singular values of the last layer")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _factor(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 1, got {text!r}"
        ) from None
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _methods(text):
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in METHODS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown or text!r}; choose from {','.join(METHODS)}"
        )
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skscor",
        description="skscor: neural classifiers for class-imbalanced data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="compare the estimators on digits with one class cut x10",
        description=(
            "Train each method (cross-entropy, label smoothing, focal, SCoR, "
            "SCoR+LS, SAM, MR2) on scikit-learn's digits with one class cut to a "
            "tenth in training, test on a balanced split, and print mean ± std "
            "over seeds of balanced accuracy, worst-class recall, the reduced "
            "class's recall, the last layer's smallest singular value and fit time."
        ),
    )
    demo.add_argument(
        "--seeds", type=_positive_int, default=3, help="seeds per method (default 3)"
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
    demo.add_argument(
        "--methods",
        type=_methods,
        default=list(METHODS),
        help=f"comma-separated subset of {','.join(METHODS)}",
    )
    demo.add_argument(
        "--plot",
        metavar="FILE",
        default=None,
        help="write a figure (needs matplotlib) to FILE, e.g. demo.png",
    )
    demo.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch intra-op threads (default 1)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        import torch

        # A 64-128-10 network gains nothing from intra-op threads, and on
        # shared cores extra threads slow every small op down sharply. This is
        # the demo's own process; the estimators never set threads themselves.
        torch.set_num_threads(args.threads)
        run_demo(
            methods=args.methods,
            seeds=args.seeds,
            epochs=args.epochs,
            factor=args.factor,
            reduced_class=args.reduced_class,
            plot=args.plot,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
