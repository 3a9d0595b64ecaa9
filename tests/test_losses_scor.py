"""SCoR loss against a reference written from its definition."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skscor.losses import BatchContext, SCoRLoss, scor_loss, scor_penalty

TOL = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-12, "atol": 1e-12},
}


def _reference_penalty(z: np.ndarray, perm: np.ndarray) -> float:
    """||A^T B||_F from explicit sums, in float64."""
    n, c = z.shape
    if n % 2:
        m = np.zeros((c, c))
        for i in range(n):
            m += np.outer(z[i], z[i])
        return float(np.sqrt((m**2).sum()))
    half = n // 2
    a_rows, b_rows = perm[half:], perm[:half]
    m = np.zeros((c, c))
    for k in range(half):
        m += np.outer(z[a_rows[k]], z[b_rows[k]])
    return float(np.sqrt((m**2).sum()))


def _reference_ce(z: np.ndarray, y: np.ndarray, w=None, eps=0.0) -> float:
    n, c = z.shape
    total = 0.0
    for i in range(n):
        logp = z[i] - z[i].max() - np.log(np.exp(z[i] - z[i].max()).sum())
        target = np.full(c, eps / c)
        target[y[i]] += 1 - eps
        total += -(target * logp).sum() * (1.0 if w is None else w[i])
    return total / n


def _perm_for(n, seed, device="cpu"):
    g = torch.Generator(device=device).manual_seed(seed)
    return torch.randperm(n, generator=g, device=device).cpu().numpy()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", [2, 7, 8, 33])
@pytest.mark.parametrize("alpha", [1e-4, 0.3])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_scor_loss_matches_reference(dtype, n, alpha, eps):
    rng = np.random.default_rng(n)
    z = rng.normal(scale=3.0, size=(n, 4))
    y = rng.integers(0, 4, size=n)
    expected = _reference_ce(z, y, eps=eps) + alpha * _reference_penalty(
        z, _perm_for(n, 5)
    )
    zt = torch.tensor(z, dtype=dtype)
    g = torch.Generator().manual_seed(5)
    got = scor_loss(zt, torch.tensor(y), alpha=alpha, label_smoothing=eps, generator=g)
    tol = TOL[dtype]
    np.testing.assert_allclose(got.item(), expected, **tol)
    assert got.dtype == dtype


@pytest.mark.parametrize("n", [6, 9])
def test_scor_gradient_matches_reference(n):
    """Gradient of the penalty from its closed form, d||M||_F = M / ||M||_F."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(n, 3))
    zt = torch.tensor(z, requires_grad=True)
    g = torch.Generator().manual_seed(3)
    scor_penalty(zt, generator=g).backward()
    perm = _perm_for(n, 3)
    grad = np.zeros_like(z)
    if n % 2:
        m = z.T @ z
        gm = m / np.linalg.norm(m)
        grad = z @ (gm + gm.T)
    else:
        a_idx, b_idx = perm[n // 2 :], perm[: n // 2]
        m = z[a_idx].T @ z[b_idx]
        gm = m / np.linalg.norm(m)
        grad[a_idx] += z[b_idx] @ gm.T
        grad[b_idx] += z[a_idx] @ gm
    np.testing.assert_allclose(zt.grad.numpy(), grad, rtol=1e-10, atol=1e-12)


def test_gradcheck_float64():
    z = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2])

    def f(z):
        return scor_loss(z, y, alpha=0.5, generator=torch.Generator().manual_seed(0))

    assert torch.autograd.gradcheck(f, (z,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_alpha_zero_is_cross_entropy_exactly(dtype):
    z = torch.randn(10, 5, dtype=dtype, requires_grad=True)
    y = torch.randint(0, 5, (10,))
    got = scor_loss(z, y, alpha=0.0)
    (g_got,) = torch.autograd.grad(got, z)
    ref = F.cross_entropy(z, y)
    (g_ref,) = torch.autograd.grad(ref, z)
    assert torch.equal(got, ref)
    assert torch.equal(g_got, g_ref)


def test_odd_batch_uses_whole_batch_gram():
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # Z^T Z = [[2, 1], [1, 2]]: Frobenius norm sqrt(10).
    assert scor_penalty(z).item() == pytest.approx(np.sqrt(10.0))
    # A single row: ||z z^T||_F = ||z||^2.
    assert scor_penalty(torch.tensor([[3.0, 4.0]])).item() == pytest.approx(25.0)


def test_penalty_depends_on_the_split_and_on_the_generator():
    z = torch.randn(16, 4)
    vals = {
        round(scor_penalty(z, generator=torch.Generator().manual_seed(s)).item(), 6)
        for s in range(6)
    }
    assert len(vals) > 1
    a = scor_penalty(z, generator=torch.Generator().manual_seed(9))
    b = scor_penalty(z, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a, b)


def test_sample_weight_scales_ce_only():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(8, 3))
    y = rng.integers(0, 3, size=8)
    w = rng.uniform(0, 2, size=8)
    g = torch.Generator().manual_seed(1)
    got = scor_loss(
        torch.tensor(z),
        torch.tensor(y),
        alpha=0.1,
        sample_weight=torch.tensor(w),
        generator=g,
    )
    expected = _reference_ce(z, y, w=w) + 0.1 * _reference_penalty(z, _perm_for(8, 1))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)


def test_module_matches_function_and_repr():
    z, y = torch.randn(8, 3), torch.randint(0, 3, (8,))
    crit = SCoRLoss(alpha=0.2, label_smoothing=0.1)
    ctx = BatchContext(generator=torch.Generator().manual_seed(0))
    a = crit(z, y, context=ctx)
    b = scor_loss(
        z, y, alpha=0.2, label_smoothing=0.1, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(a, b)
    assert "alpha=0.2" in repr(crit)


def test_second_derivatives_for_hessian_vector_products():
    # skscor.hessian differentiates the loss twice.
    z = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: scor_penalty(t, permute=False), (z,))


def test_zero_logits_have_finite_gradient():
    z = torch.zeros(4, 3, requires_grad=True)
    scor_loss(z, torch.tensor([0, 1, 2, 0]), alpha=1.0).backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"alpha": -1.0}, "alpha"), ({"label_smoothing": 1.0}, "label_smoothing")],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scor_loss(torch.zeros(2, 2), torch.tensor([0, 1]), **kwargs)
    with pytest.raises(ValueError, match="2-D"):
        scor_penalty(torch.zeros(3))


def test_sample_weight_shape_checked():
    with pytest.raises(ValueError, match="sample_weight"):
        scor_loss(
            torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]), sample_weight=torch.ones(3)
        )


def test_permute_false_splits_rows_in_order():
    z = torch.randn(6, 3, dtype=torch.float64)
    expected = torch.linalg.matrix_norm(z[3:].T @ z[:3])
    assert torch.equal(scor_penalty(z, permute=False), expected)
    # odd batches never permute
    assert torch.equal(scor_penalty(z[:5], permute=False), scor_penalty(z[:5]))
