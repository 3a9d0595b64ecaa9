"""Tests of skscor.losses._margin (effective-number/DRW weights, LDAM, VS)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skscor.losses import ClassWeighted
from skscor.losses._margin import (
    LDAMLoss,
    VSLoss,
    drw_weights,
    effective_number_weights,
    ldam_loss,
    ldam_margins,
    vs_loss,
)

COUNTS = [100, 10, 1]


def _problem(n=9, c=3, seed=0, cosine=True):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, c, generator=g, dtype=torch.float64)
    if cosine:
        z = torch.tanh(z)  # in [-1, 1], like a cosine head
    target = torch.arange(n) % c
    return z, target


def _ce(row, y):
    """Cross-entropy of one row of logits, from the definition."""
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return lse - row[y]


# -- effective number / DRW ---------------------------------------------------
def test_effective_number_weights_exact_fractions():
    # beta = 0.5, counts 1, 2, 3: raw 1, 2/3, 4/7; sum 47/21; times C = 3
    w = effective_number_weights([1, 2, 3], beta=0.5, dtype=torch.float64)
    expected = torch.tensor([63 / 47, 42 / 47, 36 / 47], dtype=torch.float64)
    torch.testing.assert_close(w, expected, rtol=1e-14, atol=0)


def test_effective_number_weights_default_beta():
    w = effective_number_weights(COUNTS, dtype=torch.float64)
    raw = [(1 - 0.9999) / (1 - 0.9999**n) for n in COUNTS]
    expected = torch.tensor([3 * r / sum(raw) for r in raw], dtype=torch.float64)
    torch.testing.assert_close(w, expected, rtol=1e-10, atol=0)
    assert float(w.sum()) == pytest.approx(3.0)
    # default dtype when not given
    assert effective_number_weights(COUNTS).dtype == torch.get_default_dtype()


def test_effective_number_weights_limits():
    uniform = effective_number_weights(COUNTS, beta=0.0, dtype=torch.float64)
    torch.testing.assert_close(uniform, torch.ones(3, dtype=torch.float64))
    # beta -> 1 approaches inverse frequency
    w = effective_number_weights(COUNTS, beta=1 - 1e-9, dtype=torch.float64)
    inv = torch.tensor([1 / n for n in COUNTS], dtype=torch.float64)
    torch.testing.assert_close(w, 3 * inv / inv.sum(), rtol=1e-5, atol=0)


@pytest.mark.parametrize(
    "counts", [[0, 10, 1], np.array([0, 10, 1]), torch.tensor([0, 10, 1])]
)
def test_zero_counts_are_treated_as_rarest(counts):
    w = effective_number_weights(counts, beta=0.99, dtype=torch.float64)
    assert torch.isfinite(w).all()
    assert float(w[0]) == pytest.approx(float(w[2]))
    ref = effective_number_weights([1, 10, 1], beta=0.99, dtype=torch.float64)
    torch.testing.assert_close(w, ref)
    m = ldam_margins(counts, dtype=torch.float64)
    torch.testing.assert_close(m[0], torch.tensor(0.5, dtype=torch.float64))
    z, y = _problem()
    for loss in (ldam_loss(z, y, counts), vs_loss(z, y, counts)):
        assert torch.isfinite(loss)
    # a zero-count class as target still gives a finite loss (partial_fit)
    assert torch.isfinite(vs_loss(z, torch.zeros_like(y), counts))


def test_fractional_counts():
    w = effective_number_weights([0.5, 2.5], beta=0.5, dtype=torch.float64)
    raw = [0.5 / (1 - 0.5**0.5), 0.5 / (1 - 0.5**2.5)]
    torch.testing.assert_close(
        w, torch.tensor([2 * r / sum(raw) for r in raw], dtype=torch.float64)
    )


def test_drw_weights_schedule():
    on = effective_number_weights(COUNTS)
    for epoch in (0, 100, 159):
        torch.testing.assert_close(
            drw_weights(COUNTS, epoch, max_iter=200), torch.ones(3)
        )
    for epoch in (160, 199, 250):
        torch.testing.assert_close(drw_weights(COUNTS, epoch, max_iter=200), on)
    # fractions: 0.8 of 10 epochs switches at 0-based epoch 8
    assert drw_weights(COUNTS, 7, max_iter=10).tolist() == [1.0, 1.0, 1.0]
    torch.testing.assert_close(drw_weights(COUNTS, 8, max_iter=10), on)
    # start=0: from the beginning; start=1: never within max_iter
    torch.testing.assert_close(drw_weights(COUNTS, 0, max_iter=5, start=0.0), on)
    assert drw_weights(COUNTS, 4, max_iter=5, start=1.0).tolist() == [1.0] * 3


# -- LDAM ---------------------------------------------------------------------
def test_ldam_margins_hand_values():
    m = ldam_margins(COUNTS, dtype=torch.float64)
    expected = [0.5 * 100**-0.25, 0.5 * 10**-0.25, 0.5]
    torch.testing.assert_close(m, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(
        ldam_margins(COUNTS, max_margin=1.0, dtype=torch.float64),
        2 * m,
    )
    assert ldam_margins([5, 5], max_margin=0.3).tolist() == pytest.approx([0.3, 0.3])


def test_ldam_loss_hand_values():
    cos = torch.tensor(
        [[0.2, -0.1, 0.4], [0.9, 0.0, -0.5], [-0.3, 0.1, 0.05]], dtype=torch.float64
    )
    y = torch.tensor([1, 0, 2])
    margins = [0.5 * 100**-0.25, 0.5 * 10**-0.25, 0.5]
    expected = []
    for row, t in zip(cos.tolist(), y.tolist(), strict=True):
        shifted = [
            30.0 * (v - (margins[t] if j == t else 0.0)) for j, v in enumerate(row)
        ]
        expected.append(_ce(shifted, t))
    out = ldam_loss(cos, y, COUNTS, reduction="none")
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(ldam_loss(cos, y, COUNTS), out.mean())
    torch.testing.assert_close(ldam_loss(cos, y, COUNTS, reduction="sum"), out.sum())


def test_ldam_reduces_to_ce():
    z, y = _problem()
    out = ldam_loss(z, y, COUNTS, max_margin=0.0, scale=1.0)
    torch.testing.assert_close(out, F.cross_entropy(z, y))


def test_ldam_rare_class_harder():
    # same cosine for each target: the rarer the target, the larger the loss
    cos = torch.full((3, 3), 0.3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    out = ldam_loss(cos, y, COUNTS, reduction="none")
    assert float(out[0]) < float(out[1]) < float(out[2])


def test_class_weight_is_per_sample_not_torch_weighted_mean():
    z, y = _problem(n=6)
    w = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    per = ldam_loss(z, y, COUNTS, reduction="none")
    out = ldam_loss(z, y, COUNTS, weight=w)
    torch.testing.assert_close(out, (w[y] * per).mean())
    assert not torch.isclose(out, (w[y] * per).sum() / w[y].sum())
    sw = torch.tensor([1.0, 0.0, 2.0, 1.0, 3.0, 0.5], dtype=torch.float64)
    both = ldam_loss(z, y, COUNTS, weight=w.tolist(), sample_weight=sw, reduction="sum")
    torch.testing.assert_close(both, (sw * w[y] * per).sum())
    vs_per = vs_loss(z, y, COUNTS, reduction="none")
    vs_w = vs_loss(z, y, COUNTS, weight=w, sample_weight=sw, reduction="none")
    torch.testing.assert_close(vs_w, sw * w[y] * vs_per)


# -- VS -------------------------------------------------------------------------
def test_vs_loss_hand_values():
    z = torch.tensor(
        [[1.0, -0.5, 2.0], [0.3, 0.3, 0.3], [-1.0, 2.0, 0.0]], dtype=torch.float64
    )
    y = torch.tensor([2, 0, 1])
    total = sum(COUNTS)
    delta = [(n / 100) ** 0.3 for n in COUNTS]
    iota = [math.log(n / total) for n in COUNTS]
    expected = []
    for row, t in zip(z.tolist(), y.tolist(), strict=True):
        adj = [v * d + o for v, d, o in zip(row, delta, iota, strict=True)]
        expected.append(_ce(adj, t))
    out = vs_loss(z, y, COUNTS, reduction="none")
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))
    # tau scales the offsets, gamma the multipliers
    out2 = vs_loss(z, y, COUNTS, gamma=0.0, tau=0.5, reduction="none")
    expected2 = [
        _ce([v + 0.5 * o for v, o in zip(row, iota, strict=True)], t)
        for row, t in zip(z.tolist(), y.tolist(), strict=True)
    ]
    torch.testing.assert_close(out2, torch.tensor(expected2, dtype=torch.float64))


def test_vs_reduces_to_ce():
    z, y = _problem(cosine=False)
    out = vs_loss(z, y, COUNTS, gamma=0.0, tau=0.0)
    torch.testing.assert_close(out, F.cross_entropy(z, y))


# -- gradients ------------------------------------------------------------------
def test_gradcheck_ldam_and_vs():
    z, y = _problem(n=5)
    w = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    sw = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    x = z.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: ldam_loss(t, y, COUNTS, weight=w, sample_weight=sw, reduction="none"),
        (x,),
    )
    assert torch.autograd.gradcheck(
        lambda t: vs_loss(t, y, COUNTS, weight=w, sample_weight=sw), (x,)
    )
    crit = VSLoss(COUNTS).double()
    assert torch.autograd.gradcheck(lambda t: crit(t, y), (x,))


# -- modules --------------------------------------------------------------------
def test_ldam_module_matches_functional_and_takes_weights_from_classweighted():
    z, y = _problem(n=6)
    crit = LDAMLoss(COUNTS, max_margin=0.4, scale=10.0).double()
    ref = ldam_loss(z, y, COUNTS, max_margin=0.4, scale=10.0)
    torch.testing.assert_close(crit(z, y), ref)
    # one per-class door: the module holds no weight of its own
    assert set(crit.state_dict()) == {"margins"}
    weighted = ClassWeighted(crit, n_classes=3).double()
    drw = drw_weights(COUNTS, 9, max_iter=10)
    weighted.set_class_weight(drw)
    ref_w = ldam_loss(z, y, COUNTS, max_margin=0.4, scale=10.0, weight=drw.double())
    torch.testing.assert_close(weighted(z, y), ref_w)
    assert not torch.isclose(weighted(z, y), ref)
    weighted.set_class_weight(None)
    torch.testing.assert_close(weighted(z, y), ref)
    # the state survives state_dict and pickle round trips
    fresh = LDAMLoss(COUNTS, max_margin=0.4, scale=10.0).double()
    fresh.load_state_dict(crit.state_dict())
    torch.testing.assert_close(fresh(z, y), crit(z, y))
    clone = pickle.loads(pickle.dumps(crit))
    torch.testing.assert_close(clone(z, y), crit(z, y))
    assert "scale=10.0" in repr(crit)


def test_vs_module_matches_functional():
    z, y = _problem(n=6, cosine=False)
    sw = torch.rand(6, dtype=torch.float64)
    vs = VSLoss(COUNTS, gamma=0.2, tau=1.5, reduction="sum").to(torch.float64)
    assert vs.logit_offset.dtype == torch.float64
    crit = ClassWeighted(vs, n_classes=3).double()
    crit.set_class_weight([1.0, 2.0, 3.0])
    out = crit(z, y, sample_weight=sw)
    ref = vs_loss(
        z,
        y,
        COUNTS,
        gamma=0.2,
        tau=1.5,
        weight=[1.0, 2.0, 3.0],
        sample_weight=sw,
        reduction="sum",
    )
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-7)  # float32 buffers
    assert set(vs.state_dict()) == {"logit_scale", "logit_offset"}


def test_float32_inputs():
    z, y = _problem()
    z32 = z.float()
    out = ldam_loss(z32, y, COUNTS, weight=torch.tensor([1.0, 2.0, 3.0]))
    assert out.dtype == torch.float32
    torch.testing.assert_close(
        out.double(),
        ldam_loss(z, y, COUNTS, weight=[1.0, 2.0, 3.0]),
        rtol=1e-5,
        atol=1e-6,
    )
    assert LDAMLoss(COUNTS)(z32, y).dtype == torch.float32


# -- invalid arguments ----------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "exc"),
    [
        ([10, -1, 3], ValueError),
        ([0, 0, 0], ValueError),
        ([1.0, float("nan"), 2.0], ValueError),
        ([[1, 2, 3]], ValueError),
        ([], ValueError),
        ("abc", TypeError),
        (5, TypeError),
        (torch.tensor([True, False]), TypeError),
    ],
)
def test_invalid_counts(counts, exc):
    with pytest.raises(exc, match="class_counts"):
        effective_number_weights(counts)
    with pytest.raises(exc, match="class_counts"):
        ldam_margins(counts)
    with pytest.raises(exc, match="class_counts"):
        LDAMLoss(counts)
    with pytest.raises(exc, match="class_counts"):
        VSLoss(counts)


@pytest.mark.parametrize(
    ("func", "kwargs", "exc", "match"),
    [
        (effective_number_weights, {"beta": 1.0}, ValueError, "beta"),
        (effective_number_weights, {"beta": -0.1}, ValueError, "beta"),
        (effective_number_weights, {"beta": "0.9"}, TypeError, "beta"),
        (ldam_margins, {"max_margin": -0.5}, ValueError, "max_margin"),
        (ldam_loss, {"scale": 0.0}, ValueError, "scale"),
        (ldam_loss, {"max_margin": float("inf")}, ValueError, "max_margin"),
        (ldam_loss, {"weight": [1.0, 2.0]}, ValueError, "weight"),
        (ldam_loss, {"weight": [1.0, -2.0, 1.0]}, ValueError, "weight"),
        (ldam_loss, {"reduction": "mean "}, ValueError, "reduction"),
        (vs_loss, {"gamma": -0.3}, ValueError, "gamma"),
        (vs_loss, {"tau": -1.0}, ValueError, "tau"),
        (vs_loss, {"weight": "x"}, TypeError, "weight"),
        (vs_loss, {"sample_weight": torch.ones(2)}, ValueError, "sample_weight"),
    ],
)
def test_invalid_arguments(func, kwargs, exc, match):
    z, y = _problem()
    args = (
        (COUNTS,)
        if func in (effective_number_weights, ldam_margins)
        else (z, y, COUNTS)
    )
    with pytest.raises(exc, match=match):
        func(*args, **kwargs)


def test_invalid_shapes_and_schedule_args():
    z, y = _problem()
    with pytest.raises(ValueError, match="class_counts"):
        ldam_loss(z, y, [10, 1])  # 2 counts for 3 columns
    with pytest.raises(ValueError, match="class_counts"):
        VSLoss([10, 1])(z, y)
    with pytest.raises(ValueError, match="weight"):
        ClassWeighted(LDAMLoss(COUNTS), 3).set_class_weight([1.0, 1.0])
    with pytest.raises(TypeError, match="weight"):
        LDAMLoss(COUNTS, weight=[1.0, 1.0])  # one door: ClassWeighted
    with pytest.raises(ValueError, match="epoch"):
        drw_weights(COUNTS, -1, max_iter=10)
    with pytest.raises(ValueError, match="max_iter"):
        drw_weights(COUNTS, 0, max_iter=0)
    with pytest.raises(TypeError, match="epoch"):
        drw_weights(COUNTS, 1.5, max_iter=10)
    with pytest.raises(ValueError, match="start"):
        drw_weights(COUNTS, 0, max_iter=10, start=1.5)


def _smoothed_ce(row, y, eps):
    """Cross-entropy of one row against (1 - eps) e_y + eps / C, from the
    definition."""
    c = len(row)
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return sum(((1 - eps) * (k == y) + eps / c) * (lse - row[k]) for k in range(c))


@pytest.mark.parametrize("eps", [0.1, 0.35])
def test_ldam_and_vs_label_smoothing_match_the_definition(eps):
    z, target = _problem(n=9)
    margins = ldam_margins(COUNTS, 0.5).tolist()
    counts = np.asarray(COUNTS, dtype=float)
    scale_vs = (counts / counts.max()) ** 0.3
    offset_vs = np.log(counts / counts.sum())
    got_ldam = LDAMLoss(COUNTS, label_smoothing=eps, reduction="none")(z, target)
    got_vs = VSLoss(COUNTS, label_smoothing=eps, reduction="none")(z, target)
    # the modules keep margins and adjustments in float32 buffers
    for i in range(len(target)):
        row, y = z[i].tolist(), int(target[i])
        shifted = [
            30.0 * (v - (margins[k] if k == y else 0.0)) for k, v in enumerate(row)
        ]
        adjusted = [v * scale_vs[k] + offset_vs[k] for k, v in enumerate(row)]
        assert float(got_ldam[i]) == pytest.approx(
            _smoothed_ce(shifted, y, eps), rel=1e-6
        )
        assert float(got_vs[i]) == pytest.approx(
            _smoothed_ce(adjusted, y, eps), rel=1e-6
        )
    # the functional forms agree, and the gradient is torch's smoothed CE's
    torch.testing.assert_close(
        ldam_loss(z, target, COUNTS, label_smoothing=eps, reduction="none"), got_ldam
    )
    torch.testing.assert_close(
        vs_loss(z, target, COUNTS, label_smoothing=eps, reduction="none"), got_vs
    )
    x = z.clone().requires_grad_(True)
    VSLoss(COUNTS, label_smoothing=eps)(x, target).backward()
    y_ = z.clone().requires_grad_(True)
    adj = y_ * torch.as_tensor(scale_vs) + torch.as_tensor(offset_vs)
    F.cross_entropy(adj, target, label_smoothing=eps).backward()
    torch.testing.assert_close(x.grad, y_.grad)
    assert "label_smoothing=" in repr(LDAMLoss(COUNTS, label_smoothing=eps))
    with pytest.raises(ValueError, match="label_smoothing"):
        VSLoss(COUNTS, label_smoothing=1.0)
