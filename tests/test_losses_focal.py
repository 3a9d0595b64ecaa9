"""Tests of skscor.losses._focal (focal loss)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from skscor.losses._focal import FocalLoss, focal_loss

TOL = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
}


def _reference(logits, target, gamma, alpha=None):
    """Per-sample focal losses and their gradients, from the definition.

    Explicit loop in float64 numpy. Gradient of FL = -(1-p)^g log p w.r.t. z_j:
    (delta_jy - p_j) * (g p log(p) (1-p)^(g-1) - (1-p)^g), times alpha_t.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target)
    losses = np.zeros(len(y))
    grads = np.zeros_like(z)
    for i in range(len(y)):
        row = z[i]
        m = row.max()
        lse = m + math.log(np.exp(row - m).sum())
        probs = np.exp(row - lse)
        logp = row[y[i]] - lse
        p = math.exp(logp)
        q = -math.expm1(logp)  # 1 - p
        if alpha is None:
            a = 1.0
        elif isinstance(alpha, float):
            a = alpha if y[i] == 1 else 1.0 - alpha
        else:
            a = float(alpha[y[i]])
        losses[i] = -a * q**gamma * logp
        if gamma == 0:
            dmod = 0.0
        elif q == 0:
            dmod = 0.0  # limit of g p log(p) (1-p)^(g-1) as p -> 1
        else:
            dmod = gamma * p * logp * q ** (gamma - 1)
        onehot = np.zeros_like(row)
        onehot[y[i]] = 1.0
        grads[i] = a * (onehot - probs) * (dmod - q**gamma)
    return losses, grads


def _random_problem(n=12, c=4, seed=0, dtype=torch.float64, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, c, generator=g, dtype=dtype)
    target = torch.randint(0, c, (n,), generator=g)
    return logits, target


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gamma_zero_is_cross_entropy(dtype, reduction):
    logits, target = _random_problem(dtype=dtype)
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    fl = focal_loss(a, target, gamma=0.0, reduction=reduction)
    ce = F.cross_entropy(b, target, reduction=reduction)
    torch.testing.assert_close(fl, ce, **TOL[dtype])
    fl.sum().backward()
    ce.sum().backward()
    torch.testing.assert_close(a.grad, b.grad, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.7])
def test_matches_reference_random(dtype, gamma):
    logits, target = _random_problem(n=20, c=5, seed=1, dtype=dtype)
    x = logits.clone().requires_grad_(True)
    losses = focal_loss(x, target, gamma=gamma, reduction="none")
    losses.sum().backward()
    ref_l, ref_g = _reference(logits.double().numpy(), target.numpy(), gamma)
    torch.testing.assert_close(
        losses, torch.as_tensor(ref_l, dtype=dtype), **TOL[dtype]
    )
    torch.testing.assert_close(
        x.grad, torch.as_tensor(ref_g, dtype=dtype), **TOL[dtype]
    )
    # the modulating factor must actually act: the loss is below CE
    ce = F.cross_entropy(logits, target, reduction="none")
    assert bool((losses < ce).all())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize("big", [50.0, 1e4])
def test_saturated_logits(dtype, gamma, big):
    # rows 0, 2: target logit dominates (p_t == 1 in floating point);
    # rows 1, 3: target logit is tiny (p_t == 0).
    logits = torch.tensor(
        [[big, -big, 0.0], [big, -big, 0.0], [-big, big, -big], [0.0, big, -big]],
        dtype=dtype,
    )
    target = torch.tensor([0, 1, 1, 2])
    x = logits.clone().requires_grad_(True)
    losses = focal_loss(x, target, gamma=gamma, reduction="none")
    losses.sum().backward()
    assert torch.isfinite(losses).all()
    assert torch.isfinite(x.grad).all()
    ref_l, ref_g = _reference(logits.double().numpy(), target.numpy(), gamma)
    tol = {"rtol": 1e-5, "atol": 1e-5}
    torch.testing.assert_close(losses.double(), torch.as_tensor(ref_l), **tol)
    torch.testing.assert_close(x.grad.double(), torch.as_tensor(ref_g), **tol)
    # confident-correct rows: zero loss and zero gradient; wrong rows: like CE
    assert float(losses.detach()[0]) == pytest.approx(0.0, abs=1e-30)
    assert float(x.grad[0].abs().max()) < 1e-10
    ce = F.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(losses[[1, 3]], ce[[1, 3]], rtol=1e-6, atol=0.0)


