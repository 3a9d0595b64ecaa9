"""Spectrum of the loss Hessian, overall and per class.

:func:`hessian_spectrum` works on a plain :class:`torch.nn.Module` and tensors:
extreme eigenvalues by ARPACK (:func:`scipy.sparse.linalg.eigsh`) on
Hessian-vector products, the trace by Hutchinson's estimator and the spectral
density by stochastic Lanczos quadrature. :func:`class_hessian_spectrum` runs
it on each class's samples, for a fitted skscor estimator or a module.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from ._docs import fill_doc
from .utils._optional import import_optional
from .utils._repr import format_repr, format_table
from .utils._validation import (
    StrictInterval,
    check_known_labels,
    check_paired,
    invalid_parameter,
)

__all__ = [
    "HessianSpectrum",
    "ClassHessianSpectrum",
    "hessian_spectrum",
    "class_hessian_spectrum",
]

# Below this many parameters the Hessian is built column by column: that costs
# no more products than a single ARPACK restart (ncv=20) and is exact.
_DENSE_MAX_PARAMS = 20
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

    def is_saddle(self, saddle_tol: float = 1e-3) -> bool:
        """Whether ``lambda_min < -saddle_tol * max(|lambda_max|, |lambda_min|)``."""
        scale = max(abs(self.lambda_max), abs(self.lambda_min))
        return bool(self.lambda_min < -saddle_tol * scale)

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
        Relative tolerance for :attr:`is_saddle`.

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
        """``lambda_min < -saddle_tol * max(|lambda_max|, |lambda_min|)`` per class."""
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


class _HVP:
    """Hessian-vector products of the mean loss over ``(X, y)``.

    With a single chunk the gradient graph is built once and reused
    (``retain_graph``); with several chunks each product recomputes the
    forward and backward pass chunk by chunk, so memory stays that of one
    chunk.
    """

    def __init__(self, module, params, X, y, loss_fn, batch_size):
        self.module, self.params, self.X, self.y = module, params, X, y
        self.loss_fn = loss_fn
        n = len(X)
        self.chunks = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
        self.sizes = [p.numel() for p in params]
        self.n_params = sum(self.sizes)
        self.device = params[0].device
        self.n_calls = 0
        self._grads = self._gradient(*self.chunks[0]) if len(self.chunks) == 1 else None

    def _gradient(self, start, stop):
        out = self.module(self.X[start:stop])
        if isinstance(out, tuple | list):
            out = out[0]  # skorch's convention: the first output is the prediction
        weight = (stop - start) / len(self.X)
        loss = self.loss_fn(out, self.y[start:stop]) * weight
        grads = torch.autograd.grad(
            loss, self.params, create_graph=True, allow_unused=True
        )
        return [
            g if g is not None else torch.zeros_like(p)
            for g, p in zip(grads, self.params, strict=True)
        ]

    def _product(self, grads, vecs, retain):
        keep = [i for i, g in enumerate(grads) if g.requires_grad]
        out = [torch.zeros_like(p) for p in self.params]
        if keep:
            hv = torch.autograd.grad(
                [grads[i] for i in keep],
                self.params,
                grad_outputs=[vecs[i] for i in keep],
                retain_graph=retain,
                allow_unused=True,
            )
            out = [h if h is not None else o for h, o in zip(hv, out, strict=True)]
        return out

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.n_calls += 1
        flat = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).ravel())
        vecs = [
            part.reshape(p.shape).to(device=self.device, dtype=p.dtype)
            for part, p in zip(torch.split(flat, self.sizes), self.params, strict=True)
        ]
        if self._grads is not None:
            hv = self._product(self._grads, vecs, retain=True)
        else:
            hv = [torch.zeros_like(p) for p in self.params]
            for start, stop in self.chunks:
                part = self._product(self._gradient(start, stop), vecs, retain=False)
                hv = [a + b for a, b in zip(hv, part, strict=True)]
        return torch.cat([h.reshape(-1) for h in hv]).to("cpu", torch.float64).numpy()


def _eigsh_extreme(matvec, n, which, v0, tol, maxiter, label):
    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    try:
        vals = eigsh(
            op, k=1, which=which, v0=v0, tol=tol, maxiter=maxiter,
            return_eigenvectors=False,
        )  # fmt: skip
    except ArpackNoConvergence as exc:
        warnings.warn(
            f"eigsh did not converge for {label} within maxiter={maxiter}; "
            "returning the best Ritz value. Increase maxiter or tol.",
            ConvergenceWarning,
            stacklevel=4,
        )
        vals = exc.eigenvalues
        if len(vals) == 0:
            return math.nan
    return float(vals[0])


def _lanczos(matvec, v0: np.ndarray, steps: int):
    """Lanczos tridiagonalization with full reorthogonalization.

    Returns the diagonal ``alpha`` and off-diagonal ``beta`` of ``T``; stops
    early on breakdown (an invariant subspace, where the Ritz values are exact).
    """
    Q = np.empty((steps, len(v0)))
    Q[0] = v0 / np.linalg.norm(v0)
    alpha, beta = [], []
    for j in range(steps):
        w = matvec(Q[j])
        alpha.append(float(Q[j] @ w))
        basis = Q[: j + 1]
        # twice is enough (Kahan-Parlett) to keep the basis orthogonal
        w = w - basis.T @ (basis @ w)
        w = w - basis.T @ (basis @ w)
        b = float(np.linalg.norm(w))
        if j == steps - 1 or b <= 1e-10 * max(1.0, abs(alpha[-1])):
            break
        beta.append(b)
        Q[j + 1] = w / b
    return np.asarray(alpha), np.asarray(beta)


def _gaussian_density(nodes, weights, lo, hi, grid_size, sigma):
    grid = np.linspace(lo, hi, grid_size)
    z = (grid[:, None] - nodes[None, :]) / sigma
    density = (np.exp(-0.5 * z**2) @ weights) / (sigma * math.sqrt(2 * math.pi))
    return grid, density


def _check_which(which, caller: str) -> set[str]:
    """The set of requested extremes; validate_params has checked the type only."""
    wanted = {which} if isinstance(which, str) else set(which)
    if not wanted <= {"max", "min"}:
        expected = "'max', 'min' or a sequence of them"
        raise invalid_parameter("which", caller, expected, which)
    return wanted


def _default_loss(logits: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(logits, y)


def _trainable(module: nn.Module) -> list[nn.Parameter]:
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ValueError("module has no parameters with requires_grad=True")
    return params


def _as_tensors(X, y, dtype, device):
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, Tensor) else X)
    X = X.to(device=device, dtype=dtype)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, Tensor) else y)
    y = y.to(device=device, dtype=torch.long)
    check_paired(X=X, y=y)
    return X, y


class _EvalMode:
    """Put every submodule in eval mode; restore each one's own flag on exit.

    Not ``utils._torch.eval_mode``: that restores the root's flag with
    ``train(flag)``, which overwrites submodules that were in another mode
    (a frozen BatchNorm in eval inside a model in train mode).
    """

    def __init__(self, module: nn.Module):
        self.flags = [(m, m.training) for m in module.modules()]

    def __enter__(self):
        for m, _ in self.flags:
            m.training = False

    def __exit__(self, *exc):
        for m, flag in self.flags:
            m.training = flag


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


def _spectrum(
    hvp, wanted, n_hutchinson, density, lanczos_steps, n_slq,
    grid_size, bandwidth, tol, maxiter, rng, n_samples,
):  # fmt: skip
    n = hvp.n_params
    nan = math.nan
    lam_max = lam_min = trace = trace_std = nan
    nodes: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if n <= _DENSE_MAX_PARAMS:
        H = np.stack([hvp(e) for e in np.eye(n)], axis=1)
        evals = np.linalg.eigvalsh((H + H.T) / 2)
        if wanted:
            lam_max = float(evals[-1])
        if "min" in wanted:
            lam_min = float(evals[0])
        if n_hutchinson:
            trace, trace_std = float(evals.sum()), 0.0
        if density:
            # exact spectral measure, as SLQ would give with n Lanczos steps
            nodes, weights = [evals], [np.full(n, 1.0 / n)]
    else:
        if wanted:
            lam_max = _eigsh_extreme(
                hvp, n, "LA", rng.standard_normal(n), tol, maxiter, "lambda_max"
            )
        if "min" in wanted:
            shift = lam_max if math.isfinite(lam_max) else 0.0

            def shifted(v):
                return hvp(v) - shift * np.ravel(v)

            lam_min = shift + _eigsh_extreme(
                shifted, n, "SA", rng.standard_normal(n), tol, maxiter, "lambda_min"
            )
        if n_hutchinson:
            quad = np.empty(n_hutchinson)
            for i in range(n_hutchinson):
                z = rng.choice([-1.0, 1.0], size=n)
                quad[i] = z @ hvp(z)
            trace = float(quad.mean())
            trace_std = (
                float(quad.std(ddof=1) / math.sqrt(n_hutchinson))
                if n_hutchinson > 1
                else nan
            )
        if density:
            for _ in range(n_slq):
                v0 = rng.choice([-1.0, 1.0], size=n)
                alpha, beta = _lanczos(hvp, v0, min(lanczos_steps, n))
                theta, U = eigh_tridiagonal(alpha, beta)
                nodes.append(theta)
                weights.append(U[0] ** 2)
    grid = dens = None
    if density:
        all_nodes = np.concatenate(nodes)
        lo = np.nanmin([all_nodes.min(), lam_min])
        hi = np.nanmax([all_nodes.max(), lam_max])
        width = hi - lo
        sigma = bandwidth * (width if width > 0 else max(abs(hi), 1.0))
        grid, dens = _gaussian_density(
            all_nodes,
            np.concatenate(weights) / len(nodes),
            lo - 5 * sigma,
            hi + 5 * sigma,
            grid_size,
            sigma,
        )
    return HessianSpectrum(
        n_samples=n_samples,
        n_params=n,
        lambda_max=lam_max,
        lambda_min=lam_min,
        trace=trace,
        trace_std=trace_std,
        density_grid=grid,
        density=dens,
        n_hvp=hvp.n_calls,
    )


def _resolve(estimator, X, y):
    """Return ``(module, X tensor, y indices, labels of the indices)``."""
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
        return module, X_t, y_t, None
    check_is_fitted(estimator)
    net = getattr(estimator, "net_", None)
    module = getattr(net, "module_", None)
    if not isinstance(module, nn.Module):
        raise TypeError(
            "estimator must be a fitted skscor estimator (with net_.module_) or a "
            f"torch.nn.Module, got {type(estimator).__name__}"
        )
    params = _trainable(module)
    X = validate_data(estimator, X, reset=False)
    y = column_or_1d(y)
    classes = np.asarray(estimator.classes_)
    index = {label: i for i, label in enumerate(classes.tolist())}
    check_known_labels(y.tolist(), index, name="y", where="estimator.classes_")
    codes = np.array([index[v] for v in y.tolist()], dtype=np.int64)
    X_t, y_t = _as_tensors(X, codes, params[0].dtype, params[0].device)
    return module, X_t, y_t, classes


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
    saddle_tol: float = 1e-3,
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
        Mean-reduced ``loss_fn(logits, y_indices)``; ``None`` is cross-entropy.
        (For an estimator trained with another loss, pass that loss to study
        its landscape.)
    which, n_hutchinson, density, lanczos_steps, n_slq, grid_size, bandwidth, \
tol, maxiter, batch_size
        As in :func:`hessian_spectrum`.
    saddle_tol : float, default=1e-3
        A class is a saddle when
        ``lambda_min < -saddle_tol * max(|lambda_max|, |lambda_min|)``.
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
    module, X_t, y_t, class_labels = _resolve(estimator, X, y)
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
