import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from torch import nn
from torch.func import functional_call

from skscor.hessian import (
    ClassHessianSpectrum,
    HessianSpectrum,
    class_hessian_spectrum,
    hessian_spectrum,
)


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny double-backward products: thread hand-offs cost more than they save,
    # and on a loaded shared machine they cost 10-100x
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tiny_net(seed=0, zero=False):
    """4-16-3 tanh MLP in float64: 131 parameters."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    if zero:
        # W1 = W2 = b1 = 0 is a critical point in (W1, W2) with indefinite
        # cross-curvature: a saddle
        with torch.no_grad():
            net[0].weight.zero_()
            net[0].bias.zero_()
            net[2].weight.zero_()
    return net


def _data(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g, dtype=torch.float64)
    return X, torch.arange(n) % 3


def _exact_hessian(net, X, y, scale=1.0):
    """The Hessian of the cross-entropy of ``scale`` times the net's outputs."""
    names = [n for n, _ in net.named_parameters()]
    params = list(net.parameters())
    shapes, sizes = [p.shape for p in params], [p.numel() for p in params]
    flat = torch.cat([p.detach().reshape(-1) for p in params])

    def loss(theta):
        parts = torch.split(theta, sizes)
        ps = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes, strict=True)}
        return F.cross_entropy(scale * functional_call(net, ps, (X,)), y)

    H = torch.autograd.functional.hessian(loss, flat).numpy()
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    return H


def _exact_eigvals(net, X, y):
    return np.linalg.eigvalsh(_exact_hessian(net, X, y))


def test_extremes_and_trace_match_exact_hessian():
    net = _tiny_net()
    X, y = _data()
    ev = _exact_eigvals(net, X, y)
    spec = hessian_spectrum(net, X, y, n_hutchinson=1000, tol=1e-10, random_state=0)
    assert isinstance(spec, HessianSpectrum)
    assert spec.n_params == 131 and spec.n_samples == 60
    width = ev[-1] - ev[0]
    # float64 products: eigsh to 1e-10 relative to the width
    assert spec.lambda_max == pytest.approx(ev[-1], abs=1e-8 * width)
    assert spec.lambda_min == pytest.approx(ev[0], abs=1e-8 * width)
    assert ev[0] < 0  # this random point is itself indefinite
    # Hutchinson, 1000 Rademacher probes, seeded: within 4 standard errors,
    # and the standard error itself is below 3% of the trace
    assert abs(spec.trace - ev.sum()) < 4 * spec.trace_std
    assert spec.trace_std < 0.03 * ev.sum()


def test_default_tolerance_is_accurate_enough():
    net = _tiny_net(seed=1)
    X, y = _data(seed=1)
    ev = _exact_eigvals(net, X, y)
    spec = hessian_spectrum(net, X, y, n_hutchinson=0, random_state=0)
    width = ev[-1] - ev[0]
    assert spec.lambda_max == pytest.approx(ev[-1], abs=1e-3 * width)
    assert spec.lambda_min == pytest.approx(ev[0], abs=1e-3 * width)
    assert np.isnan(spec.trace)


def test_float32_module_matches_float64_reference():
    net = _tiny_net(seed=2)
    X, y = _data(seed=2)
    ev = _exact_eigvals(net, X, y)
    spec = hessian_spectrum(net.float(), X.float(), y, n_hutchinson=0, random_state=0)
    width = ev[-1] - ev[0]
    assert spec.lambda_max == pytest.approx(ev[-1], abs=1e-3 * width)
    assert spec.lambda_min == pytest.approx(ev[0], abs=1e-3 * width)


def test_zero_weights_saddle_via_eigsh():
    net = _tiny_net(zero=True)
    X, y = _data()
    ev = _exact_eigvals(net, X, y)
    assert ev[0] < -1e-2  # the construction really is a saddle
    spec = hessian_spectrum(net, X, y, n_hutchinson=0, tol=1e-10, random_state=0)
    assert spec.lambda_min == pytest.approx(ev[0], rel=1e-6)
    assert spec.lambda_max == pytest.approx(ev[-1], rel=1e-6)
    assert spec.is_saddle()