def test_naive_power_would_be_nan():
    """Guard that the saturated test above exercises the unsafe case."""
    x = torch.tensor([[1e4, -1e4]], requires_grad=True)
    logp = F.log_softmax(x, dim=1)[0, 0]
    naive = -((1 - logp.exp()) ** 0.5) * logp
    naive.backward()
    assert torch.isnan(x.grad).any()
    y = x.detach().clone().requires_grad_(True)
    focal_loss(y, torch.tensor([0]), gamma=0.5).backward()
    assert torch.isfinite(y.grad).all()


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_gradcheck(gamma):
    logits, target = _random_problem(n=5, c=3, seed=2)
    x = logits.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda z: focal_loss(z, target, gamma=gamma, reduction="none"), (x,)
    )


@pytest.mark.parametrize("alpha", [0.25, 0.9])
def test_alpha_float_binary(alpha):
    logits, target = _random_problem(n=16, c=2, seed=3)
    x = logits.clone().requires_grad_(True)
    losses = focal_loss(x, target, gamma=2.0, alpha=alpha, reduction="none")
    losses.sum().backward()
    ref_l, ref_g = _reference(logits.numpy(), target.numpy(), 2.0, alpha)
    torch.testing.assert_close(losses, torch.as_tensor(ref_l), **TOL[torch.float64])
    torch.testing.assert_close(x.grad, torch.as_tensor(ref_g), **TOL[torch.float64])
    # torchvision convention: alpha for class 1, 1 - alpha for class 0
    plain = focal_loss(logits, target, gamma=2.0, reduction="none")
    expected = torch.where(target == 1, alpha, 1 - alpha).double() * plain
    torch.testing.assert_close(losses.detach(), expected)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_alpha_per_class(as_tensor):
    alpha = [0.2, 1.0, 3.0, 0.5]
    logits, target = _random_problem(n=16, c=4, seed=4)
    a = torch.tensor(alpha) if as_tensor else alpha
    x = logits.clone().requires_grad_(True)
    losses = focal_loss(x, target, gamma=1.0, alpha=a, reduction="none")
    losses.sum().backward()
    ref_l, ref_g = _reference(logits.numpy(), target.numpy(), 1.0, alpha)
    # a float32 alpha tensor is cast to float64 logits: float32 rounding of 0.2
    tol = {"rtol": 1e-7, "atol": 1e-9}
    torch.testing.assert_close(losses, torch.as_tensor(ref_l), **tol)
    torch.testing.assert_close(x.grad, torch.as_tensor(ref_g), **tol)


def test_sample_weight_and_reductions():
    logits, target = _random_problem(n=6, c=3, seed=5)
    w = torch.tensor([0.0, 1.0, 2.0, 3.0, 0.5, 0.5], dtype=torch.float64)
    per = focal_loss(logits, target, gamma=2.0, reduction="none")
    none = focal_loss(logits, target, gamma=2.0, sample_weight=w, reduction="none")
    torch.testing.assert_close(none, w * per)
    total = focal_loss(logits, target, gamma=2.0, sample_weight=w, reduction="sum")
    torch.testing.assert_close(total, (w * per).sum())
    mean = focal_loss(logits, target, gamma=2.0, sample_weight=w, reduction="mean")
    torch.testing.assert_close(mean, (w * per).mean())
    # not renormalized by the batch's weights (sum(w) = 7 != 6 samples)
    assert not torch.isclose(mean, (w * per).sum() / w.sum())
    # a float32 weight vector on float64 logits is accepted
    mean32 = focal_loss(logits, target, gamma=2.0, sample_weight=w.float())
    torch.testing.assert_close(mean32, mean)


