"""Solvers on Hessian-vector products: extreme eigenvalues, trace, density."""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from sklearn.exceptions import ConvergenceWarning

from ._results import HessianSpectrum

# Below this many parameters the Hessian is built column by column: that costs
# no more products than a single ARPACK restart (ncv=20) and is exact.
_DENSE_MAX_PARAMS = 20


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
