"""Property-based tests: estimators on random inputs, losses against references."""

import warnings

import numpy as np
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skscor import DivergenceError
from skscor._variants import build
from skscor.losses import MR2Loss, focal_loss, ldam_loss, scor_loss, vs_loss

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ================================================================ estimators
LABEL_POOLS = {
    "int": np.array([-3, 0, 2, 7, 11]),
    "str": np.array(["ant", "bee", "cat", "dog", "eel"]),
    "float": np.array([-1.0, 0.0, 2.0, 3.0, 1e3]),
    "bool": np.array([False, True]),
}


@st.composite
def estimators(draw):
    # the registry's variant of each estimator class at its defaults
    name = draw(st.sampled_from(["scor", "focal", "sam", "mr2"]))
    params = {
        "hidden_layer_sizes": draw(st.sampled_from([(), (1,), (3,), (4, 2)])),
        "max_iter": draw(st.integers(1, 2)),
        "batch_size": draw(st.one_of(st.just("auto"), st.integers(1, 50))),
        "learning_rate_init": draw(st.floats(1e-4, 1.0)),
        "optimizer": draw(st.sampled_from(["adam", "adamw", "sgd"])),
        "activation": draw(st.sampled_from(["relu", "tanh", "logistic", "gelu"])),
        "dropout": draw(st.sampled_from([0.0, 0.3])),
        "weight_decay": draw(st.sampled_from([0.0, 1e-3, "auto"])),
        "shuffle": draw(st.booleans()),
        "class_weight": draw(st.sampled_from([None, "balanced"])),
        "early_stopping": draw(st.booleans()),
        "validation_fraction": draw(st.sampled_from([0.1, 0.5])),
        "random_state": draw(st.integers(0, 2**31 - 1)),
        "device": "cpu",
    }
    if name == "scor":
        est = build(
            name,
            alpha=draw(st.floats(0.0, 1.0)),
            label_smoothing=draw(st.sampled_from([0.0, 0.1])),
            **params,
        )
    elif name == "focal":
        params["class_weight"] = None
        est = build(
            name,
            gamma=draw(st.floats(0.0, 5.0)),
            alpha=draw(st.sampled_from([None, 0.25])),
            **params,
        )
    elif name == "sam":
        reweighting = draw(st.sampled_from([None, "drw"]))
        if reweighting is not None:
            params["class_weight"] = None
        est = build(
            name,
            rho=draw(st.floats(0.0, 0.5)),
            rho_schedule=draw(st.sampled_from(["constant", "linear", "step"])),
            adaptive=draw(st.booleans()),
            loss=draw(st.sampled_from(["ce", "focal", "ldam", "vs", "scor"])),
            reweighting=reweighting,
            drw_start=draw(st.sampled_from([0.0, 0.8])),
            **params,
        )
    else:
        est = build(
            name,
            lambda_rep=draw(st.floats(0.0, 2.0)),
            ema_decay=draw(st.floats(0.0, 0.99)),
            margin_scale=draw(st.floats(0.1, 10.0)),
            **params,
        )
    return est


@st.composite
def datasets(draw):
    n = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 5))
    pool = LABEL_POOLS[draw(st.sampled_from(list(LABEL_POOLS)))]
    n_classes = draw(st.integers(2, len(pool)))
    codes = draw(arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    if draw(st.integers(0, 3)):
        # mostly every class present; sometimes whatever was drawn (one class)
        codes[: min(n, n_classes)] = np.arange(min(n, n_classes))
    y = pool[codes]
    seed = draw(st.integers(0, 2**16))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64, np.int64]))
    scale = 10.0 ** draw(st.integers(-4, 4))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) + codes[:, None]
    return (X * scale).astype(dtype), y


def _fitted_attrs(est):
    return [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]