class _Bilinear(nn.Module):
    """logits = (a * b * x, 0): at a = b = 0, CE has Hessian [[0, -x/2], [-x/2, 0]]."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.b = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return torch.cat([self.a * self.b * x, torch.zeros_like(x)], dim=1)


def test_two_parameter_saddle_hand_values():
    # dCE/dt = -sigmoid(-t) = -1/2 at t = a*b*x = 0, so d2/da db = -x/2 and the
    # diagonal vanishes: eigenvalues +-x/2, trace 0
    X = torch.full((5, 1), 3.0, dtype=torch.float64)
    y = torch.zeros(5, dtype=torch.long)
    spec = hessian_spectrum(_Bilinear(), X, y, density=True, random_state=0)
    assert spec.lambda_min == pytest.approx(-1.5)
    assert spec.lambda_max == pytest.approx(1.5)
    assert spec.trace == pytest.approx(0.0, abs=1e-12) and spec.trace_std == 0.0
    assert spec.is_saddle()
    assert np.trapezoid(spec.density, spec.density_grid) == pytest.approx(1, abs=1e-3)


def test_is_saddle_compares_negative_with_positive_curvature():
    def spectrum(lambda_max, lambda_min):
        return HessianSpectrum(10, 5, lambda_max, lambda_min, 0.0, 0.0, None, None, 0)

    assert not spectrum(10.0, -0.5).is_saddle()  # 5%: below the default 0.1
    assert spectrum(10.0, -0.5).is_saddle(saddle_tol=0.01)
    assert spectrum(10.0, -2.0).is_saddle()
    assert not spectrum(10.0, 1.0).is_saddle(saddle_tol=0.0)
    # no positive curvature: any negative one is a saddle
    assert spectrum(-1.0, -2.0).is_saddle() and spectrum(0.0, -1e-9).is_saddle()
    assert not spectrum(0.0, 0.0).is_saddle()
    assert not spectrum(10.0, np.nan).is_saddle()  # lambda_min not computed


def _one_class_never_learned(seed=0):
    """4-16-3 tanh MLP trained on classes 0 and 1 of three clusters, not on 2.

    Classes 0 and 1 end near a minimum of their loss (probability of the true
    class above 0.999); class 2, never seen, is predicted nowhere: its loss is
    stuck at a saddle, the whole curvature of its logits indefinite.
    """
    net = _tiny_net(seed)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(90) % 3
    X = 2.0 * torch.eye(4, dtype=torch.float64)[y]
    X = X + 0.5 * torch.randn(90, 4, generator=g, dtype=torch.float64)
    seen = y != 2
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(net(X[seen]), y[seen]).backward()
        opt.step()
    return net, X, y


def test_saddle_flag_tells_a_stuck_class_from_learned_ones():
    net, X, y = _one_class_never_learned()
    with torch.no_grad():
        proba = net(X).softmax(1)
    assert proba[y == 0, 0].min() > 0.99 and proba[y == 1, 1].min() > 0.99
    assert proba[y == 2, 2].max() < 0.1
    spec = class_hessian_spectrum(net, X, y, n_hutchinson=0, tol=1e-10, random_state=0)
    for c in range(3):  # the solver is exact here: the flag is the criterion's
        ev = _exact_eigvals(net, X[y == c], y[y == c])
        assert spec[c].lambda_min == pytest.approx(ev[0], abs=1e-8 * ev[-1])
    # every class has some negative curvature (tanh layers are not convex);
    # learned classes a few percent of their positive curvature, the stuck one
    # more than half of it
    assert (spec.lambda_min < 0).all()
    ratio = -spec.lambda_min / spec.lambda_max
    assert ratio[:2].max() < 0.07 and ratio[2] > 0.5
    np.testing.assert_array_equal(spec.is_saddle, [False, False, True])
    assert [line.split()[-1] for line in repr(spec).splitlines()[2:]] == [
        "no", "no", "yes",
    ]  # fmt: skip
    # a convex model (multinomial logistic regression) is never a saddle
    linear = nn.Linear(4, 3).double()
    convex = class_hessian_spectrum(linear, X, y, n_hutchinson=0, random_state=0)
    assert not convex.is_saddle.any()


def test_slq_density_integrates_to_one_and_covers_spectrum():
    net = _tiny_net()
    X, y = _data()
    H = _exact_hessian(net, X, y)
    ev = np.linalg.eigvalsh(H)
    n_slq, n = 30, len(ev)
    spec = hessian_spectrum(
        net, X, y, n_hutchinson=0, density=True, lanczos_steps=30, n_slq=n_slq,
        random_state=0,
    )  # fmt: skip
    grid, density = spec.density_grid, spec.density
    assert grid.shape == density.shape == (256,)
    assert (density >= 0).all()
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    assert grid[0] <= ev[0] and grid[-1] >= ev[-1]
    # first moment: each probe contributes v'Hv/|v|^2 (the Gaussian kernel keeps
    # the mean), an unbiased estimate of tr(H)/n with Rademacher variance
    # 2 sum_{i != j} H_ij^2 / n^2: within 4 standard errors
    mean = np.trapezoid(grid * density, grid)
    se = np.sqrt(2 * ((H**2).sum() - (np.diag(H) ** 2).sum()) / n_slq) / n
    assert abs(mean - ev.mean()) < 4 * se


def test_lanczos_with_full_steps_recovers_extremes():
    net = _tiny_net(seed=3)
    X, y = _data(seed=3)
    ev = _exact_eigvals(net, X, y)
    spec = hessian_spectrum(
        net, X, y, which=(), n_hutchinson=0, density=True, lanczos_steps=131,
        n_slq=1, random_state=0,
    )  # fmt: skip
    # grid spans the Ritz values +- 5 sigma, sigma = 1% of their width
    sigma = 0.01 * (ev[-1] - ev[0])
    assert spec.density_grid[0] == pytest.approx(ev[0] - 5 * sigma, rel=1e-6)
    assert spec.density_grid[-1] == pytest.approx(ev[-1] + 5 * sigma, rel=1e-6)
    assert np.isnan(spec.lambda_max) and np.isnan(spec.lambda_min)


def test_chunked_products_equal_single_chunk():
    net = _tiny_net()
    X, y = _data(n=50)
    kw = {"n_hutchinson": 5, "tol": 1e-10, "random_state": 0}
    one = hessian_spectrum(net, X, y, **kw)
    many = hessian_spectrum(net, X, y, batch_size=7, **kw)
    assert many.lambda_max == pytest.approx(one.lambda_max, rel=1e-9)
    assert many.lambda_min == pytest.approx(one.lambda_min, rel=1e-9)
    assert many.trace == pytest.approx(one.trace, rel=1e-9)


def test_seeded_results_are_reproducible():
    net = _tiny_net().float()
    X, y = _data()
    a = hessian_spectrum(net, X, y, n_hutchinson=20, density=True, random_state=3)
    b = hessian_spectrum(net, X, y, n_hutchinson=20, density=True, random_state=3)
    assert a.trace == b.trace and a.lambda_min == b.lambda_min
    np.testing.assert_array_equal(a.density, b.density)


def test_module_state_restored():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    net.train()
    net[1].eval()  # mixed per-submodule modes must come back as they were
    net[0].bias.requires_grad_(False)
    sentinel = torch.full_like(net[2].weight, 7.0)
    net[2].weight.grad = sentinel.clone()
    X, y = torch.randn(20, 4), torch.arange(20) % 3
    spec = hessian_spectrum(net, X, y, n_hutchinson=3, random_state=0)
    assert [m.training for m in net.modules()] == [True, True, False, True]
    assert [p.requires_grad for p in net.parameters()] == [True, False, True, True]
    assert net[0].weight.grad is None and net[2].bias.grad is None
    torch.testing.assert_close(net[2].weight.grad, sentinel)
    # frozen bias excluded: 32 + 24 + 3 trainable parameters
    assert spec.n_params == 59


def test_eval_mode_used_dropout_is_off():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.9), nn.Linear(8, 3))
    X, y = torch.randn(30, 4), torch.arange(30) % 3
    no_dropout = nn.Sequential(net[0], net[1], net[3])
    kw = {"n_hutchinson": 0, "random_state": 0}
    a = hessian_spectrum(net.train(), X, y, **kw)
    b = hessian_spectrum(no_dropout, X, y, **kw)
    assert a.lambda_max == pytest.approx(b.lambda_max, rel=1e-4)


def test_tuple_output_uses_first_element():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x):
            out = self.lin(x)
            return out, out.detach()

    torch.manual_seed(0)
    model = TwoHeads()
    X, y = torch.randn(20, 4), torch.arange(20) % 3
    a = hessian_spectrum(model, X, y, n_hutchinson=0, random_state=0)
    b = hessian_spectrum(model.lin, X, y, n_hutchinson=0, random_state=0)
    assert a.lambda_max == pytest.approx(b.lambda_max, rel=1e-5)


def test_per_class_on_module_matches_exact_per_class():
    net = _tiny_net()
    X, y = _data(n=90)
    spec = class_hessian_spectrum(
        net, X.numpy(), y.numpy(), n_hutchinson=0, tol=1e-10, random_state=0
    )
    assert isinstance(spec, ClassHessianSpectrum)
    np.testing.assert_array_equal(spec.labels, [0, 1, 2])
    np.testing.assert_array_equal(spec.n_samples, [30, 30, 30])
    for c in range(3):
        ev = _exact_eigvals(net, X[y == c], y[y == c])
        assert spec[c].lambda_max == pytest.approx(ev[-1], rel=1e-6)
        assert spec.lambda_min[c] == pytest.approx(ev[0], abs=1e-8)
    assert spec.is_saddle.dtype == bool
    frame = spec.to_frame()
    assert list(frame["label"]) == [0, 1, 2]
    assert list(frame.columns) == [
        "label", "n_samples", "lambda_max", "lambda_min", "trace", "trace_std",
        "is_saddle",
    ]  # fmt: skip
    assert repr(spec).startswith("ClassHessianSpectrum(3 classes, 131 parameters)")


def test_per_class_sample_cap_is_seeded():
    net = _tiny_net().float()
    X, y = _data(n=90)
    kw = {"max_samples_per_class": 10, "n_hutchinson": 5, "random_state": 0}
    a = class_hessian_spectrum(net, X, y, classes=[2, 0], **kw)
    b = class_hessian_spectrum(net, X, y, **kw)
    np.testing.assert_array_equal(a.labels, [2, 0])
    np.testing.assert_array_equal(a.n_samples, [10, 10])
    # per-class seeds: the same class gives the same numbers in any order
    assert a[0].trace == b[0].trace and a[2].lambda_max == b[2].lambda_max
    c = class_hessian_spectrum(net, X, y, **{**kw, "random_state": 1})
    assert c[0].trace != b[0].trace
    with pytest.raises(ValueError, match=r"classes \[5\] have no samples"):
        class_hessian_spectrum(net, X, y, classes=[5], n_hutchinson=0)


def test_density_per_class():
    net = _tiny_net().float()
    X, y = _data(n=60)
    spec = class_hessian_spectrum(
        net, X, y, density=True, n_hutchinson=0, lanczos_steps=20, n_slq=2,
        random_state=0,
    )  # fmt: skip
    assert spec.has_density
    for s in spec.spectra:
        assert np.trapezoid(s.density, s.density_grid) == pytest.approx(1, abs=1e-3)
        assert s.density_grid[0] <= s.lambda_min <= s.lambda_max <= s.density_grid[-1]


class _FakeNet:
    def __init__(self, module):
        self.module_ = module


class _FakeEstimator(ClassifierMixin, BaseEstimator):
    """The minimum of a fitted skscor estimator that the Hessian code reads."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.net_ = _FakeNet(_tiny_net().float())
        return self


