"""Display objects for the diagnostics, following scikit-learn's Display pattern.

Each display is built with a ``from_*`` classmethod, which computes what it
needs and calls :meth:`plot`; ``plot(ax=None, ...)`` draws, stores the
matplotlib artists as attributes ending in ``_`` and returns ``self``.
matplotlib is optional: ``pip install skscor[plot]``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .hessian import ClassHessianSpectrum, class_hessian_spectrum
from .metrics import _check_targets, _recall_support
from .spectral import SpectralReport, _import_optional, spectral_report

__all__ = ["SpectrumDisplay", "ClassRecallDisplay", "HessianDensityDisplay"]


def _pyplot():
    return _import_optional("matplotlib.pyplot", purpose="plotting", extra="plot")


def _as_list(obj) -> list:
    return list(obj) if isinstance(obj, list | tuple) else [obj]


def _default_name(obj, i: int) -> str:
    return type(obj).__name__ if not isinstance(obj, SpectralReport) else f"report {i}"


def _check_names(names, n: int, default: list[str]) -> list[str]:
    if names is None:
        # disambiguate repeated defaults (two SCoRClassifier fits): "name (i)"
        return [
            f"{name} ({i})" if default.count(name) > 1 else name
            for i, name in enumerate(default)
        ]
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != n:
        raise ValueError(f"names has {len(names)} entries for {n} inputs")
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
                1, len(names), figsize=(4 * len(names), 3.2), squeeze=False
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

    Parameters
    ----------
    labels : ndarray of shape (n_classes,)
        Class labels.
    recall : ndarray of shape (n_classes,)
        Per-class recall (NaN for a class absent from the evaluation data).
    counts : ndarray of shape (n_classes,)
        Class frequencies used for the order (training counts when given).
    name : str, default=None
        Name of the model, used in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    bars_ : matplotlib BarContainer
        One bar per class, in plotted order.
    mean_line_ : matplotlib Line2D
        Mean recall over present classes (balanced accuracy).
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
    >>> y_true, y_pred = [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 2]
    >>> disp = ClassRecallDisplay.from_predictions(y_true, y_pred)
    >>> [int(i) for i in disp.order_]
    [0, 1, 2]
    """

    def __init__(self, *, labels, recall, counts, name=None):
        self.labels = labels
        self.recall = recall
        self.counts = counts
        self.name = name

    @classmethod
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
        y_true, y_pred : array-like of shape (n_samples,)
            True and predicted labels.
        labels : array-like, default=None
            Classes to show; ``None`` is the union of ``y_true`` and ``y_pred``.
        class_counts : dict or array-like, default=None
            Class frequencies that set the order (e.g. training counts): a
            mapping label -> count or an array aligned with ``labels``.
            ``None`` uses the support in ``y_true``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str, default=None
            Model name for the title.
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.

        Returns
        -------
        display : ClassRecallDisplay
        """
        y_true, y_pred, labels, sample_weight = _check_targets(
            y_true, y_pred, labels, sample_weight
        )
        recall, support, _ = _recall_support(y_true, y_pred, labels, sample_weight)
        counts = support if class_counts is None else _counts(class_counts, labels)
        disp = cls(labels=labels, recall=recall, counts=counts, name=name)
        return disp.plot(ax=ax)

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, y_train=None, class_counts=None, name=None, ax=None
    ):
        """Plot per-class recall of a fitted classifier on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier
            Any estimator with ``predict`` (and ``classes_``, used as labels).
        X : array-like of shape (n_samples, n_features)
            Evaluation inputs.
        y : array-like of shape (n_samples,)
            Evaluation labels.
        y_train : array-like, default=None
            Training labels; their counts set the order (head to tail).
        class_counts : dict or array-like, default=None
            Class frequencies instead of ``y_train``; ``None`` for both uses
            the support in ``y``.
        name : str, default=None
            Model name; ``None`` uses the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : ClassRecallDisplay
        """
        if y_train is not None and class_counts is not None:
            raise ValueError("pass y_train or class_counts, not both")
        check_is_fitted(estimator)
        labels = getattr(estimator, "classes_", None)
        if y_train is not None:
            values, counts = np.unique(np.asarray(y_train), return_counts=True)
            class_counts = dict(zip(values.tolist(), counts.tolist(), strict=True))
        return cls.from_predictions(
            y,
            estimator.predict(X),
            labels=labels,
            class_counts=class_counts,
            name=type(estimator).__name__ if name is None else name,
            ax=ax,
        )

    def plot(self, *, ax=None):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.

        Returns
        -------
        display : ClassRecallDisplay
        """
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(self.labels) + 2), 3.2))
        fig = ax.figure
        counts = np.asarray(self.counts, dtype=float)
        order = np.argsort(-counts, kind="stable")
        recall = np.asarray(self.recall, dtype=float)[order]
        x = np.arange(len(order))
        bars = ax.bar(x, np.nan_to_num(recall, nan=0.0))
        ticks = [
            f"{self.labels[i]}\n"
            + ("absent" if np.isnan(self.recall[i]) else f"n={counts[i]:g}")
            for i in order
        ]
        ax.set_xticks(x, ticks)
        mean = np.nanmean(recall) if np.isfinite(recall).any() else np.nan
        self.mean_line_ = ax.axhline(
            mean, color="k", ls="--", lw=1, label="mean recall"
        )
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("recall")
        ax.set_xlabel("class (frequent to rare)")
        if self.name is not None:
            ax.set_title(self.name)
        ax.legend(loc="lower left")
        self.ax_, self.figure_, self.bars_, self.order_ = ax, fig, bars, order
        return self


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
        if not isinstance(spectrum, ClassHessianSpectrum):
            raise TypeError(
                "spectrum must be a ClassHessianSpectrum, got "
                f"{type(spectrum).__name__}"
            )
        if not spectrum.has_density:
            raise ValueError(
                "spectrum has no density; compute it with "
                "class_hessian_spectrum(..., density=True)"
            )
        return cls(spectrum=spectrum, classes=classes).plot(ax=ax, logy=logy)

    @classmethod
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
            Log-scale density.

        Returns
        -------
        display : HessianDensityDisplay
        """
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 3.5))
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
            # Gaussian-broadened densities fall to ~1e-200 between eigenvalues;
            # six decades below the peak keep the structure readable.
            peaks = [
                np.nanmax(s.density) for s in map(self.spectrum.__getitem__, classes)
            ]
            peak = max((p for p in peaks if np.isfinite(p) and p > 0), default=None)
            if peak is not None:
                ax.set_ylim(bottom=peak * 1e-6)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.set_title("Hessian spectrum per class (-- lambda_min, : lambda_max)")
        ax.legend(title="class")
        self.ax_, self.figure_ = ax, ax.figure
        self.lines_, self.min_markers_, self.max_markers_ = lines, mins, maxs
        return self