def _check_outputs(est, X, classes, y_dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = est.predict_proba(X)
        pred = est.predict(X)
        log_proba = est.predict_log_proba(X)
        scores = est.decision_function(X)
    np.testing.assert_array_equal(est.classes_, classes)
    assert proba.shape == (len(X), len(classes)) and proba.dtype == np.float64
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-9, atol=1e-300)
    assert np.isin(pred, classes).all() and pred.dtype == y_dtype
    np.testing.assert_array_equal(pred, classes[proba.argmax(axis=1)])
    expected = (len(X),) if len(classes) == 2 else (len(X), len(classes))
    assert scores.shape == expected and np.isfinite(scores).all()
    assert len(est.loss_curve_) == est.n_iter_
    assert np.isfinite(est.loss_curve_).all()
    return proba


DOCUMENTED = (ValueError, TypeError, DivergenceError)


@SETTINGS
@given(est=estimators(), data=datasets(), chunk=st.integers(1, 40))
def test_fit_predict_valid_outputs_or_documented_error(est, data, chunk):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence, overflow in casts
        try:
            est.fit(X, y)
        except DOCUMENTED as err:
            event(f"fit refused: {type(err).__name__}: {str(err)[:40]}")
            # documented failures leave no fitted state behind
            assert _fitted_attrs(est) == []
            return
    event("fitted")
    classes = np.unique(y)
    proba = _check_outputs(est, X, classes, y.dtype)
    assert est.n_iter_ <= est.max_iter
    # partial_fit on a chunk (possibly of one class) continues the same model
    n_iter = est.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.partial_fit(X[:chunk], y[:chunk])
        except DOCUMENTED as err:
            event(f"partial_fit refused: {type(err).__name__}: {str(err)[:30]}")
            # a refused call changes nothing
            assert est.n_iter_ == n_iter
            np.testing.assert_array_equal(est.predict_proba(X), proba)
            return
    assert est.n_iter_ == n_iter + 1
    _check_outputs(est, X, classes, y.dtype)


# ============================================================ loss references
def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _ce(z, y):
    return -_log_softmax(z)[np.arange(len(y)), y]


@st.composite
def batches(draw, max_abs=30.0, min_classes=2, dtype=np.float64):
    n = draw(st.integers(1, 12))
    c = draw(st.integers(min_classes, 5))
    logits = draw(
        arrays(dtype, (n, c), elements=st.floats(-max_abs, max_abs, width=32))
    )
    target = draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    weights = draw(
        st.one_of(
            st.none(),
            arrays(np.float64, n, elements=st.floats(0.0, 5.0)),
        )
    )
    return logits, target, weights


def _t(a):
    return None if a is None else torch.as_tensor(a)


def _weighted_mean(losses, w):
    return float(np.mean(losses if w is None else losses * w))