def test_estimator_path_encodes_labels():
    X, idx = _data(n=60)
    labels = np.array(["ant", "bee", "cow"])
    est = _FakeEstimator().fit(X.numpy(), labels[idx.numpy()])
    spec = class_hessian_spectrum(
        est, X.numpy(), labels[idx.numpy()], n_hutchinson=0, random_state=0
    )
    np.testing.assert_array_equal(spec.labels, labels)
    direct = class_hessian_spectrum(
        est.net_.module_, X, idx, n_hutchinson=0, random_state=0
    )
    np.testing.assert_allclose(spec.lambda_max, direct.lambda_max)
    only = class_hessian_spectrum(
        est, X.numpy(), labels[idx.numpy()], classes=["cow"], n_hutchinson=0
    )
    np.testing.assert_array_equal(only.labels, ["cow"])
    with pytest.raises(ValueError, match="not in estimator.classes_: \\['eel'\\]"):
        class_hessian_spectrum(est, X.numpy()[:2], ["ant", "eel"])
    with pytest.raises(ValueError, match="classes contains labels not in"):
        class_hessian_spectrum(est, X.numpy(), labels[idx.numpy()], classes=["eel"])
    with pytest.raises(ValueError, match="features"):
        class_hessian_spectrum(est, X.numpy()[:, :3], labels[idx.numpy()])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_ldam_estimator_hessian_is_that_of_the_scaled_logits():
    # LDAM's module ends in a cosine head; prediction multiplies the cosines
    # by the scale s = 30 (the criterion's decision_logits): the default loss
    # is the cross-entropy of those logits, the log-loss of predict_proba
    from skscor import SAMClassifier

    rng = np.random.RandomState(0)
    y = np.arange(45) % 3
    X = (2.0 * np.eye(3)[y] + 0.5 * rng.randn(45, 3)).astype(np.float32)
    # preprocessing=None: the reference below feeds X to the module as it is
    clf = SAMClassifier(
        loss="ldam", hidden_layer_sizes=(4,), max_iter=10, learning_rate_init=0.05,
        random_state=0, preprocessing=None,
        # one network: its decision function is the module's (an ensemble
        # averages its members' probabilities; the Hessian is net_'s)
        n_members=1, early_stopping=False,
    ).fit(X, y)  # fmt: skip
    module = clf.net_.module_
    with torch.no_grad():
        cosines = module(torch.as_tensor(X)).double().numpy()
    np.testing.assert_allclose(clf.decision_function(X), 30.0 * cosines, rtol=1e-6)
    # float64 from here: products and exact Hessian agree to eigsh's tolerance
    module.double()
    assert sum(p.numel() for p in module.parameters()) == 28  # ARPACK, not dense
    spec = class_hessian_spectrum(clf, X, y, n_hutchinson=0, tol=1e-10, random_state=0)
    for c in range(3):
        Xc = torch.as_tensor(X[y == c], dtype=torch.float64)
        yc = torch.as_tensor(y[y == c])
        ev = np.linalg.eigvalsh(_exact_hessian(module, Xc, yc, scale=30.0))
        assert spec[c].lambda_max == pytest.approx(ev[-1], rel=1e-6)
        assert spec[c].lambda_min == pytest.approx(ev[0], abs=1e-6 * ev[-1])
    # a loss given by the caller receives the module's outputs, as the
    # training loss does: here the cross-entropy of the cosines themselves
    raw = class_hessian_spectrum(
        clf, X, y, loss_fn=F.cross_entropy, n_hutchinson=0, random_state=0
    )
    direct = class_hessian_spectrum(module, X, y, n_hutchinson=0, random_state=0)
    np.testing.assert_allclose(raw.lambda_max, direct.lambda_max, rtol=1e-9)


