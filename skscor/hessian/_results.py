"""Result objects of the Hessian analysis: one spectrum, and one per class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..utils._optional import import_optional
from ..utils._repr import format_repr, format_table

# Default of ``saddle_tol``: a saddle when the most negative curvature reaches
# this share of the most positive one. Chosen from measurements on trained
# and stuck classes (see class_hessian_spectrum's Notes).
_SADDLE_TOL = 0.1


@dataclass(eq=False)
class HessianSpectrum:
    """Spectral summary of the Hessian of a mean loss.

    Attributes
    ----------
    n_samples : int
        Samples the loss averages over.
    n_params : int
        Trainable parameters (the Hessian is ``n_params x n_params``).
    lambda_max, lambda_min : float
        Largest and smallest eigenvalue; NaN when not requested.
    trace : float
        Hutchinson estimate of the trace (exact for tiny models); NaN when
        ``n_hutchinson=0``.
    trace_std : float
        Standard error of ``trace`` (0 when exact).
    density_grid, density : ndarray of shape (grid_size,) or None
        Eigenvalue density estimate on a grid (``density=True`` only).
    n_hvp : int
        Hessian-vector products used: the cost of the computation.
    """

    n_samples: int
    n_params: int
    lambda_max: float
    lambda_min: float
    trace: float
    trace_std: float
    density_grid: np.ndarray | None
    density: np.ndarray | None
    n_hvp: int

    def is_saddle(self, saddle_tol: float = _SADDLE_TOL) -> bool:
        """Whether the negative curvature is a sizeable share of the positive one.

        Parameters
        ----------
        saddle_tol : float, default=0.1
            Threshold on ``-lambda_min / lambda_max``.

        Returns
        -------
        saddle : bool
            ``lambda_min < -saddle_tol * lambda_max`` (with ``lambda_max <= 0``,
            any negative ``lambda_min``); False when ``lambda_min`` is NaN.
        """
        # no positive curvature to compare with: any negative one is a saddle
        return bool(self.lambda_min < -saddle_tol * max(self.lambda_max, 0.0))

    def __repr__(self) -> str:
        fields = ("n_samples", "n_params", "lambda_max", "lambda_min", "trace")
        return format_repr(self, *fields, density=self.density is not None)


def _per_class(attr: str, doc: str) -> property:
    """A read-only array of one :class:`HessianSpectrum` field, aligned with labels."""
    return property(
        lambda self: np.array([getattr(s, attr) for s in self.spectra]), doc=doc
    )


@dataclass(eq=False)
class ClassHessianSpectrum:
    """Per-class Hessian spectra, as returned by :func:`class_hessian_spectrum`.

    Attributes
    ----------
    labels : ndarray of shape (n_classes,)
        The class labels analysed (original labels for an estimator, class
        indices for a module).
    spectra : list of HessianSpectrum
        One entry per label.
    saddle_tol : float
        Threshold of :attr:`is_saddle` on ``-lambda_min / lambda_max``.

    The arrays ``n_samples``, ``lambda_max``, ``lambda_min``, ``trace``,
    ``trace_std`` and ``is_saddle`` are aligned with ``labels``;
    ``report[label]`` returns that class's :class:`HessianSpectrum`.
    """

    labels: np.ndarray
    spectra: list[HessianSpectrum]
    saddle_tol: float

    n_samples = _per_class("n_samples", "Samples analysed per class.")
    lambda_max = _per_class("lambda_max", "Largest Hessian eigenvalue per class.")
    lambda_min = _per_class("lambda_min", "Smallest Hessian eigenvalue per class.")
    trace = _per_class("trace", "Hutchinson trace estimate per class.")
    trace_std = _per_class("trace_std", "Standard error of ``trace`` per class.")

    @property
    def is_saddle(self) -> np.ndarray:
        """``lambda_min < -saddle_tol * lambda_max`` per class."""
        return np.array([s.is_saddle(self.saddle_tol) for s in self.spectra])

    @property
    def has_density(self) -> bool:
        return all(s.density is not None for s in self.spectra)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, label) -> HessianSpectrum:
        for lab, spectrum in zip(self.labels.tolist(), self.spectra, strict=True):
            if lab == label:
                return spectrum
        raise KeyError(f"no class {label!r}; available: {self.labels.tolist()}")

    def to_frame(self):
        """One row per class as a :class:`pandas.DataFrame`.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``label, n_samples, lambda_max, lambda_min, trace,
            trace_std, is_saddle``.
        """
        pd = import_optional("pandas", purpose="ClassHessianSpectrum.to_frame")
        return pd.DataFrame(
            {
                "label": self.labels,
                "n_samples": self.n_samples,
                "lambda_max": self.lambda_max,
                "lambda_min": self.lambda_min,
                "trace": self.trace,
                "trace_std": self.trace_std,
                "is_saddle": self.is_saddle,
            }
        )

    def __repr__(self) -> str:
        header = ("label", "n", "lambda_max", "lambda_min", "trace", "saddle")
        rows = [
            (
                str(lab),
                str(s.n_samples),
                f"{s.lambda_max:.4g}",
                f"{s.lambda_min:.4g}",
                f"{s.trace:.4g}",
                "yes" if s.is_saddle(self.saddle_tol) else "no",
            )
            for lab, s in zip(self.labels.tolist(), self.spectra, strict=True)
        ]
        n_params = self.spectra[0].n_params if self.spectra else 0
        return (
            f"ClassHessianSpectrum({len(self.labels)} classes, {n_params} parameters)\n"
            + format_table(header, rows)
        )
