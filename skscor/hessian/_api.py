"""The public functions: :func:`hessian_spectrum` and :func:`class_hessian_spectrum`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from .._docs import fill_doc
from ..utils._validation import (
    StrictInterval,
    check_known_labels,
    invalid_parameter,
)
from ._operator import _HVP, _as_tensors, _EvalMode, _trainable
from ._results import _SADDLE_TOL, ClassHessianSpectrum, HessianSpectrum
from ._solvers import _spectrum

_SEED_MAX = 2**31 - 1


def _count(minimum: int) -> StrictInterval:
    return StrictInterval(Integral, minimum, None, closed="left")


# Constraints of the solver parameters that class_hessian_spectrum passes on
# to hessian_spectrum: declared once so the two cannot drift apart.
_SOLVER_CONSTRAINTS = {
    "loss_fn": [callable, None],
    "which": [StrOptions({"max", "min"}), "array-like"],
    "n_hutchinson": [_count(0)],
    "density": ["boolean"],
    "lanczos_steps": [_count(1)],
    "n_slq": [_count(1)],
    "grid_size": [_count(2)],
    "bandwidth": [StrictInterval(Real, 0, None, closed="neither")],
    "tol": [StrictInterval(Real, 0, None, closed="left")],
    "maxiter": [_count(1), None],
    "batch_size": [_count(1)],
    "random_state": ["random_state"],
}


def _check_which(which, caller: str) -> set[str]:
    """The set of requested extremes; validate_params has checked the type only."""
    wanted = {which} if isinstance(which, str) else set(which)
    if not wanted <= {"max", "min"}:
        expected = "'max', 'min' or a sequence of them"
        raise invalid_parameter("which", caller, expected, which)
    return wanted


def _default_loss(logits: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(logits, y)


@validate_params(
    {"module": [nn.Module], "X": ["array-like"], "y": ["array-like"]}
    | _SOLVER_CONSTRAINTS,
    prefer_skip_nested_validation=True,
)
@fill_doc
def hessian_spectrum(
    module: nn.Module,
    X: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    *,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    which: Sequence[str] = ("max", "min"),
    n_hutchinson: int = 100,
    density: bool = False,
    lanczos_steps: int = 40,
    n_slq: int = 4,
    grid_size: int = 256,
    bandwidth: float = 0.01,
    tol: float = 1e-4,
    maxiter: int | None = None,
    batch_size: int = 1024,
    random_state: int | np.random.RandomState | None = None,
) -> HessianSpectrum:
    """Extreme eigenvalues, trace and density of the loss Hessian of a module.

    The Hessian is that of the mean loss over ``(X, y)`` with respect to all
    parameters with ``requires_grad=True``, taken in eval mode (no dropout,
    BatchNorm running statistics). Only Hessian-vector products are formed.

    Parameters
    ----------
    module : torch.nn.Module
        Network returning logits (or a tuple whose first element is logits).
    X : Tensor or ndarray of shape (n_samples, ...)
        Inputs; cast to the dtype and device of the module's parameters.
    y : Tensor or ndarray of shape (n_samples,)
        Integer class indices.
    loss_fn : callable, default=None
        ``loss_fn(logits, y) -> scalar``, reduced by the *mean* over the
        batch. ``None`` uses :func:`torch.nn.functional.cross_entropy`.
    which : sequence of {'max', 'min'}, default=('max', 'min')
        Extreme eigenvalues to compute. ``'min'`` needs ``lambda_max`` as a
        shift, so it is computed (and reported) too.
    n_hutchinson : int, default=100
        Rademacher probes for the trace; 0 skips the trace.
    density : bool, default=False
        Estimate the eigenvalue density by stochastic Lanczos quadrature.
    lanczos_steps : int, default=40
        Lanczos steps per density probe (capped at the number of parameters).
    n_slq : int, default=4
        Random probes averaged in the density.
    grid_size : int, default=256
        Points of the density grid.
    bandwidth : float, default=0.01
        Gaussian broadening of the density, as a fraction of the spectral width.
    tol : float, default=1e-4
        Relative tolerance of :func:`scipy.sparse.linalg.eigsh`. For
        ``lambda_min`` it is relative to ``lambda_max - lambda_min``.
    maxiter : int, default=None
        ARPACK restarts; ``None`` is ARPACK's default. On non-convergence a
        :class:`~sklearn.exceptions.ConvergenceWarning` is raised and the best
        Ritz value returned (NaN if none).
    batch_size : int, default=1024
        Samples per forward pass. With one chunk the gradient graph is kept
        and reused across products; with more, memory stays that of one chunk
        and each product recomputes the chunks.
    random_state : int, RandomState instance or None, default=None
        Seeds the ARPACK start vector and the Hutchinson and Lanczos probes.

    Returns
    -------
    spectrum : HessianSpectrum
        Eigenvalues, trace (and standard error), optional density and the
        number of Hessian-vector products used.

    See Also
    --------
    class_hessian_spectrum : The same, on each class's samples.

    Notes
    -----
    Products :math:`Hv = \\nabla_\\theta (\\nabla_\\theta L \\cdot v)` come from
    double backward in the parameters' dtype; the operator handed to ARPACK is
    float64. ``lambda_max`` is found with ``which='LA'``; ``lambda_min`` with
    ``which='SA'`` on :math:`H - \\lambda_{max} I`, which is negative
    semi-definite, so the tolerance is relative to the spectral width rather
    than to a near-zero :math:`\\lambda_{min}` (unattainable in float32).

    Hutchinson: :math:`\\mathrm{tr}(H) \\approx \\frac1m \\sum_{i=1}^m z_i^\\top
    H z_i` with Rademacher :math:`z_i`; ``trace_std`` is the sample standard
    deviation over :math:`\\sqrt m`.

    SLQ: for each unit probe :math:`v`, ``lanczos_steps`` Lanczos steps (full
    reorthogonalization) give :math:`T = U \\Theta U^\\top`; the density is
    :math:`\\phi(t) = \\frac{1}{n_{slq}} \\sum_v \\sum_i U_{1i}^2\\,
    g_\\sigma(t - \\theta_i)`, :math:`g_\\sigma` a Gaussian with
    :math:`\\sigma` = ``bandwidth`` times the width of the Ritz values. The
    grid extends :math:`5\\sigma` beyond the extreme eigenvalues, so the
    density integrates to 1 up to discretization.

    With at most 20 parameters the Hessian is assembled from unit-vector
    products and solved exactly (trace exact, ``trace_std = 0``).

    Module state is left as found: each submodule's train/eval flag is
    restored, ``requires_grad`` flags are not changed, and ``.grad`` is never
    written (products use :func:`torch.autograd.grad`).

    %(ref_sam_imbalance)s
    .. [2] B. Ghorbani, S. Krishnan and Y. Xiao, "An Investigation into Neural
       Net Optimization via Hessian Eigenvalue Density", ICML 2019.
    .. [3] M. F. Hutchinson, "A stochastic estimator of the trace of the
       influence matrix for Laplacian smoothing splines", Communications in
       Statistics - Simulation and Computation, 1989.

    Examples
    --------
    >>> import torch
    >>> from skscor.hessian import hessian_spectrum
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ... )
    >>> X, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    >>> spec = hessian_spectrum(net, X, y, n_hutchinson=10, random_state=0)
    >>> bool(spec.lambda_max >= spec.lambda_min)
    True
    """
    wanted = _check_which(which, "hessian_spectrum")
    loss_fn = _default_loss if loss_fn is None else loss_fn
    rng = check_random_state(random_state)
    params = _trainable(module)
    X, y = _as_tensors(X, y, params[0].dtype, params[0].device)

    with _EvalMode(module), torch.enable_grad():
        hvp = _HVP(module, params, X, y, loss_fn, batch_size)
        return _spectrum(
            hvp, wanted, n_hutchinson, density, lanczos_steps, n_slq,
            grid_size, bandwidth, tol, maxiter, rng, len(X),
        )  # fmt: skip


def _resolve(estimator, X, y):
    """Return ``(module, X tensor, y indices, labels of the indices, decision)``.

    ``decision`` maps the module's outputs to the estimator's decision logits
    (``net_.criterion_.decision_logits``: LDAM's scale), None for a module.
    """
    if isinstance(estimator, nn.Module):
        module = estimator
        params = _trainable(module)
        y = column_or_1d(np.asarray(y.cpu() if isinstance(y, Tensor) else y))
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                "with a torch.nn.Module, y must hold integer class indices, got "
                f"dtype {y.dtype}"
            )
        X_t, y_t = _as_tensors(X, y, params[0].dtype, params[0].device)
        return module, X_t, y_t, None, None
    check_is_fitted(estimator)
    net = getattr(estimator, "net_", None)
    module = getattr(net, "module_", None)
    if not isinstance(module, nn.Module):
        raise TypeError(
            "estimator must be a fitted skscor estimator (with net_.module_) or a "
            f"torch.nn.Module, got {type(estimator).__name__}"
        )
    params = _trainable(module)
    # The estimator's own validation and input conditioning (categoricals,
    # scaling, NaN): the Hessian is that of the network on its actual input.
    encode = getattr(estimator, "_network_input", None)
    X = encode(X) if encode is not None else validate_data(estimator, X, reset=False)
    y = column_or_1d(y)
    classes = np.asarray(estimator.classes_)
    index = {label: i for i, label in enumerate(classes.tolist())}
    check_known_labels(y.tolist(), index, name="y", where="estimator.classes_")
    codes = np.array([index[v] for v in y.tolist()], dtype=np.int64)
    X_t, y_t = _as_tensors(X, codes, params[0].dtype, params[0].device)
    decision = getattr(getattr(net, "criterion_", None), "decision_logits", None)
    return module, X_t, y_t, classes, decision


def _decision_cross_entropy(decision):
    """Cross-entropy of the decision logits: the log-loss of ``predict_proba``."""

    def loss(outputs: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(decision(outputs), y)

    return loss


@validate_params(
    {
        "estimator": [nn.Module, HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "classes": ["array-like", None],
        "max_samples_per_class": [_count(1), None],
        "saddle_tol": [StrictInterval(Real, 0, None, closed="left")],
    }
    | _SOLVER_CONSTRAINTS,
    prefer_skip_nested_validation=True,
)
@fill_doc
def class_hessian_spectrum(
    estimator,
    X,
    y,
    *,
    classes=None,
    max_samples_per_class: int | None = 256,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    which: Sequence[str] = ("max", "min"),
    n_hutchinson: int = 100,
    density: bool = False,
    lanczos_steps: int = 40,
    n_slq: int = 4,
    grid_size: int = 256,
    bandwidth: float = 0.01,
    tol: float = 1e-4,
    maxiter: int | None = None,
    batch_size: int = 1024,
    saddle_tol: float = _SADDLE_TOL,
    random_state=None,
) -> ClassHessianSpectrum:
    """Hessian spectrum of the loss on each class's samples.

    For class :math:`c`, the Hessian of
    :math:`L_c(\\theta) = \\frac{1}{n_c} \\sum_{i: y_i = c} \\ell(f_\\theta(x_i), c)`
    with respect to all trainable parameters, in eval mode.

    Parameters
    ----------
    estimator : fitted skscor estimator or torch.nn.Module
        An estimator exposing ``net_.module_`` and ``classes_`` (``X`` is
        validated with ``validate_data(estimator, X, reset=False)`` and ``y``
        holds original labels), or a module (``y`` holds class indices).
    X : array-like or Tensor of shape (n_samples, n_features)
        Inputs.
    y : array-like of shape (n_samples,)
        Labels (estimator) or integer class indices (module).
    classes : array-like, default=None
        Classes to analyse, in this order; each needs samples in ``y``.
        ``None`` takes the classes present in ``y`` (in ``classes_`` order).
    max_samples_per_class : int or None, default=256
        Cap on the samples per class, drawn without replacement with
        ``random_state``; ``None`` uses them all.
    loss_fn : callable, default=None
        Mean-reduced ``loss_fn(outputs, y_indices)`` of the module's outputs.
        ``None`` is the cross-entropy of the decision logits: for an
        estimator, the outputs mapped as prediction maps them
        (``net_.criterion_.decision_logits``: LDAM's cosines times its scale
        ``s``), so the loss is the log-loss of ``predict_proba`` (without a
        post-hoc logit adjustment); for a module, its outputs. A callable
        receives the module's outputs, as the training loss does:
        ``loss_fn=est.net_.criterion_`` studies the landscape the estimator
        was trained on (not MR2's loss, which also needs the penultimate
        features).
    which, n_hutchinson, density, lanczos_steps, n_slq, grid_size, bandwidth, \
tol, maxiter, batch_size
        As in :func:`hessian_spectrum`.
    saddle_tol : float, default=0.1
        A class is a saddle (``is_saddle``) when its negative curvature is at
        least this share of its positive curvature:
        ``lambda_min < -saddle_tol * lambda_max`` (any negative
        ``lambda_min`` when ``lambda_max <= 0``). See Notes for the choice.
    random_state : int, RandomState instance or None, default=None
        Seeds the per-class subsampling and the solvers; each class gets its
        own seed drawn up front, so results do not depend on ``classes`` order.

    Returns
    -------
    spectrum : ClassHessianSpectrum
        Per-class ``lambda_max``, ``lambda_min``, trace, saddle flag and
        optional density.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``y`` or ``classes`` holds a label unknown to the estimator, or a
        requested class has no sample in ``y``.

    Notes
    -----
    Rangwani et al. observe that on long-tailed data the minority classes'
    loss converges to saddle points (large negative :math:`\\lambda_{min}`)
    and that SAM with high :math:`\\rho` escapes them. See
    :func:`hessian_spectrum` for the numerical method.

    A class's loss is not minimised on its own, so its Hessian is rarely
    positive semi-definite: some negative curvature is the rule, and what
    tells a stuck class from a learned one is its share of the positive
    curvature, :math:`-\\lambda_{min} / \\lambda_{max}` (scale-free: the
    same for a loss multiplied by a constant). Measured on scikit-learn's
    digits (MLP 64-32-10, one digit cut to a tenth or a fortieth of its
    training rows, 3 seeds; ``SCoRClassifier`` and ``SAMClassifier`` at
    their defaults, ``SAMClassifier`` and cross-entropy without class
    weights; 24 fits of 200 epochs): the 234 classes the network learned
    (training recall at least 0.92) lie between 0.02 and 0.065; the 6 cut
    classes that unweighted training never predicts (3 training rows,
    recall 0) between 0.14 and 0.17. After 30 epochs, classes still being
    learned lie between 0.096 and 0.48 and never predicted ones between
    0.35 and 0.52; an untrained network is near 0.95 for every class.
    Hence ``saddle_tol=0.1``. The former criterion,
    :math:`\\lambda_{min}` below :math:`-10^{-3}` times the largest
    :math:`|\\lambda|`, flagged every class of every trained model.

    %(ref_sam_imbalance)s

    Examples
    --------
    >>> import torch
    >>> from skscor.hessian import class_hessian_spectrum
    >>> net = torch.nn.Linear(4, 3)  # 15 parameters: the exact Hessian is used
    >>> X, y = torch.randn(60, 4), torch.arange(60) % 3
    >>> spec = class_hessian_spectrum(net, X, y, n_hutchinson=10, random_state=0)
    >>> spec.labels
    array([0, 1, 2])
    """
    # hessian_spectrum does not re-validate (nested validation is skipped)
    _check_which(which, "class_hessian_spectrum")
    module, X_t, y_t, class_labels, decision = _resolve(estimator, X, y)
    if loss_fn is None and decision is not None:
        loss_fn = _decision_cross_entropy(decision)
    y_np = y_t.cpu().numpy()
    present = np.unique(y_np)
    if classes is None:
        codes = present
    else:
        requested = column_or_1d(classes).tolist()
        if class_labels is None:
            codes = np.asarray(requested, dtype=np.int64)
        else:
            index = {label: i for i, label in enumerate(class_labels.tolist())}
            check_known_labels(
                requested, index, name="classes", where="estimator.classes_"
            )
            codes = np.array([index[c] for c in requested], dtype=np.int64)
        missing = [r for r, c in zip(requested, codes, strict=True) if c not in present]
        if missing:
            raise ValueError(f"classes {missing} have no samples in y")
    rng = check_random_state(random_state)
    seeds = dict(
        zip(present.tolist(), rng.randint(_SEED_MAX, size=len(present)), strict=True)
    )
    spectra = []
    for code in codes.tolist():
        class_rng = np.random.RandomState(seeds[code])
        idx = np.flatnonzero(y_np == code)
        if max_samples_per_class is not None and len(idx) > max_samples_per_class:
            idx = np.sort(class_rng.choice(idx, max_samples_per_class, replace=False))
        idx_t = torch.as_tensor(idx, device=X_t.device)
        spectra.append(
            hessian_spectrum(
                module,
                X_t[idx_t],
                y_t[idx_t],
                loss_fn=loss_fn,
                which=which,
                n_hutchinson=n_hutchinson,
                density=density,
                lanczos_steps=lanczos_steps,
                n_slq=n_slq,
                grid_size=grid_size,
                bandwidth=bandwidth,
                tol=tol,
                maxiter=maxiter,
                batch_size=batch_size,
                random_state=class_rng,
            )
        )
    labels = codes if class_labels is None else class_labels[codes]
    return ClassHessianSpectrum(
        labels=np.asarray(labels), spectra=spectra, saddle_tol=float(saddle_tol)
    )
