"""ClassRecallDisplay: per-class recall bars, classes from frequent to rare."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from ..metrics import class_disparity
from ._common import _AX, _NAMES, _check_names, _pyplot


class ClassRecallDisplay:
    """Per-class recall bars, classes sorted from frequent to rare.

    One bar per class for a single model; for several models, a group per
    class with one bar per model and a legend naming them.

    Parameters
    ----------
    labels : ndarray of shape (n_classes,)
        Class labels.
    recall : ndarray of shape (n_classes,) or (n_models, n_classes)
        Per-class recall of each model (NaN for a class absent from the
        evaluation data).
    counts : ndarray of shape (n_classes,)
        Class frequencies used for the order (training counts when given).
    name : str or list of str, default=None
        Model name: the title for one model, one legend entry per model for
        several (``None`` numbers them).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    bars_ : matplotlib BarContainer or list of BarContainer
        One bar per class, in plotted order; with several models, a list
        with one container per model.
    mean_line_ : matplotlib Line2D or list of Line2D
        Mean recall over present classes (balanced accuracy), dashed; one
        per model, in the model's colour, with several models.
    order_ : ndarray of int
        Indices into ``labels`` in plotted order.

    See Also
    --------
    skscor.metrics.class_disparity : The numbers behind the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skscor.plotting import ClassRecallDisplay
    >>> y_true = [0, 0, 0, 1, 1, 2]
    >>> disp = ClassRecallDisplay.from_predictions(y_true, [0, 0, 1, 1, 0, 2])
    >>> [int(i) for i in disp.order_]
    [0, 1, 2]
    >>> both = ClassRecallDisplay.from_predictions(
    ...     y_true, [[0, 0, 1, 1, 0, 2], [0, 0, 0, 1, 1, 0]], name=["a", "b"]
    ... )
    >>> len(both.bars_)
    2
    """

    def __init__(self, *, labels, recall, counts, name=None):
        self.labels = labels
        self.recall = recall
        self.counts = counts
        self.name = name

    @classmethod
    @validate_params(
        {
            "y_true": ["array-like"],
            "y_pred": ["array-like"],
            "labels": ["array-like", None],
            "class_counts": [dict, "array-like", None],
            "sample_weight": ["array-like", None],
            "name": _NAMES,
            "ax": _AX,
        },
        prefer_skip_nested_validation=True,
    )
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        labels=None,
        class_counts=None,
        sample_weight=None,
        name=None,
        ax=None,
    ):
        """Plot per-class recall from true and predicted labels.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like of shape (n_samples,) or list of them
            Predicted labels; a list of such arrays (one per model) draws
            grouped bars.
        labels : array-like, default=None
            Classes to show; ``None`` is the union of ``y_true`` and ``y_pred``.
        class_counts : dict or array-like, default=None
            Class frequencies that set the order (e.g. training counts): a
            mapping label -> count or an array aligned with ``labels``.
            ``None`` uses the support in ``y_true``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str or list of str, default=None
            Model name for the title, or one legend entry per prediction
            array; ``None`` numbers several models.
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure sized so that the
            class labels fit.

        Returns
        -------
        display : ClassRecallDisplay
        """
        several = _is_prediction_list(y_pred)
        y_preds = list(y_pred) if several else [y_pred]
        if labels is None:
            labels = unique_labels(y_true, *y_preds)
        reports = []
        with warnings.catch_warnings():
            # an absent class is drawn as such; the metric's warning adds nothing
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            for pred in y_preds:
                reports.append(
                    class_disparity(
                        y_true, pred, labels=labels, sample_weight=sample_weight
                    )
                )
        labels = reports[0].labels
        counts = (
            reports[0].support
            if class_counts is None
            else _counts(class_counts, labels)
        )
        default = [f"model {i}" for i in range(len(y_preds))] if several else [None]
        names = _check_names(name, len(y_preds), default, "name")
        recall = np.array([report.recall for report in reports])
        disp = cls(
            labels=labels,
            recall=recall if several else recall[0],
            counts=counts,
            name=names if several else names[0],
        )
        return disp.plot(ax=ax)

    @classmethod
    @validate_params(
        {
            "estimator": [HasMethods(["fit", "predict"]), list, tuple],
            "X": ["array-like"],
            "y": ["array-like"],
            "y_train": ["array-like", None],
            "class_counts": [dict, "array-like", None],
            "name": _NAMES,
            "ax": _AX,
        },
        prefer_skip_nested_validation=True,
    )
    def from_estimator(
        cls, estimator, X, y, *, y_train=None, class_counts=None, name=None, ax=None
    ):
        """Plot per-class recall of fitted classifiers on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier or list of fitted classifiers
            Any estimator with ``predict`` (and ``classes_``, used as labels).
            A list draws grouped bars, one per estimator, with a legend.
        X : array-like of shape (n_samples, n_features)
            Evaluation inputs.
        y : array-like of shape (n_samples,)
            Evaluation labels.
        y_train : array-like, default=None
            Training labels; their counts set the order (head to tail).
        class_counts : dict or array-like, default=None
            Class frequencies instead of ``y_train``; ``None`` for both uses
            the support in ``y``.
        name : str or list of str, default=None
            Model name (the title), or one name per estimator (the legend);
            ``None`` uses the estimators' class names.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : ClassRecallDisplay
        """
        if y_train is not None and class_counts is not None:
            raise ValueError("pass y_train or class_counts, not both")
        several = isinstance(estimator, list | tuple)
        estimators = list(estimator) if several else [estimator]
        for est in estimators:
            check_is_fitted(est)
        classes = [getattr(est, "classes_", None) for est in estimators]
        classes = [np.asarray(c) for c in classes if c is not None]
        labels = None
        if len(classes) == 1:
            labels = classes[0]
        elif classes:
            labels = np.unique(np.concatenate(classes))
        if y_train is not None:
            values, counts = np.unique(np.asarray(y_train), return_counts=True)
            class_counts = dict(zip(values.tolist(), counts.tolist(), strict=True))
        default = [type(est).__name__ for est in estimators]
        names = _check_names(name, len(estimators), default, "name")
        y_pred = [est.predict(X) for est in estimators]
        return cls.from_predictions(
            y,
            y_pred if several else y_pred[0],
            labels=labels,
            class_counts=class_counts,
            name=names if several else names[0],
            ax=ax,
        )

    def plot(self, *, ax=None):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure (constrained layout,
            wide enough for the class labels, which turn upright when they
            would not fit side by side).

        Returns
        -------
        display : ClassRecallDisplay
        """
        plt = _pyplot()
        recall = np.asarray(self.recall, dtype=float)
        several = recall.ndim == 2
        recall = np.atleast_2d(recall)
        n_models = len(recall)
        counts = np.asarray(self.counts, dtype=float)
        order = np.argsort(-counts, kind="stable")
        recall = recall[:, order]
        ticks = [
            f"{self.labels[i]}\n"
            + ("absent" if np.isnan(recall[:, k]).all() else f"n={counts[i]:g}")
            for k, i in enumerate(order)
        ]
        standalone = ax is None
        if standalone:
            fig, ax = plt.subplots(layout="constrained")
        x = np.arange(len(order))
        width = 0.8 / n_models
        bars, means = [], []
        for j, r in enumerate(recall):
            heights = np.nan_to_num(r, nan=0.0)
            if several:
                offset = (j - (n_models - 1) / 2) * width
                bars.append(ax.bar(x + offset, heights, width))
                color = bars[-1].patches[0].get_facecolor()
            else:
                bars.append(ax.bar(x, heights))
                color = "k"
            mean = np.nanmean(r) if np.isfinite(r).any() else np.nan
            means.append(ax.axhline(mean, color=color, ls="--", lw=1))
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("recall")
        ax.set_xlabel("class (frequent to rare)")
        if several:
            default = [f"model {j}" for j in range(n_models)]
            names = _check_names(self.name, n_models, default, "name")
            handles = [*bars, plt.Line2D([], [], color="0.3", ls="--", lw=1)]
            # beside the axes: inside, it would hide the head classes' bars
            ax.legend(
                handles,
                [*names, "mean recall"],
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
            )
        else:
            means[0].set_label("mean recall")
            if self.name is not None:
                ax.set_title(self.name)
            ax.legend(loc="lower left")
        _set_class_ticks(ax, ticks, n_models, resize=standalone)
        if standalone and several:
            # room for the legend beside the axes
            longest = max(len(text) for text in [*names, "mean recall"])
            width, height = ax.figure.get_size_inches()
            ax.figure.set_size_inches(width + 0.09 * longest + 0.8, height)
        self.ax_, self.figure_, self.order_ = ax, ax.figure, order
        self.bars_ = bars if several else bars[0]
        self.mean_line_ = means if several else means[0]
        return self


