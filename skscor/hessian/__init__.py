"""Spectrum of the loss Hessian, overall and per class.

:func:`hessian_spectrum` works on a plain :class:`torch.nn.Module` and tensors:
extreme eigenvalues by ARPACK (:func:`scipy.sparse.linalg.eigsh`) on
Hessian-vector products, the trace by Hutchinson's estimator and the spectral
density by stochastic Lanczos quadrature. :func:`class_hessian_spectrum` runs
it on each class's samples, for a fitted skscor estimator or a module.
"""

# One concern per private module: _operator (Hessian-vector products),
# _solvers (eigenvalues, trace, density), _results (the returned objects),
# _api (the two public functions).
from ._api import class_hessian_spectrum, hessian_spectrum
from ._results import ClassHessianSpectrum, HessianSpectrum

__all__ = [
    "HessianSpectrum",
    "ClassHessianSpectrum",
    "hessian_spectrum",
    "class_hessian_spectrum",
]
