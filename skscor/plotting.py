"""Display objects for the diagnostics, following scikit-learn's Display pattern.

Each display is built with a ``from_*`` classmethod, which computes what it
needs and calls :meth:`plot`; ``plot(ax=None, ...)`` draws, stores the
matplotlib artists as attributes ending in ``_`` and returns ``self``.
matplotlib is optional: ``pip install skscor[plot]``.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .hessian import ClassHessianSpectrum, class_hessian_spectrum
from .metrics import class_disparity
from .spectral import SpectralReport, spectral_report
from .utils._optional import import_optional
from .utils._validation import StrictInterval

__all__ = ["SpectrumDisplay", "ClassRecallDisplay", "HessianDensityDisplay"]

# Constraints shared by the displays' from_* methods.
_AX = [HasMethods(["plot"]), None]
_NAMES = [str, "array-like", None]
_SPECTRUM_PLOT_CONSTRAINTS = {
    "names": _NAMES,
    "layers": [str, Integral, "array-like", None],
    "ax": [HasMethods(["plot"]), "array-like", None],
    "logy": ["boolean"],
}
# A density on a log scale spans hundreds of decades (Gaussian tails between
# eigenvalues); the y-axis shows this many below the highest peak.
_DENSITY_DECADES = 6


def _pyplot():
    return import_optional("matplotlib.pyplot", purpose="plotting", extra="plot")


def _as_list(obj) -> list:
    return list(obj) if isinstance(obj, list | tuple) else [obj]


def _default_name(obj, i: int) -> str:
    return type(obj).__name__ if not isinstance(obj, SpectralReport) else f"report {i}"


def _check_names(names, n: int, default: list, param: str = "names") -> list:
    if names is None:
        # disambiguate repeated defaults (two SCoRClassifier fits): "name (i)"
        return [
            f"{name} ({i})" if default.count(name) > 1 else name
            for i, name in enumerate(default)
        ]
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != n:
        raise ValueError(f"{param} has {len(names)} entries for {n} inputs")
    return names


class SpectrumDisplay:
    """Singular values of each weight matrix, for one or several models.

    One subplot per layer; each model is a line in every subplot, so fitted
    estimators (e.g. CE vs SCoR) compare side by side.

    Parameters
    ----------
    reports : list of SpectralReport
        One report per model.
    names : list of str
        Legend entry per report.

    Attributes
    ----------
    ax_ : matplotlib Axes or ndarray of Axes
        A single Axes when one layer is drawn, else an array with one per layer.
    figure_ : matplotlib Figure
        Figure holding the axes.
    lines_ : ndarray of Line2D of shape (n_layers, n_reports)
        The singular-value curves.
    layers_ : list of str
        Names of the layers drawn.

    See Also
    --------
    skscor.spectral.spectral_report : Compute the report.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import torch
    >>> from skscor.plotting import SpectrumDisplay
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    >>> disp = SpectrumDisplay.from_estimator(net)
    >>> disp.lines_.shape
    (2, 1)
    """

    def __init__(self, *, reports, names):
        self.reports = reports
        self.names = names

    @classmethod
    @validate_params(
        # each estimator is checked by _report_of, with its position in the list
        {"estimators": "no_validation"} | _SPECTRUM_PLOT_CONSTRAINTS,
        prefer_skip_nested_validation=True,
    )
    def from_estimator(cls, estimators, *, names=None, layers=None, ax=None, logy=True):
        """Plot the spectra of fitted estimators (or modules).

        Parameters
        ----------
        estimators : estimator, torch.nn.Module, or list of them
            Each needs ``spectral_report_`` or ``net_.module_`` (a fitted
            skscor estimator), or is a module itself.
        names : list of str, default=None
            Legend entries; ``None`` uses the class names.
        layers : str, int or list of them, default=None
            Layers to draw (names or positions); ``None`` draws every layer
            the reports share.
        ax : matplotlib Axes or array of Axes, default=None
            One Axes per layer; ``None`` creates a figure.
        logy : bool, default=True
            Log-scale singular values.

        Returns
        -------
        display : SpectrumDisplay
        """
        estimators = _as_list(estimators)
        reports = [_report_of(est, i) for i, est in enumerate(estimators)]
        default = [_default_name(est, i) for i, est in enumerate(estimators)]
        names = _check_names(names, len(reports), default)
        return cls(reports=reports, names=names).plot(layers=layers, ax=ax, logy=logy)

    @classmethod
    @validate_params(
        {"reports": [SpectralReport, list, tuple]} | _SPECTRUM_PLOT_CONSTRAINTS,
        prefer_skip_nested_validation=True,
    )
    def from_reports(cls, reports, *, names=None, layers=None, ax=None, logy=True):
        """Plot already computed :class:`~skscor.spectral.SpectralReport` objects.

        Parameters
        ----------
        reports : SpectralReport or list of SpectralReport
            The reports.
        names, layers, ax, logy
            As in :meth:`from_estimator`.

        Returns
        -------
        display : SpectrumDisplay
        """
        reports = _as_list(reports)
        for i, report in enumerate(reports):
            if not isinstance(report, SpectralReport):
                raise TypeError(
                    f"reports[{i}] must be a SpectralReport, "
                    f"got {type(report).__name__}"
                )
        names = _check_names(
            names, len(reports), [f"report {i}" for i in range(len(reports))]
        )
        return cls(reports=reports, names=names).plot(layers=layers, ax=ax, logy=logy)

    def _layers(self, layers) -> list[str]:
        if layers is None:
            common = [
                name
                for name in self.reports[0].names
                if all(name in r.names for r in self.reports[1:])
            ]
            if not common:
                raise ValueError("the reports share no layer name; pass layers=")
            return common
        chosen = []
        for layer in _as_list(layers):
            for name, report in zip(self.names, self.reports, strict=True):
                try:
                    found = report[layer].name
                except (KeyError, IndexError):
                    raise ValueError(
                        f"layers: {layer!r} not found in {name!r}; "
                        f"available: {report.names}"
                    ) from None
            chosen.append(found)
        return chosen

    def plot(self, *, layers=None, ax=None, logy=True):
        """Draw the singular values.

        Parameters
        ----------
        layers : str, int or list of them, default=None
            Layers to draw; ``None`` draws every layer the reports share.
        ax : matplotlib Axes or array of Axes, default=None
            One Axes per layer; ``None`` creates a figure with a row of axes.
        logy : bool, default=True
            Log-scale singular values.

        Returns
        -------
        display : SpectrumDisplay
        """
        plt = _pyplot()
        names = self._layers(layers)
        if ax is None:
            fig, axes = plt.subplots(
                1,
                len(names),
                figsize=(4 * len(names), 3.2),
                squeeze=False,
                layout="constrained",
            )
            axes = axes.ravel()
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if len(axes) != len(names):
                raise ValueError(f"ax has {len(axes)} axes for {len(names)} layers")
            fig = axes[0].figure
        lines = np.empty((len(names), len(self.reports)), dtype=object)
        for i, (layer, axis) in enumerate(zip(names, axes, strict=True)):
            for j, (report, label) in enumerate(
                zip(self.reports, self.names, strict=True)
            ):
                s = report[layer].singular_values
                (lines[i, j],) = axis.plot(np.arange(1, len(s) + 1), s, label=label)
            shape = "x".join(map(str, report[layer].matrix_shape))
            axis.set_title(f"{layer} ({shape})")
            axis.set_xlabel("index")
            if logy:
                axis.set_yscale("log")
        axes[0].set_ylabel("singular value")
        if len(self.reports) > 1:
            axes[0].legend()
        self.ax_ = axes[0] if len(axes) == 1 else axes
        self.figure_ = fig
        self.lines_ = lines
        self.layers_ = names
        return self


def _report_of(est, i: int) -> SpectralReport:
    if isinstance(est, SpectralReport):
        return est
    if isinstance(est, nn.Module):
        return spectral_report(est)
    report = getattr(est, "spectral_report_", None)
    if isinstance(report, SpectralReport):
        return report
    module = getattr(getattr(est, "net_", None), "module_", None)
    if isinstance(module, nn.Module):
        return spectral_report(module)
    if isinstance(est, BaseEstimator):
        check_is_fitted(est)
    raise TypeError(
        f"estimators[{i}] ({type(est).__name__}) has neither spectral_report_ nor "
        "net_.module_; pass a fitted skscor estimator, a torch.nn.Module or a "
        "SpectralReport"
    )


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


class HessianDensityDisplay:
    """Per-class Hessian eigenvalue density with markers at the extremes.

    Parameters
    ----------
    spectrum : ClassHessianSpectrum
        Computed with ``density=True``.
    classes : list, default=None
        Classes to draw; ``None`` draws all.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of Line2D
        Density curve per class drawn.
    min_markers_, max_markers_ : list of Line2D
        Vertical lines at ``lambda_min`` (dashed) and ``lambda_max`` (dotted).

    See Also
    --------
    skscor.hessian.class_hessian_spectrum : The computation.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import torch
    >>> from skscor.hessian import class_hessian_spectrum
    >>> from skscor.plotting import HessianDensityDisplay
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
    ...                           torch.nn.Linear(6, 2))
    >>> X, y = torch.randn(40, 4), torch.arange(40) % 2
    >>> spec = class_hessian_spectrum(net, X, y, density=True, n_hutchinson=0,
    ...                               lanczos_steps=10, n_slq=1, random_state=0)
    >>> disp = HessianDensityDisplay.from_spectrum(spec)
    >>> len(disp.lines_)
    2
    """

    def __init__(self, *, spectrum, classes=None):
        self.spectrum = spectrum
        self.classes = classes

    @classmethod
    @validate_params(
        {
            "spectrum": [ClassHessianSpectrum],
            "classes": ["array-like", None],
            "ax": _AX,
            "logy": ["boolean"],
        },
        prefer_skip_nested_validation=True,
    )
    def from_spectrum(cls, spectrum, *, classes=None, ax=None, logy=True):
        """Plot a precomputed per-class spectrum.

        Parameters
        ----------
        spectrum : ClassHessianSpectrum
            Computed with ``density=True``.
        classes : list, default=None
            Classes to draw; ``None`` draws all.
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.
        logy : bool, default=True
            Log-scale density (the bulk near 0 dwarfs the outliers).

        Returns
        -------
        display : HessianDensityDisplay
        """
        if not spectrum.has_density:
            raise ValueError(
                "spectrum has no density; compute it with "
                "class_hessian_spectrum(..., density=True)"
            )
        return cls(spectrum=spectrum, classes=classes).plot(ax=ax, logy=logy)

    @classmethod
    @validate_params(
        {
            "estimator": [nn.Module, HasMethods(["fit"])],
            "X": ["array-like"],
            "y": ["array-like"],
            "classes": ["array-like", None],
            "max_samples_per_class": [
                StrictInterval(Integral, 1, None, closed="left"),
                None,
            ],
            "random_state": ["random_state"],
            "spectrum_kw": [dict, None],
            "ax": _AX,
            "logy": ["boolean"],
        },
        # spectrum_kw reaches class_hessian_spectrum unchecked: let it validate
        prefer_skip_nested_validation=False,
    )
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        classes=None,
        max_samples_per_class=256,
        random_state=None,
        spectrum_kw=None,
        ax=None,
        logy=True,
    ):
        """Compute per-class densities with :func:`class_hessian_spectrum` and plot.

        Parameters
        ----------
        estimator : fitted skscor estimator or torch.nn.Module
            See :func:`~skscor.hessian.class_hessian_spectrum`.
        X, y : array-like
            Data; ``y`` as labels (estimator) or class indices (module).
        classes : list, default=None
            Classes to analyse and draw; ``None`` takes those present in ``y``.
        max_samples_per_class : int or None, default=256
            Samples per class.
        random_state : int, RandomState instance or None, default=None
            Seed of the subsampling and the solvers.
        spectrum_kw : dict, default=None
            Further arguments of ``class_hessian_spectrum`` (e.g. ``lanczos_steps``).
        ax : matplotlib Axes, default=None
            Axes to draw on.
        logy : bool, default=True
            Log-scale density.

        Returns
        -------
        display : HessianDensityDisplay
        """
        spectrum = class_hessian_spectrum(
            estimator,
            X,
            y,
            classes=classes,
            max_samples_per_class=max_samples_per_class,
            random_state=random_state,
            **{**(spectrum_kw or {}), "density": True},
        )
        return cls.from_spectrum(spectrum, ax=ax, logy=logy)

    def plot(self, *, ax=None, logy=True):
        """Draw the densities.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.
        logy : bool, default=True
            Log-scale density, shown from ``1e-6`` of the highest peak to
            twice that peak (the Gaussian tails between eigenvalues would
            otherwise stretch the axis over hundreds of decades).

        Returns
        -------
        display : HessianDensityDisplay
        """
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
        classes = (
            self.spectrum.labels.tolist() if self.classes is None else self.classes
        )
        lines, mins, maxs = [], [], []
        for label in classes:
            s = self.spectrum[label]
            (line,) = ax.plot(s.density_grid, s.density, label=str(label))
            color = line.get_color()
            # NaN when not requested (which=("max",)): no marker then
            if np.isfinite(s.lambda_min):
                mins.append(ax.axvline(s.lambda_min, color=color, ls="--", lw=0.8))
            if np.isfinite(s.lambda_max):
                maxs.append(ax.axvline(s.lambda_max, color=color, ls=":", lw=0.8))
            lines.append(line)
        if logy:
            ax.set_yscale("log")
            # Gaussian-broadened densities fall to ~1e-200 between eigenvalues
            # and log autoscaling pads by a share of that range, so the top
            # ran to ~1e12: set both limits from the highest peak.
            peaks = [np.nanmax(self.spectrum[label].density) for label in classes]
            peak = max((p for p in peaks if np.isfinite(p) and p > 0), default=None)
            if peak is not None:
                ax.set_ylim(peak * 10.0**-_DENSITY_DECADES, peak * 2)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.set_title("Hessian spectrum per class (-- lambda_min, : lambda_max)")
        ax.legend(title="class")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.min_markers_, self.max_markers_ = lines, mins, maxs
        return self