def test_module_matches_functional_and_moves_alpha():
    logits, target = _random_problem(n=8, c=3, seed=6)
    crit = FocalLoss(gamma=1.5, alpha=[1.0, 2.0, 0.5], reduction="sum")
    assert "alpha" in dict(crit.named_buffers())
    assert "alpha" in crit.state_dict()
    crit = crit.to(torch.float64)
    assert crit.alpha.dtype == torch.float64
    w = torch.rand(8, dtype=torch.float64)
    out = crit(logits, target, sample_weight=w)
    ref = focal_loss(
        logits,
        target,
        gamma=1.5,
        alpha=[1.0, 2.0, 0.5],
        sample_weight=w,
        reduction="sum",
    )
    torch.testing.assert_close(out, ref)
    clone = pickle.loads(pickle.dumps(crit))
    torch.testing.assert_close(clone(logits, target, sample_weight=w), ref)
    assert "gamma=1.5" in repr(crit)
    binary = FocalLoss(gamma=0.0, alpha=0.25)
    assert binary.alpha == 0.25


@settings(max_examples=30, deadline=None)
@given(
    gamma=st.floats(0.0, 5.0),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 30.0),
)
def test_focal_bounded_by_ce_and_decreasing_in_gamma(gamma, seed, scale):
    logits, target = _random_problem(n=8, c=3, seed=seed, scale=scale)
    ce = F.cross_entropy(logits, target, reduction="none")
    fl = focal_loss(logits, target, gamma=gamma, reduction="none")
    fl_more = focal_loss(logits, target, gamma=gamma + 0.5, reduction="none")
    assert bool((fl <= ce + 1e-12).all())
    assert bool((fl_more <= fl + 1e-12).all())
    assert bool((fl >= 0).all())


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"gamma": -1.0}, ValueError, "gamma"),
        ({"gamma": float("nan")}, ValueError, "gamma"),
        ({"gamma": "2"}, TypeError, "gamma"),
        ({"gamma": True}, TypeError, "gamma"),
        ({"alpha": 0.0}, ValueError, "alpha"),
        ({"alpha": 1.0}, ValueError, "alpha"),
        ({"alpha": [1.0, -1.0, 1.0]}, ValueError, "alpha"),
        ({"alpha": [1.0, float("inf"), 1.0]}, ValueError, "alpha"),
        ({"alpha": [1.0, 1.0]}, ValueError, "alpha"),
        ({"alpha": torch.ones(3, 1)}, ValueError, "alpha"),
        ({"alpha": "abc"}, TypeError, "alpha"),
        ({"alpha": 0.5}, ValueError, "binary"),  # float alpha with 3 classes
        ({"reduction": "avg"}, ValueError, "reduction"),
        ({"sample_weight": torch.ones(3)}, ValueError, "sample_weight"),
        ({"sample_weight": [1.0] * 4}, TypeError, "sample_weight"),
    ],
)
def test_invalid_arguments(kwargs, exc, match):
    logits, target = _random_problem(n=4, c=3)
    with pytest.raises(exc, match=match):
        focal_loss(logits, target, **kwargs)


def test_invalid_inputs():
    logits, target = _random_problem(n=4, c=3)
    with pytest.raises(ValueError, match="input"):
        focal_loss(logits[0], target)
    with pytest.raises(ValueError, match="target"):
        focal_loss(logits, target[:3])
    with pytest.raises(TypeError, match="target"):
        focal_loss(logits, target.double())
    with pytest.raises(TypeError, match="input"):
        focal_loss(logits.long(), target)
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        FocalLoss(reduction="max")