def _is_prediction_list(y_pred) -> bool:
    """Whether ``y_pred`` is a list of prediction arrays rather than one array."""
    return isinstance(y_pred, list | tuple) and all(np.ndim(p) >= 1 for p in y_pred)


def _set_class_ticks(ax, ticks, n_models: int, *, resize: bool) -> None:
    """Set the class tick labels so that they fit side by side, or turn them.

    ``resize`` (a figure skscor made): widen the figure up to 12 inches for
    labels side by side; beyond, labels turn upright on one line each and the
    figure grows up to 20 inches (about 60 classes). On the caller's axes
    only the turn is decided.
    """
    fig = ax.figure
    ax.set_xticks(np.arange(len(ticks)), ticks)
    side = _widest_label(ax, ticks)
    if resize:
        slot = max(side + 0.15, 0.3 * n_models, 0.45)
        upright = slot * len(ticks) + 1.5 > 12.0
        if upright:
            line = ax.get_xticklabels()[0].get_fontsize() / 72 * 1.2
            slot = max(line + 0.1, 0.3 * n_models, 0.3)
        fig.set_size_inches(min(max(4.0, slot * len(ticks) + 1.5), 20.0), 3.2)
    else:
        # the axes' width as set now, from the default subplot margins; the
        # tight or constrained layout that usually follows widens it by up
        # to about a fifth, so labels that fit then stay side by side
        available = ax.get_position().width * fig.get_figwidth() / len(ticks)
        upright = side > 1.2 * available
    if upright:
        flat = [tick.replace("\n", " ") for tick in ticks]
        ax.set_xticks(np.arange(len(ticks)), flat, rotation=90)
        if resize:
            fig.set_size_inches(fig.get_figwidth(), 3.2 + _widest_label(ax, flat))