def test_estimator_not_fitted():
    with pytest.raises(NotFittedError):
        class_hessian_spectrum(_FakeEstimator(), np.zeros((3, 4)), [0, 1, 2])


def test_invalid_arguments():
    net = _tiny_net()
    X, y = _data(n=12)
    with pytest.raises(TypeError, match="module"):
        hessian_spectrum("net", X, y)
    with pytest.raises(ValueError, match="which"):
        hessian_spectrum(net, X, y, which=("median",))
    with pytest.raises(ValueError, match="n_hutchinson"):
        hessian_spectrum(net, X, y, n_hutchinson=-1)
    with pytest.raises(TypeError, match="lanczos_steps"):
        hessian_spectrum(net, X, y, lanczos_steps=2.5)
    with pytest.raises(ValueError, match="X and y have different lengths"):
        hessian_spectrum(net, X, y[:5])
    with pytest.raises(ValueError, match="requires_grad"):
        hessian_spectrum(nn.Linear(4, 3).requires_grad_(False), X.float(), y)
    with pytest.raises(ValueError, match="max_samples_per_class"):
        class_hessian_spectrum(net, X, y, max_samples_per_class=0)
    with pytest.raises(ValueError, match="integer class indices"):
        class_hessian_spectrum(net, X, y.double())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    net = _tiny_net()
    X, y = _data()
    kw = {"n_hutchinson": 50, "tol": 1e-10, "random_state": 0}
    cpu = class_hessian_spectrum(net, X, y, **kw)
    gpu = class_hessian_spectrum(net.cuda(), X.numpy(), y.numpy(), **kw)
    assert next(net.parameters()).is_cuda  # module left where it was
    np.testing.assert_allclose(gpu.lambda_max, cpu.lambda_max, rtol=1e-6)
    np.testing.assert_allclose(gpu.lambda_min, cpu.lambda_min, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gpu.trace, cpu.trace, rtol=1e-6)
