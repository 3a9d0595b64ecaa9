"""Command line: ``python -m skscor demo``."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._variants import VARIANTS, build
from .datasets import load_imbalanced_digits

# The demo's selection from the registry of variants (skscor._variants);
# --methods takes any registry name. Each method at its defaults (which weigh
# the classes) beside its paper's setting; weighted cross-entropy
# ('ce+balanced') separates what the weighting does from what a method adds.
METHODS = (
    "ce",
    "ce+balanced",
    "focal-paper",
    "focal",
    "scor-paper",
    "scor",
    "sam-ldam-drw",
    "sam",
    "mr2-paper",
    "mr2",
)


def _make(method, seed, epochs):
    return build(
        method,
        hidden_layer_sizes=(128,),
        max_iter=epochs,
        batch_size=32,
        random_state=seed,
        # the papers' protocol: one network, a fixed epoch budget on every row
        # (no held-out split, the stopping rule off)
        n_members=1,
        early_stopping=False,
        tol=0.0,
    )


def _check_plot_path(path):
    """Refuse a figure that could not be written, before any training.

    Raises ``ImportError`` without matplotlib, ``ValueError`` for a missing or
    unwritable folder, a folder given as the file, or a format that matplotlib
    cannot write.
    """
    import os
    from pathlib import Path

    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"--plot {path}: the folder {folder} does not exist.")
    if path.is_dir():
        raise ValueError(f"--plot {path}: is a folder; give a file name.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--plot {path}: the folder {folder} is not writable.")
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as err:
        raise ImportError(
            "--plot needs matplotlib: pip install 'skscor[plot]'"
        ) from err
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix[1:].lower()
    if suffix and suffix not in formats:
        raise ValueError(
            f"--plot {path}: matplotlib cannot write .{suffix} files; use one "
            f"of {', '.join('.' + f for f in sorted(formats))}."
        )


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
        Names of the registry of variants (``skscor._variants.VARIANTS``),
        by default ``ce, ce+balanced, focal-paper, focal, scor-paper, scor,
        sam-ldam-drw, sam, mr2-paper, mr2``.
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
        Checked before any training: matplotlib importable, the folder
        exists, the format is one matplotlib writes.
    out : file, default=None
        Where the table goes; ``None`` is ``sys.stdout``.

    Returns
    -------
    results : dict
        Method to a dict of per-seed metric arrays (``bal_acc``, ``worst``,
        ``reduced``: the cut class's recall, ``sigma_min``, ``seconds``), and
        ``models``: the fitted estimators of the first seed.
    """
    from .metrics import class_disparity

    unknown = [m for m in methods if m not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {list(VARIANTS)}")
    if plot:
        _check_plot_path(plot)
    out = sys.stdout if out is None else out
    data = load_imbalanced_digits(
        reduced_class=reduced_class, factor=factor, random_state=0
    )
    counts = np.bincount(data.y_train)
    others = np.delete(counts, reduced_class)
    print(
        f"digits: {len(data.y_train)} training rows (class {reduced_class}: "
        f"{counts[reduced_class]}, others {others.min()}-{others.max()}), "
        f"{len(data.y_test)} balanced test rows; {seeds} seed(s), {epochs} epochs, "
        "MLP 64-128-10, Adam",
        file=out,
    )
    results = {}
    for method in methods:
        rows = {k: [] for k in ("bal_acc", "worst", "reduced", "sigma_min", "seconds")}
        models = []
        for seed in range(seeds):
            clf = _make(method, seed, epochs)
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
    _print_table(results, reduced_class, out)
    if plot:
        _plot(results, data, plot)
        print(f"figure written to {plot}", file=out)
    return results


def _print_table(results, reduced_class, out):
    # The reduced class's recall gets a column of its own only where it says
    # something the worst-class column does not: with unweighted training the
    # cut class is the worst one in every fit (the two columns were the same
    # numbers), with class weights often another class is.
    fits = sum(len(r["worst"]) for r in results.values())
    other = sum(int(np.sum(r["reduced"] > r["worst"])) for r in results.values())
    cols = [("balanced acc", "bal_acc"), ("worst-class rec", "worst")]
    if other:
        cols.append(("reduced-class rec", "reduced"))
    cols.append(("last sigma_min", "sigma_min"))
    width = max(8, *(len(m) for m in results))
    header = (
        f"{'method':<{width}}"
        + "".join(f" {label:>17}" for label, _ in cols)
        + f" {'fit s':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for method, r in results.items():
        cells = "".join(
            f" {r[key].mean():>10.3f} ±{r[key].std():.3f}" for _, key in cols
        )
        print(f"{method:<{width}}{cells} {r['seconds'].mean():>7.2f}", file=out)
    seeds = len(next(iter(results.values()))["worst"])
    legend = [
        "",
        f"mean ± std over {seeds} seed(s) on the balanced test set",
        "  balanced acc       mean of the per-class recalls",
    ]
    if other:
        legend += [
            "  worst-class rec    lowest per-class recall",
            f"  reduced-class rec  recall of the cut digit {reduced_class}; the "
            f"worst class in {fits - other} of {fits} fits",
        ]
    else:
        legend += [
            "  worst-class rec    lowest per-class recall; in every fit here "
            f"that of the cut digit {reduced_class}",
        ]
    legend += [
        "  last sigma_min     smallest singular value of the last layer's weight",
        "                     matrix; SCoR's paper claims that its penalty lowers it",
        "  fit s              seconds per fit",
        "methods:",
    ]
    legend += [
        f"  {m:<{width}} {VARIANTS[m].spec}: {VARIANTS[m].description}" for m in results
    ]
    print("\n".join(legend), file=out)


def _plot(results, data, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - _check_plot_path ran first
        raise ImportError(
            "--plot needs matplotlib: pip install 'skscor[plot]'"
        ) from err
    from .metrics import per_class_recall
    from .plotting import SpectrumDisplay

    methods = list(results)
    # constrained layout makes room for the legend below the axes: inside
    # them it covered the bars (recalls near 1 fill every class's slot)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), layout="constrained")
    counts = np.bincount(data.y_train)
    order = np.argsort(-counts, kind="stable")
    width = 0.8 / len(methods)
    x = np.arange(len(order))
    bars = []
    for i, method in enumerate(methods):
        model = results[method]["models"][0]
        recall = per_class_recall(
            data.y_test, model.predict(data.X_test), labels=model.classes_
        )
        bars.append(
            axes[0].bar(
                x + (i - (len(methods) - 1) / 2) * width,
                recall[order],
                width,
                color=f"C{i}",
            )
        )
    axes[0].set_xticks(x, [f"{c}\n{counts[c]}" for c in order])
    axes[0].set_xlabel("digit / training rows, frequent to rare")
    axes[0].set_ylabel("test recall (first seed)")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_title("per-class test recall (classes by training frequency)")
    spectra = SpectrumDisplay.from_estimator(
        [results[m]["models"][0] for m in methods],
        names=methods,
        layers=-1,
        ax=axes[1],
    )
    axes[1].set_title("singular values of the last layer")
    # one legend for both panels, below them: a method has one colour in both
    for i, line in enumerate(spectra.lines_[0]):
        line.set_color(f"C{i}")
    if axes[1].get_legend() is not None:
        axes[1].get_legend().remove()
    fig.legend(
        bars,
        methods,
        loc="outside lower center",
        ncols=min(len(methods), 5),
        frameon=False,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _at_least_one(cast, what):
    """An argparse type: ``cast(text)``, refused unless it is at least 1."""

    def parse(text):
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not value >= 1:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _at_least_one(int, "a positive integer")
_factor = _at_least_one(float, "a number >= 1")


def _methods(text):
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in VARIANTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {unknown or text!r}; choose from {','.join(VARIANTS)}"
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
            f"Train each method (by default {', '.join(METHODS)}: plain and "
            "class-weighted cross-entropy, then focal loss, SCoR, SAM and MR2, "
            "each at its paper's setting and at skscor's defaults; 3 seeds of "
            "30 epochs each, about 20 seconds on 2 idle CPU cores) on "
            "scikit-learn's digits with one class cut to a tenth in training, "
            "test on a balanced split, and print mean ± std over seeds of "
            "balanced accuracy, worst-class recall (and the cut class's recall "
            "where the worst class is another one), the last layer's smallest "
            "singular value (sigma_min, which SCoR's paper claims its penalty "
            "lowers) and fit time; a legend under the table explains each "
            "column and method."
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
        help=f"comma-separated names (default {','.join(METHODS)}); any of "
        f"{','.join(VARIANTS)}",
    )
    demo.add_argument(
        "--plot",
        metavar="FILE",
        default=None,
        help="write a figure (needs matplotlib) to FILE, e.g. demo.png; checked "
        "before training",
    )
    demo.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch intra-op threads of the process (default 1); the fits and "
        "predictions of the demo's 128-wide network run on one thread "
        "regardless (the estimators' n_threads='auto')",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.plot:
            try:
                _check_plot_path(args.plot)
            except (ImportError, ValueError) as err:
                demo.error(str(err))
        import torch

        # A 64-128-10 network gains nothing from intra-op threads, and on
        # shared cores extra threads slow every small op down sharply. This is
        # the demo's own process. The estimators' n_threads='auto' trains and
        # predicts this 128-wide network on one thread whatever is set here.
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