@SETTINGS
@given(
    batch=batches(),
    alpha=st.floats(0.0, 1.0),
    smoothing=st.sampled_from([0.0, 0.1, 0.5]),
    seed=st.integers(0, 2**31),
)
def test_scor_loss_matches_reference(batch, alpha, smoothing, seed):
    z, y, w = batch
    n, c = z.shape
    got = scor_loss(
        _t(z),
        _t(y),
        alpha=alpha,
        label_smoothing=smoothing,
        sample_weight=_t(w),
        generator=torch.Generator().manual_seed(seed),
    )
    logp = _log_softmax(z)
    per = (1 - smoothing) * _ce(z, y) + smoothing * (-logp).mean(axis=1)
    ref = _weighted_mean(per, w)
    if alpha:
        if n % 2:
            penalty = np.linalg.norm(z.T @ z)
        else:
            g = torch.Generator().manual_seed(seed)
            perm = torch.randperm(n, generator=g).numpy()
            a, b = z[perm[n // 2 :]], z[perm[: n // 2]]
            penalty = np.linalg.norm(a.T @ b)
        ref += alpha * penalty
    np.testing.assert_allclose(float(got), ref, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(
    batch=batches(),
    gamma=st.floats(0.0, 5.0),
    alpha_kind=st.sampled_from(["none", "float", "vector"]),
    data=st.data(),
)
def test_focal_loss_matches_reference(batch, gamma, alpha_kind, data):
    z, y, w = batch
    c = z.shape[1]
    alpha, alpha_t = None, np.ones(len(y))
    if alpha_kind == "float" and c == 2:
        alpha = data.draw(st.floats(0.01, 0.99))
        alpha_t = np.where(y == 1, alpha, 1 - alpha)
    elif alpha_kind == "vector":
        alpha = data.draw(arrays(np.float64, c, elements=st.floats(0.0, 3.0)))
        alpha_t = alpha[y]
    got = focal_loss(_t(z), _t(y), gamma=gamma, alpha=alpha, sample_weight=_t(w))
    log_pt = _log_softmax(z)[np.arange(len(y)), y]
    one_minus = np.maximum(-np.expm1(log_pt), np.finfo(np.float64).tiny)
    per = -alpha_t * one_minus**gamma * log_pt
    np.testing.assert_allclose(
        float(got), _weighted_mean(per, w), rtol=1e-9, atol=1e-12
    )


def _counts(data, c):
    counts = data.draw(arrays(np.float64, c, elements=st.integers(0, 1000)))
    counts[data.draw(st.integers(0, c - 1))] += 1  # at least one positive
    return counts


def _filled(counts):
    # zero counts act as the smallest positive count (module notes)
    return np.where(counts > 0, counts, counts[counts > 0].min())


@SETTINGS
@given(
    batch=batches(max_abs=1.0),
    max_margin=st.floats(0.0, 2.0),
    scale=st.floats(0.5, 50.0),
    weighted=st.booleans(),
    data=st.data(),
)
def test_ldam_loss_matches_reference(batch, max_margin, scale, weighted, data):
    z, y, w = batch
    c = z.shape[1]
    counts = _counts(data, c)
    weight = (
        data.draw(arrays(np.float64, c, elements=st.floats(0, 3))) if weighted else None
    )
    got = ldam_loss(
        _t(z),
        _t(y),
        counts,
        max_margin=max_margin,
        scale=scale,
        weight=weight,
        sample_weight=_t(w),
    )
    q = _filled(counts) ** -0.25
    margins = max_margin * q / q.max()
    shifted = z.copy()
    shifted[np.arange(len(y)), y] -= margins[y]
    per = _ce(scale * shifted, y) * (1.0 if weight is None else weight[y])
    np.testing.assert_allclose(
        float(got), _weighted_mean(per, w), rtol=1e-9, atol=1e-12
    )


@SETTINGS
@given(
    batch=batches(),
    gamma=st.floats(0.0, 1.0),
    tau=st.floats(0.0, 3.0),
    data=st.data(),
)
def test_vs_loss_matches_reference(batch, gamma, tau, data):
    z, y, w = batch
    counts = _filled(_counts(data, z.shape[1]))
    got = vs_loss(_t(z), _t(y), counts, gamma=gamma, tau=tau, sample_weight=_t(w))
    adjusted = z * (counts / counts.max()) ** gamma + tau * np.log(
        counts / counts.sum()
    )
    np.testing.assert_allclose(
        float(got), _weighted_mean(_ce(adjusted, y), w), rtol=1e-9, atol=1e-12
    )


class _MR2Reference:
    """MR² in float64 numpy, from the loss's documented definition."""

    def __init__(self, k, lambda_rep, decay, c):
        self.k, self.lam, self.d, self.c = k, lambda_rep, decay, c
        self.m, self.v = np.zeros(k), np.zeros(k)
        self.seen_m, self.seen_v = np.zeros(k, bool), np.zeros(k, bool)

    def __call__(self, z, y, h, w):
        k, dim = self.k, h.shape[1]
        for cls in range(k):
            rows = h[y == cls]
            if len(rows) == 0:
                continue
            mu = rows.mean(0)
            m_b, v_b = mu @ mu, ((rows - mu) ** 2).sum(1).mean()
            self.m[cls] = (
                self.d * self.m[cls] + (1 - self.d) * m_b if self.seen_m[cls] else m_b
            )
            self.seen_m[cls] = True
            if len(rows) >= 2:
                self.v[cls] = (
                    self.d * self.v[cls] + (1 - self.d) * v_b
                    if self.seen_v[cls]
                    else v_b
                )
                self.seen_v[cls] = True
        s = np.where(self.seen_m, np.cbrt(self.m + self.v), 0.0)
        gamma = np.ones(k)
        if s.sum() > 0:
            gamma = np.where(self.seen_m, self.seen_m.sum() * s / s.sum(), 1.0)
        gamma = np.maximum(gamma, 1e-3)
        s_bar = self.v[self.seen_v].mean() if self.seen_v.any() else 0.0
        loss = _weighted_mean(_ce(z / (self.c * gamma[y])[:, None], y), w)
        rep = 0.0
        for cls in range(k):
            idx = np.flatnonzero(y == cls)
            if len(idx) < 2:
                continue
            for i in idx:
                others = [j for j in idx if j != i]
                dist = ((h[others] - h[i]) ** 2).sum(1)
                rep += np.log1p(np.exp((dist - 2 * s_bar) / (10 * dim)).sum()) / len(
                    idx
                )
        return loss + self.lam * rep * dim / (10 * k)


@SETTINGS
@given(
    batch=batches(),
    n_batches=st.integers(1, 3),
    dim=st.integers(1, 4),
    lambda_rep=st.floats(0.0, 2.0),
    decay=st.floats(0.0, 0.99),
    margin_scale=st.floats(0.1, 5.0),
    seed=st.integers(0, 2**16),
)
def test_mr2_loss_matches_reference_over_several_batches(
    batch, n_batches, dim, lambda_rep, decay, margin_scale, seed
):
    z, y, w = batch
    k = z.shape[1]
    rng = np.random.default_rng(seed)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # float64 moving-average buffers
    try:
        crit = MR2Loss(
            k, lambda_rep=lambda_rep, ema_decay=decay, margin_scale=margin_scale
        )
    finally:
        torch.set_default_dtype(default)
    ref = _MR2Reference(k, lambda_rep, decay, margin_scale)
    for step in range(n_batches):
        h = rng.normal(scale=2.0, size=(len(y), dim))
        zb = z + step
        got = crit(_t(zb), _t(y), _t(h), sample_weight=_t(w))
        np.testing.assert_allclose(float(got), ref(zb, y, h, w), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(crit.ema_m.numpy(), np.where(ref.seen_m, ref.m, 0))


LOSSES = {
    "scor": lambda z, y, w, counts, h: scor_loss(
        z, y, alpha=0.5, sample_weight=w, generator=torch.Generator().manual_seed(0)
    ),
    "focal": lambda z, y, w, counts, h: focal_loss(z, y, gamma=0.5, sample_weight=w),
    "ldam": lambda z, y, w, counts, h: ldam_loss(z, y, counts, sample_weight=w),
    "vs": lambda z, y, w, counts, h: vs_loss(z, y, counts, sample_weight=w),
    "mr2": lambda z, y, w, counts, h: MR2Loss(z.shape[1])(z, y, h, sample_weight=w),
}


@SETTINGS
@given(
    name=st.sampled_from(list(LOSSES)),
    batch=batches(max_abs=1e4, dtype=np.float32),
    h_scale=st.sampled_from([0.0, 1e-3, 1.0, 1e3]),
    data=st.data(),
)
def test_losses_and_gradients_stay_finite(name, batch, h_scale, data):
    z, y, w = batch
    counts = _counts(data, z.shape[1])
    logits = torch.tensor(z, requires_grad=True)
    h = torch.tensor(
        np.random.default_rng(0).normal(size=(len(y), 3)) * h_scale,
        dtype=torch.float32,
        requires_grad=True,
    )
    weight = None if w is None else torch.tensor(w, dtype=torch.float32)
    loss = LOSSES[name](logits, torch.as_tensor(y), weight, counts, h)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    if h.grad is not None:
        assert torch.isfinite(h.grad).all()
