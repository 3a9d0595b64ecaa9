"""Tests of skscor.losses._mr2 (MR^2 loss and its representation term)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skscor.losses._mr2 import (
    MR2Loss,
    _blocks_pay,
    _rep_autograd,
    _RepTerm,
    mr2_representation_term,
)


# -- numpy references written from the definition -----------------------------
def rep_reference(h, y, s_bar, n_classes):
    """Representation term by a direct double loop (float64)."""
    h = np.asarray(h, dtype=np.float64)
    y = np.asarray(y)
    dim = h.shape[1]
    total = 0.0
    for k in range(n_classes):
        idx = np.flatnonzero(y == k)
        if len(idx) < 2:
            continue
        acc = 0.0
        for i in idx:
            inner = 0.0
            for j in idx:
                if j == i:
                    continue
                d2 = float(((h[i] - h[j]) ** 2).sum())
                inner += math.exp((d2 - 2.0 * s_bar) / (10.0 * dim))
            acc += math.log1p(inner)
        total += acc / len(idx)
    return total * dim / (10.0 * n_classes)


class RefMR2:
    """Numpy MR^2 with the documented choices (update first, first sight sets)."""

    def __init__(self, n_classes, decay=0.9, c=1.0, lam=0.1):
        self.k, self.d, self.c, self.lam = n_classes, decay, c, lam
        self.m = np.zeros(n_classes)
        self.v = np.zeros(n_classes)
        self.seen_m = np.zeros(n_classes, dtype=bool)
        self.seen_v = np.zeros(n_classes, dtype=bool)

    def update(self, h, y):
        h, y = np.asarray(h, dtype=np.float64), np.asarray(y)
        for k in range(self.k):
            rows = h[y == k]
            if len(rows) == 0:
                continue
            mu = rows.mean(0)
            mb = float(mu @ mu)
            self.m[k] = (
                mb if not self.seen_m[k] else self.d * self.m[k] + (1 - self.d) * mb
            )
            self.seen_m[k] = True
            if len(rows) >= 2:
                vb = float(((rows - mu) ** 2).sum(1).mean())
                if self.seen_v[k]:
                    self.v[k] = self.d * self.v[k] + (1 - self.d) * vb
                else:
                    self.v[k] = vb
                self.seen_v[k] = True

    def gamma(self):
        g = np.ones(self.k)
        s = (self.m + self.v) ** (1 / 3)
        seen = self.seen_m
        if seen.any() and s[seen].sum() > 0:
            g[seen] = seen.sum() * s[seen] / s[seen].sum()
        return np.maximum(g, 1e-3)

    def s_bar(self):
        return float(self.v[self.seen_v].mean()) if self.seen_v.any() else 0.0

    def loss(self, z, y, h, train=True, sample_weight=None):
        if train:
            self.update(h, y)
        z, y = np.asarray(z, dtype=np.float64), np.asarray(y)
        g = self.gamma()
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        ce = 0.0
        for i in range(len(y)):
            row = z[i] / (self.c * g[y[i]])
            m = row.max()
            lse = m + math.log(np.exp(row - m).sum())
            ce += w[i] * (lse - row[y[i]])
        ce /= len(y)
        return ce + self.lam * rep_reference(h, y, self.s_bar(), self.k)


def _batch(seed, n_per_class=(3, 4, 1), dim=5, n_classes=4, shift=1.0):
    g = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((n,), k) for k, n in enumerate(n_per_class)])
    y = y[torch.randperm(len(y), generator=g)]
    h = torch.randn(len(y), dim, generator=g, dtype=torch.float64)
    h = h + shift * y[:, None].double()  # class-dependent means
    z = torch.randn(len(y), n_classes, generator=g, dtype=torch.float64)
    return z, y, h


# -- representation term ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("s_bar", [0.0, 0.7, 25.0])
def test_representation_term_matches_double_loop(dtype, s_bar):
    _, y, h = _batch(0, n_per_class=(3, 6, 1, 0))
    out = mr2_representation_term(h.to(dtype), y, s_bar, n_classes=4)
    ref = rep_reference(h.numpy(), y.numpy(), s_bar, 4)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert float(out) == pytest.approx(ref, rel=tol, abs=tol)
    # a 0-d tensor s_bar gives the same
    out_t = mr2_representation_term(h.to(dtype), y, torch.tensor(s_bar), 4)
    assert float(out_t) == pytest.approx(float(out), rel=1e-6)


def test_representation_term_identical_and_single():
    # class 0: three identical points; class 1: one point (skipped)
    h = torch.tensor([[1.0, 2.0]] * 3 + [[5.0, 5.0]], dtype=torch.float64)
    h.requires_grad_(True)
    y = torch.tensor([0, 0, 0, 1])
    out = mr2_representation_term(h, y, s_bar=0.5, n_classes=2)
    expected = math.log1p(2 * math.exp(-1.0 / 20)) * 2 / 20
    assert float(out.detach()) == pytest.approx(expected, rel=1e-12)
    out.backward()
    assert torch.isfinite(h.grad).all()
    assert float(h.grad.abs().max()) < 1e-12  # symmetric configuration


def test_representation_term_no_pairs_is_zero():
    h = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    out = mr2_representation_term(h, torch.tensor([0, 1, 2]), 1.0, n_classes=3)
    out.backward()
    assert float(out.detach()) == 0.0
    assert torch.equal(h.grad, torch.zeros_like(h))


def _rep_traced(h, y, s_bar, n_classes):
    """The term from its definition, pair by pair, for autograd to trace."""
    d = h.shape[1]
    total = h.new_zeros(())
    for k in range(n_classes):
        idx = (y == k).nonzero().flatten().tolist()
        if len(idx) < 2:
            continue
        for i in idx:
            terms = [
                ((h[i] - h[j]).square().sum() - 2 * s_bar) / (10 * d)
                for j in idx
                if j != i
            ]
            lse = torch.logsumexp(torch.stack([h.new_zeros(()), *terms]), 0)
            total = total + lse / len(idx)
    return total * d / (10 * n_classes)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("s_bar", [0.0, 0.7, 25.0])
def test_representation_term_gradient_matches_the_traced_definition(dtype, s_bar):
    # the written-out gradient against autograd through the definition
    for seed in range(3):
        _, y, h = _batch(seed, n_per_class=(4, 7, 1, 2), dim=6)
        a = h.to(dtype).requires_grad_(True)
        b = h.to(dtype).requires_grad_(True)
        mr2_representation_term(a, y, s_bar, n_classes=4).backward()
        _rep_traced(b, y, s_bar, 4).backward()
        tol = {} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-6}
        torch.testing.assert_close(a.grad, b.grad, **tol)
        # second derivatives too: a Hessian-vector product
        v = torch.randn_like(h).to(dtype)
        hv = []
        for fn, x in ((mr2_representation_term, a), (_rep_traced, b)):
            x.grad = None
            (g,) = torch.autograd.grad(fn(x, y, s_bar, 4), x, create_graph=True)
            hv.append(torch.autograd.grad((g * v).sum(), x)[0])
        torch.testing.assert_close(hv[0], hv[1], **tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("by_class", [True, False])
def test_fused_representation_term_matches_autograd(dtype, by_class):
    # the written-out gradient (both layouts: blocks per class on the CPU, one
    # masked matrix on accelerators) against autograd through the plain ops,
    # on batches with an absent class, a one-row class and duplicated rows
    # (zero distances: the clamped scores)
    tol = {} if dtype == torch.float64 else {"rtol": 2e-5, "atol": 1e-6}
    for seed in range(4):
        g = torch.Generator().manual_seed(seed)
        n, dim, k = 64, 12, 5
        y = torch.randint(0, 3, (n,), generator=g)
        y[0] = 3  # class 3 has one row, class 4 none
        h = (3 * torch.randn(n, dim, generator=g, dtype=dtype)).relu()
        h[5] = h[6]
        y[5] = y[6]
        s_bar = float(torch.rand((), generator=g)) * 4
        if seed % 2:  # as MR2Loss passes it: a 0-d tensor
            s_bar = torch.tensor(s_bar, dtype=dtype)
        a = h.clone().requires_grad_(True)
        b = h.clone().requires_grad_(True)
        sizes = torch.bincount(y, minlength=k).tolist() if by_class else None
        out = _RepTerm.apply(a, y, s_bar, k, sizes)
        ref = _rep_autograd(b, y, s_bar, k)
        torch.testing.assert_close(out, ref, **tol)
        w = torch.rand((), generator=g, dtype=dtype) + 0.5  # upstream gradient
        (out * w).backward(retain_graph=True)
        (ref * w).backward()
        torch.testing.assert_close(a.grad, b.grad, **tol)
        assert float(a.grad[0].abs().max()) == 0.0  # a one-row class: no pairs
        # a retained graph runs the same backward again
        first = a.grad.clone()
        a.grad = None
        (out * w).backward()
        torch.testing.assert_close(a.grad, first, rtol=0, atol=0)


def test_blocks_only_where_they_skip_enough_pairs():
    # one block per class pays where it skips many cross-class pairs, not
    # where many small classes each cost a block's overhead
    assert _blocks_pay([130, 70])  # binary 65/35, batch 200
    assert _blocks_pay([51] * 10)  # ten even classes, batch 512
    assert _blocks_pay([900, 124])  # binary 90/10, batch 1024
    assert not _blocks_pay([180, 20])  # binary 90/10, batch 200: a tie
    assert not _blocks_pay([8] * 25)  # 25 classes, batch 200
    assert not _blocks_pay([200])  # one class: nothing to skip


def test_the_public_term_takes_either_layout():
    # whichever layout the class sizes choose, the same value and gradient
    g = torch.Generator().manual_seed(0)
    for y in (torch.arange(200) % 25, (torch.arange(200) >= 130).long()):
        h = torch.randn(200, 8, generator=g, dtype=torch.float64).requires_grad_(True)
        k = int(y.max()) + 1
        mr2_representation_term(h, y, 0.3, k).backward()
        b = h.detach().clone().requires_grad_(True)
        _rep_autograd(b, y, 0.3, k).backward()
        torch.testing.assert_close(h.grad, b.grad)


def test_fused_representation_term_without_gradient_saves_nothing():
    # validation runs under no_grad: the same value, no graph
    _, y, h = _batch(2, n_per_class=(5, 4, 3, 2), dim=4)
    with torch.no_grad():
        out = mr2_representation_term(h, y, 0.4, n_classes=4)
    assert out.grad_fn is None
    assert float(out) == pytest.approx(float(_rep_autograd(h, y, 0.4, 4)), rel=1e-12)


def test_representation_term_gradcheck():
    _, y, h = _batch(1, n_per_class=(3, 2, 1), dim=3)
    x = h.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: mr2_representation_term(t, y, 0.3, n_classes=4), (x,)
    )


# -- EMA, margins and the full loss -------------------------------------------------
def test_ema_margins_and_loss_match_reference_over_two_batches():
    crit = MR2Loss(4).double()
    ref = RefMR2(4)
    # batch 1: classes 0, 1 (>= 2 samples), 2 (one sample), 3 absent
    z1, y1, h1 = _batch(2, n_per_class=(3, 4, 1))
    loss1 = crit(z1, y1, h1)
    ref1 = ref.loss(z1.numpy(), y1.numpy(), h1.numpy())
    assert float(loss1) == pytest.approx(ref1, rel=1e-10)
    np.testing.assert_allclose(crit.ema_m.numpy(), ref.m, rtol=1e-12)
    np.testing.assert_allclose(crit.ema_v.numpy(), ref.v, rtol=1e-12)
    assert crit.n_updates_m.tolist() == [1, 1, 1, 0]
    assert crit.n_updates_v.tolist() == [1, 1, 0, 0]  # one sample: no variance
    gamma = crit.class_gamma()
    np.testing.assert_allclose(gamma.numpy(), ref.gamma(), rtol=1e-12)
    assert float(gamma[3]) == 1.0  # never seen
    assert float(gamma[:3].mean()) == pytest.approx(1.0)  # seen: mean 1

    # batch 2: decays the seen classes, sets class 3 on first sight,
    # class 2 now has two samples and gets its first variance
    z2, y2, h2 = _batch(3, n_per_class=(2, 1, 2, 3))
    m_before = crit.ema_m.clone()
    loss2 = crit(z2, y2, h2)
    ref2 = ref.loss(z2.numpy(), y2.numpy(), h2.numpy())
    assert float(loss2) == pytest.approx(ref2, rel=1e-10)
    np.testing.assert_allclose(crit.ema_m.numpy(), ref.m, rtol=1e-12)
    np.testing.assert_allclose(crit.ema_v.numpy(), ref.v, rtol=1e-12)
    assert crit.n_updates_m.tolist() == [2, 2, 2, 1]
    assert crit.n_updates_v.tolist() == [2, 1, 1, 1]
    # explicit decay check for class 0: 0.9 * old + 0.1 * batch value
    mu0 = h2[y2 == 0].mean(0)
    expected0 = 0.9 * float(m_before[0]) + 0.1 * float(mu0 @ mu0)
    assert float(crit.ema_m[0]) == pytest.approx(expected0, rel=1e-12)
    mu3 = h2[y2 == 3].mean(0)
    assert float(crit.ema_m[3]) == pytest.approx(float(mu3 @ mu3), rel=1e-12)
    assert float(crit.s_bar()) == pytest.approx(ref.s_bar(), rel=1e-12)


def test_statistics_are_updated_before_the_margins():
    z, y, h = _batch(4, n_per_class=(4, 4, 4, 4), shift=3.0)
    crit = MR2Loss(4, lambda_rep=0.0).double()
    loss = crit(z, y, h)
    gamma = crit.class_gamma()
    assert not torch.allclose(gamma, torch.ones(4, dtype=torch.float64))
    expected = F.cross_entropy(z / gamma[y][:, None], y)
    torch.testing.assert_close(loss, expected)
    # and not the "update after" variant (gamma = 1 on the first batch)
    assert not torch.isclose(loss, F.cross_entropy(z, y))


def test_margin_scale_and_sample_weight():
    z, y, h = _batch(5, n_per_class=(3, 3, 3, 3))
    crit = MR2Loss(4, margin_scale=2.5).double()
    crit(z, y, h)  # set statistics
    crit.eval()
    gamma = crit.class_gamma()
    sw = torch.linspace(0.0, 2.0, len(y), dtype=torch.float64)
    loss = crit(z, y, h, sample_weight=sw)
    ce = F.cross_entropy(z / (2.5 * gamma[y])[:, None], y, reduction="none")
    rep = mr2_representation_term(h, y, crit.s_bar(), 4)
    torch.testing.assert_close(loss, (sw * ce).mean() + 0.1 * rep)


def test_fresh_eval_is_plain_ce_plus_rep():
    z, y, h = _batch(6)
    crit = MR2Loss(4).double().eval()
    torch.testing.assert_close(crit.class_gamma(), torch.ones(4, dtype=torch.float64))
    rep = rep_reference(h.numpy(), y.numpy(), 0.0, 4)
    expected = F.cross_entropy(z, y) + 0.1 * rep
    assert float(crit(z, y, h)) == pytest.approx(float(expected), rel=1e-12)


def test_eval_mode_does_not_update():
    z, y, h = _batch(7)
    crit = MR2Loss(4).double()
    crit(z, y, h)
    snapshot = {k: v.clone() for k, v in crit.state_dict().items()}
    crit.eval()
    z2, y2, h2 = _batch(8, n_per_class=(5, 5, 5, 5))
    first = crit(z2, y2, h2)
    second = crit(z2, y2, h2)
    for k, v in crit.state_dict().items():
        assert torch.equal(v, snapshot[k]), k
    torch.testing.assert_close(first, second)
    crit.train()
    crit(z2, y2, h2)
    assert not torch.equal(crit.ema_m, snapshot["ema_m"])


def test_single_sample_classes_and_degenerate_features():
    # every class has one sample: finite loss and gradient, rep term is zero
    z = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2])
    crit = MR2Loss(3).double()
    loss = crit(z, y, h)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z.grad).all() and torch.isfinite(h.grad).all()
    assert crit.n_updates_v.tolist() == [0, 0, 0]
    assert float(crit.s_bar()) == 0.0

    # identical features in a class (zero variance) and an all-zero class
    z = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(
        [[1.0, 1.0]] * 3 + [[0.0, 0.0]] * 2 + [[2.0, -1.0]], dtype=torch.float64
    ).requires_grad_(True)
    y = torch.tensor([0, 0, 0, 1, 1, 2])
    crit = MR2Loss(3).double()
    loss = crit(z, y, h)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z.grad).all() and torch.isfinite(h.grad).all()
    assert float(crit.class_gamma()[1]) == pytest.approx(1e-3)  # clipped, s_1 = 0

    # all features zero: every s_k = 0, margins fall back to 1
    crit = MR2Loss(3).double()
    zeros = torch.zeros(6, 2, dtype=torch.float64)
    loss = crit(z.detach(), y, zeros)
    torch.testing.assert_close(crit.class_gamma(), torch.ones(3, dtype=torch.float64))
    assert torch.isfinite(loss)


def test_state_dict_pickle_and_device_dtype_round_trip():
    crit = MR2Loss(4, lambda_rep=0.2, ema_decay=0.5)
    for seed in (9, 10):
        z, y, h = _batch(seed)
        crit(z.float(), y, h.float())
    sd = crit.state_dict()
    assert set(sd) == {"ema_m", "ema_v", "n_updates_m", "n_updates_v"}
    fresh = MR2Loss(4, lambda_rep=0.2, ema_decay=0.5)
    fresh.load_state_dict(sd)
    clone = pickle.loads(pickle.dumps(crit))
    z, y, h = _batch(11)
    crit.eval(), fresh.eval(), clone.eval()
    ref = crit(z.float(), y, h.float())
    torch.testing.assert_close(fresh(z.float(), y, h.float()), ref)
    torch.testing.assert_close(clone(z.float(), y, h.float()), ref)
    assert clone.ema_decay == 0.5 and clone.lambda_rep == 0.2
    assert torch.equal(clone.ema_m, crit.ema_m) and torch.any(crit.ema_m > 0)
    moved = clone.to(torch.float64)
    assert moved.ema_m.dtype == torch.float64
    assert moved.n_updates_m.dtype == torch.long
    crit.reset_statistics()
    assert int(crit.n_updates_m.sum()) == 0 and float(crit.ema_m.abs().sum()) == 0.0


def test_gradcheck_full_loss():
    z, y, h = _batch(12, n_per_class=(3, 2, 1), dim=3)
    crit = MR2Loss(4).double()
    crit(z, y, h)  # statistics from the data, then frozen for the check
    crit.eval()
    zz = z.clone().requires_grad_(True)
    hh = h.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: crit(a, y, b), (zz, hh))


def test_float32_and_feature_dtype():
    z, y, h = _batch(13)
    crit = MR2Loss(4)
    loss = crit(z.float(), y, h.float())
    assert loss.dtype == torch.float32
    ref = RefMR2(4).loss(z.numpy(), y.numpy(), h.numpy())
    assert float(loss) == pytest.approx(ref, rel=1e-5)
    assert MR2Loss.needs_features is True


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_classes": 0}, ValueError, "n_classes"),
        ({"n_classes": 2.0}, TypeError, "n_classes"),
        ({"n_classes": 3, "lambda_rep": -0.1}, ValueError, "lambda_rep"),
        ({"n_classes": 3, "ema_decay": 1.0}, ValueError, "ema_decay"),
        ({"n_classes": 3, "ema_decay": -0.1}, ValueError, "ema_decay"),
        ({"n_classes": 3, "margin_scale": 0.0}, ValueError, "margin_scale"),
        ({"n_classes": 3, "margin_scale": "1"}, TypeError, "margin_scale"),
        ({"n_classes": 3, "rep_batch_size": 1}, ValueError, "rep_batch_size"),
        ({"n_classes": 3, "rep_batch_size": 2.5}, ValueError, "rep_batch_size"),
        ({"n_classes": 3, "rep_batch_size": True}, ValueError, "rep_batch_size"),
    ],
)
def test_invalid_constructor_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MR2Loss(**kwargs)


def test_invalid_forward_inputs():
    z, y, h = _batch(14)
    crit = MR2Loss(4).double()
    with pytest.raises(ValueError, match="n_classes"):
        MR2Loss(3).double()(z, y, h)
    with pytest.raises(ValueError, match="features"):
        crit(z, y, h[:, 0])
    with pytest.raises(ValueError, match="features"):
        crit(z, y, h[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        crit(z, y, h, sample_weight=torch.ones(2))
    with pytest.raises(ValueError, match="s_bar"):
        mr2_representation_term(h, y, -1.0, 4)
    with pytest.raises(ValueError, match="s_bar"):
        mr2_representation_term(h, y, torch.ones(2), 4)
    assert int(crit.n_updates_m.sum()) == 0  # failed calls left no trace


def test_label_smoothing_smooths_the_cross_entropy_term_only():
    import torch.nn.functional as F

    from skscor.losses import MR2Loss

    g = torch.Generator().manual_seed(0)
    z = torch.randn(8, 3, generator=g, dtype=torch.float64)
    h = torch.randn(8, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0])
    plain = MR2Loss(3, lambda_rep=0.0).double()
    smooth = MR2Loss(3, lambda_rep=0.0, label_smoothing=0.2).double()
    plain(z, y, h)  # the same statistics in both
    x = z.clone().requires_grad_(True)
    loss = smooth(x, y, h)
    temperature = plain.class_gamma()[y]
    ref_x = z.clone().requires_grad_(True)
    ref = F.cross_entropy(ref_x / temperature[:, None], y, label_smoothing=0.2)
    torch.testing.assert_close(loss, ref)
    loss.backward()
    ref.backward()
    torch.testing.assert_close(x.grad, ref_x.grad)
    # the representation term is added unchanged
    with_rep = MR2Loss(3, label_smoothing=0.2).double()
    base = MR2Loss(3, label_smoothing=0.0).double()
    d_smooth = with_rep(z, y, h) - MR2Loss(
        3, lambda_rep=0.0, label_smoothing=0.2
    ).double()(z, y, h)
    d_plain = base(z, y, h) - MR2Loss(3, lambda_rep=0.0).double()(z, y, h)
    torch.testing.assert_close(d_smooth, d_plain)
    assert "label_smoothing=0.2" in repr(smooth)


# -- the representation term over parts of a batch (rep_batch_size) ----------
def _part_bounds(n, cap):
    """``ceil(n / cap)`` consecutive parts, sizes differing by at most one
    row, the larger ones first: the documented rule, by hand."""
    n_parts = math.ceil(n / cap)
    base, extra = divmod(n, n_parts)
    sizes = [base + (i < extra) for i in range(n_parts)]
    ends = np.cumsum(sizes)
    bounds = list(zip(ends - sizes, ends, strict=True))
    assert all(b - a <= cap for a, b in bounds) and bounds[-1][1] == n
    return bounds


def _parts_reference(h, y, s_bar, n_classes, cap):
    """The term over the parts, averaged."""
    bounds = _part_bounds(len(y), cap)
    return float(
        np.mean([rep_reference(h[a:b], y[a:b], s_bar, n_classes) for a, b in bounds])
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    ("n", "cap"), [(23, 8), (24, 8), (25, 8), (9, 8), (40, 39), (10, 4)]
)
def test_representation_term_over_parts_matches_the_definition(dtype, n, cap):
    g = torch.Generator().manual_seed(n * 100 + cap)
    y = torch.randint(0, 3, (n,), generator=g)
    h = torch.randn(n, 4, generator=g, dtype=torch.float64) + y[:, None].double()
    z = torch.randn(n, 3, generator=g, dtype=torch.float64)
    crit = MR2Loss(3, rep_batch_size=cap).to(dtype).eval()  # fresh: gamma = 1
    x = z.clone().to(dtype).requires_grad_(True)
    feats = h.clone().to(dtype).requires_grad_(True)
    loss = crit(x, y, feats)
    ref_rep = _parts_reference(h.numpy(), y.numpy(), 0.0, 3, cap)
    ref = float(F.cross_entropy(z, y)) + 0.1 * ref_rep
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    assert float(loss) == pytest.approx(ref, rel=tol, abs=tol)
    # gradient: the same as autograd through the parts' terms by definition
    loss.backward()
    ref_feats = h.clone().to(dtype).requires_grad_(True)
    parts = [
        _rep_autograd(ref_feats[a:b], y[a:b], 0.0, 3) for a, b in _part_bounds(n, cap)
    ]
    (0.1 * torch.stack(parts).mean()).backward()
    torch.testing.assert_close(feats.grad, ref_feats.grad, rtol=tol, atol=tol)


def test_rep_batch_size_at_or_above_the_batch_changes_nothing():
    z, y, h = _batch(15, n_per_class=(5, 6, 2, 3))
    whole = MR2Loss(4).double().eval()
    for cap in (len(y), len(y) + 1, 10_000):
        capped = MR2Loss(4, rep_batch_size=cap).double().eval()
        assert torch.equal(capped(z, y, h), whole(z, y, h))
    # below the batch it changes the term (it is not ignored)
    capped = MR2Loss(4, rep_batch_size=len(y) // 2).double().eval()
    assert not torch.isclose(capped(z, y, h), whole(z, y, h))
    assert "rep_batch_size=8" in repr(capped)
