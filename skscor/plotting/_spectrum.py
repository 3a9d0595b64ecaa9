"""SpectrumDisplay: singular values of each weight matrix, per model."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..spectral import SpectralReport, spectral_report
from ._common import _NAMES, _as_list, _check_names, _pyplot

# Constraints of the plot arguments that both from_* methods take.
_SPECTRUM_PLOT_CONSTRAINTS = {
    "names": _NAMES,
    "layers": [str, Integral, "array-like", None],
    "ax": [HasMethods(["plot"]), "array-like", None],
    "logy": ["boolean"],
}


def _default_name(obj, i: int) -> str:
    return type(obj).__name__ if not isinstance(obj, SpectralReport) else f"report {i}"


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