def _smoothed_reference(logits, target, gamma, eps, alpha=None):
    """Per-sample focal losses with label smoothing and their gradients, from
    the definition FL = -a_t sum_k q_k (1 - p_k)^g log p_k, q = (1-eps) e_y +
    eps / C (explicit loop in float64 numpy). With f_k = -(1-p_k)^g log p_k,
    df_k/dp_k = g (1-p_k)^(g-1) log p_k - (1-p_k)^g / p_k and dp_k/dz_j =
    p_k (delta_kj - p_j)."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target)
    n, c = z.shape
    losses = np.zeros(n)
    grads = np.zeros_like(z)
    for i in range(n):
        row = z[i]
        m = row.max()
        lse = m + math.log(np.exp(row - m).sum())
        logp = row - lse
        p = np.exp(logp)
        q = np.full(c, eps / c)
        q[y[i]] += 1.0 - eps
        one_minus = -np.expm1(logp)
        a = 1.0 if alpha is None else float(alpha[y[i]])
        f = -(one_minus**gamma) * logp
        losses[i] = a * (q * f).sum()
        dmod = gamma * one_minus ** (gamma - 1) * logp if gamma else np.zeros(c)
        df_dp = dmod - one_minus**gamma / p
        # chain rule through the softmax, term by term
        jac = np.diag(p) - np.outer(p, p)  # jac[k, j] = dp_k / dz_j
        grads[i] = a * (q * df_dp) @ jac
    return losses, grads


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_label_smoothing_matches_reference(dtype, gamma, eps):
    logits, target = _random_problem(n=20, c=5, seed=3, dtype=dtype, scale=2.0)
    alpha = [0.5, 1.0, 2.0, 1.5, 0.7]
    x = logits.clone().requires_grad_(True)
    losses = focal_loss(
        x, target, gamma=gamma, alpha=alpha, label_smoothing=eps, reduction="none"
    )
    losses.sum().backward()
    ref_l, ref_g = _smoothed_reference(
        logits.double().numpy(), target.numpy(), gamma, eps, alpha
    )
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else TOL[dtype]
    torch.testing.assert_close(losses, torch.as_tensor(ref_l, dtype=dtype), **tol)
    torch.testing.assert_close(x.grad, torch.as_tensor(ref_g, dtype=dtype), **tol)
    # smoothing acts: the loss differs from the unsmoothed one
    plain = focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction="none")
    assert not torch.allclose(losses.detach(), plain)


@pytest.mark.parametrize("eps", [0.1, 0.4])
def test_label_smoothing_at_gamma_zero_is_torch_cross_entropy(eps):
    logits, target = _random_problem(n=15, c=4, seed=4)
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    fl = focal_loss(a, target, gamma=0.0, label_smoothing=eps)
    ce = F.cross_entropy(b, target, label_smoothing=eps)
    torch.testing.assert_close(fl, ce, **TOL[torch.float64])
    fl.backward()
    ce.backward()
    torch.testing.assert_close(a.grad, b.grad, **TOL[torch.float64])


def test_label_smoothing_module_and_selection_loss():
    logits, target = _random_problem(n=10, c=3, seed=5)
    crit = FocalLoss(gamma=1.0, label_smoothing=0.2)
    torch.testing.assert_close(
        crit(logits, target),
        focal_loss(logits, target, gamma=1.0, label_smoothing=0.2),
    )
    # the epochs are ranked by the unsmoothed focal loss
    torch.testing.assert_close(
        crit.selection_loss(logits, target),
        focal_loss(logits, target, gamma=1.0, reduction="none"),
    )
    assert "label_smoothing=0.2" in repr(crit)
    assert pickle.loads(pickle.dumps(crit)).label_smoothing == 0.2
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="label_smoothing"):
            FocalLoss(label_smoothing=bad)
        with pytest.raises(ValueError, match="label_smoothing"):
            focal_loss(logits, target, label_smoothing=bad)