def _widest_label(ax, ticks) -> float:
    """Width in inches of the widest tick label, as laid out horizontally.

    Measured where the canvas has a renderer (Agg, the default; text layout
    only, no draw), else estimated at 0.65 em a character.
    """
    labels = ax.get_xticklabels()
    get_renderer = getattr(ax.figure.canvas, "get_renderer", None)
    if get_renderer is not None:
        renderer = get_renderer()
        widths = []
        for label in labels:
            rotation = label.get_rotation()
            label.set_rotation(0)
            widths.append(label.get_window_extent(renderer).width / ax.figure.dpi)
            label.set_rotation(rotation)
        return max(widths)
    longest = max(len(line) for tick in ticks for line in tick.split("\n"))
    return 0.65 * labels[0].get_fontsize() / 72 * longest


def _counts(class_counts, labels) -> np.ndarray:
    if isinstance(class_counts, dict):
        missing = [lab for lab in labels.tolist() if lab not in class_counts]
        if missing:
            raise ValueError(f"class_counts has no count for labels {missing}")
        return np.array([class_counts[lab] for lab in labels.tolist()], dtype=float)
    counts = np.asarray(class_counts, dtype=float).ravel()
    if len(counts) != len(labels):
        raise ValueError(
            f"class_counts has {len(counts)} entries for {len(labels)} labels"
        )
    return counts
