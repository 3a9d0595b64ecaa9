"""HessianDensityDisplay: per-class Hessian eigenvalue densities."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import HasMethods, validate_params
from torch import nn

from ..hessian import ClassHessianSpectrum, class_hessian_spectrum
from ..utils._validation import StrictInterval
from ._common import _AX, _pyplot

# A density on a log scale spans hundreds of decades (Gaussian tails between
# eigenvalues); the y-axis shows this many below the highest peak.
_DENSITY_DECADES = 6


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
