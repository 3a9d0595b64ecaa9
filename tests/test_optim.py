"""Tests of skscor.optim (SAM/ASAM, BatchNorm helpers, rho schedules)."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from skscor.optim import (
    SAM,
    RhoSchedule,
    disable_running_stats,
    enable_running_stats,
    rho_schedule,
)


def _data(n=8, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    t = torch.randn(n, 1, generator=g, dtype=torch.float64)
    return X, t


def _linear(seed=1):
    torch.manual_seed(seed)
    return nn.Linear(3, 1).double()


def _mse_grad(W, b, X, t):
    """Analytic gradient of mean((X W^T + b - t)^2) (numpy)."""
    r = X @ W.T + b - t  # (n, 1)
    n = X.shape[0]
    return 2.0 / n * r.T @ X, 2.0 / n * r.sum(0)


def _loss(model, X, t):
    return ((model(X) - t) ** 2).mean()


def _two_pass(opt, model, X, t, bn_safe=False):
    _loss(model, X, t).backward()
    opt.first_step(zero_grad=True)
    if bn_safe:
        disable_running_stats(model)
    _loss(model, X, t).backward()
    opt.second_step(zero_grad=True)
    if bn_safe:
        enable_running_stats(model)


@pytest.mark.parametrize("adaptive", [False, True])
def test_one_step_matches_hand_computation(adaptive):
    X, t = _data()
    model = _linear()
    W0 = model.weight.detach().numpy().copy()
    b0 = model.bias.detach().numpy().copy()
    rho, lr = 0.3, 0.1
    opt = SAM(model.parameters(), torch.optim.SGD, rho=rho, adaptive=adaptive, lr=lr)
    _two_pass(opt, model, X, t)

    Xn, tn = X.numpy(), t.numpy()
    gW, gb = _mse_grad(W0, b0, Xn, tn)
    if adaptive:
        norm = np.sqrt(((np.abs(W0) * gW) ** 2).sum() + ((np.abs(b0) * gb) ** 2).sum())
        eW, eb = rho * W0**2 * gW / (norm + 1e-12), rho * b0**2 * gb / (norm + 1e-12)
    else:
        norm = np.sqrt((gW**2).sum() + (gb**2).sum())
        eW, eb = rho * gW / (norm + 1e-12), rho * gb / (norm + 1e-12)
    gW2, gb2 = _mse_grad(W0 + eW, b0 + eb, Xn, tn)
    np.testing.assert_allclose(model.weight.detach().numpy(), W0 - lr * gW2, rtol=1e-12)
    np.testing.assert_allclose(model.bias.detach().numpy(), b0 - lr * gb2, rtol=1e-12)
    # SAM's update differs from the plain gradient step
    assert not np.allclose(model.weight.detach().numpy(), W0 - lr * gW, rtol=1e-6)
    assert opt.state_dict()["state"] == {}  # SGD without momentum: no state
    assert opt._backup is None  # the copies of w are freed


def test_first_step_perturbation_norm_is_rho():
    X, t = _data()
    model = _linear()
    before = [p.detach().clone() for p in model.parameters()]
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.2, lr=0.1)
    _loss(model, X, t).backward()
    opt.first_step()
    e = torch.cat(
        [
            (p.detach() - b).flatten()
            for p, b in zip(model.parameters(), before, strict=True)
        ]
    )
    assert float(e.norm()) == pytest.approx(0.2, rel=1e-10)  # joint norm over params
    opt.second_step()


def test_rho_zero_equals_base_optimizer_exactly():
    X, t = _data(n=16)
    sam_model = _linear()
    base_model = copy.deepcopy(sam_model)
    kw = {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3}
    sam = SAM(sam_model.parameters(), torch.optim.SGD, rho=0.0, **kw)
    base = torch.optim.SGD(base_model.parameters(), **kw)
    for _ in range(5):
        _two_pass(sam, sam_model, X, t)
        base.zero_grad()
        _loss(base_model, X, t).backward()
        base.step()
    for p, q in zip(sam_model.parameters(), base_model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_rho_changeable_between_steps():
    X, t = _data()
    model = _linear()
    ref = copy.deepcopy(model)
    sam = SAM(model.parameters(), torch.optim.SGD, rho=0.5, lr=0.1)
    sam.param_groups[0]["rho"] = 0.0
    _two_pass(sam, model, X, t)
    base = torch.optim.SGD(ref.parameters(), lr=0.1)
    _loss(ref, X, t).backward()
    base.step()
    assert torch.equal(model.weight, ref.weight)
    sam.set_rho(0.5)
    assert sam.base_optimizer.param_groups[0]["rho"] == 0.5
    _two_pass(sam, model, X, t)
    base.zero_grad()
    _loss(ref, X, t).backward()
    base.step()
    assert not torch.allclose(model.weight, ref.weight)


def test_step_with_closure_equals_manual_two_pass():
    X, t = _data()
    m1 = _linear()
    m2 = copy.deepcopy(m1)
    o1 = SAM(m1.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
    o2 = SAM(m2.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)

    def closure():
        o1.zero_grad()
        loss = _loss(m1, X, t)
        loss.backward()
        return loss

    for _ in range(3):
        expected_loss = _loss(m1, X, t).detach()
        loss = o1.step(closure)
        assert float(loss.detach()) == pytest.approx(float(expected_loss))  # at w
        _two_pass(o2, m2, X, t)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-14, atol=0)


def test_groups_joint_norm_and_params_without_grad():
    X, t = _data()
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    frozen = nn.Parameter(torch.ones(2, dtype=torch.float64))
    groups = [
        {"params": model[0].parameters(), "rho": 0.1},
        {"params": [*model[2].parameters(), frozen], "rho": 0.3},
    ]
    opt = SAM(groups, torch.optim.SGD, lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    _loss(model, X, t).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    opt.first_step()
    rhos = [0.1, 0.1, 0.3, 0.3]
    for p, b, g, r in zip(model.parameters(), before, grads, rhos, strict=True):
        torch.testing.assert_close(p.detach() - b, r * g / (norm + 1e-12))
    assert torch.equal(frozen, torch.ones(2, dtype=torch.float64))  # no grad
    opt.second_step()
    assert torch.equal(frozen, torch.ones(2, dtype=torch.float64))


class _BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def test_batchnorm_stats_updated_once_per_sam_step():
    X, t = _data(n=16)
    X, t = X.float(), t.float()
    torch.manual_seed(0)
    model = _BNNet()
    ref = copy.deepcopy(model)
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.5, lr=0.1)
    _two_pass(opt, model, X, t, bn_safe=True)
    assert int(model.bn.num_batches_tracked) == 1
    # same running stats as one plain training forward on the same batch at w
    ref.train()
    ref(X)
    torch.testing.assert_close(model.bn.running_mean, ref.bn.running_mean)
    torch.testing.assert_close(model.bn.running_var, ref.bn.running_var)
    assert model.bn.track_running_stats is True
    # the second pass used batch statistics (train mode), not running ones:
    # without the helpers the counter would have advanced twice
    naive = copy.deepcopy(ref)
    naive_opt = SAM(naive.parameters(), torch.optim.SGD, rho=0.5, lr=0.1)
    _two_pass(naive_opt, naive, X, t, bn_safe=False)
    assert int(naive.bn.num_batches_tracked) == int(ref.bn.num_batches_tracked) + 2


def test_disable_enable_running_stats_restores_and_is_idempotent():
    net = nn.Sequential(
        nn.Linear(2, 3),
        nn.BatchNorm1d(3),
        nn.BatchNorm1d(3, track_running_stats=False),
    )
    disable_running_stats(net)
    disable_running_stats(net)  # twice: still restorable
    assert net[1].track_running_stats is False
    mean_before = net[1].running_mean.clone()
    net.train()
    net(torch.randn(5, 2))
    assert torch.equal(net[1].running_mean, mean_before)
    assert int(net[1].num_batches_tracked) == 0
    enable_running_stats(net)
    assert net[1].track_running_stats is True
    assert net[2].track_running_stats is False  # was off before: stays off
    enable_running_stats(net)  # no-op
    assert net[1].track_running_stats is True
    net(torch.randn(5, 2))
    assert int(net[1].num_batches_tracked) == 1


def test_state_dict_keeps_momentum_and_pickle_round_trip():
    X, t = _data()
    model = _linear()
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
    _two_pass(opt, model, X, t)
    sd = opt.state_dict()
    assert any("momentum_buffer" in s for s in sd["state"].values())
    assert sd["param_groups"][0]["rho"] == 0.1

    model2 = copy.deepcopy(model)
    opt2 = SAM(model2.parameters(), torch.optim.SGD, rho=0.7, lr=0.1, momentum=0.9)
    opt2.load_state_dict(copy.deepcopy(sd))  # tensors would be shared
    assert opt2.param_groups is opt2.base_optimizer.param_groups
    assert opt2.param_groups[0]["rho"] == 0.1
    _two_pass(opt, model, X, t)
    _two_pass(opt2, model2, X, t)
    torch.testing.assert_close(model.weight, model2.weight, rtol=1e-14, atol=0)

    # pickling model and optimizer together keeps the base optimizer's state
    m3, o3 = pickle.loads(pickle.dumps((model, opt)))
    assert o3.param_groups is o3.base_optimizer.param_groups
    assert o3.param_groups[0]["params"][0] is m3.weight
    _two_pass(opt, model, X, t)
    _two_pass(o3, m3, X, t)
    torch.testing.assert_close(model.weight, m3.weight, rtol=1e-14, atol=0)


def test_lr_scheduler_reaches_base_optimizer_and_factory():
    model = _linear()

    def factory(groups, **kw):
        return torch.optim.Adam(groups, **kw)

    opt = SAM(model.parameters(), factory, lr=0.1)
    assert isinstance(opt.base_optimizer, torch.optim.Adam)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    X, t = _data()
    _two_pass(opt, model, X, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "scheduler before optimizer" warning
        sched.step()
    assert opt.base_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_sam_trains_a_small_model():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(128, 2, generator=g)
    y = ((X[:, 0] * X[:, 1]) > 0).long()  # XOR-like, needs the hidden layer
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.5, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        return loss

    first = float(closure().detach())
    for _ in range(150):
        opt.step(closure)
    with torch.no_grad():
        final = float(loss_fn(model(X), y))
        acc = float((model(X).argmax(1) == y).float().mean())
    assert final < 0.25 * first
    assert acc > 0.9


# -- rho schedules ---------------------------------------------------------------
def test_constant_schedule():
    s = rho_schedule("constant", rho=0.1, max_iter=10)
    assert [s(e) for e in (0, 5, 9, 20)] == [0.1] * 4


def test_linear_schedule():
    s = rho_schedule("linear", rho=0.05, rho_max=0.8, max_iter=11)
    assert s(0) == pytest.approx(0.05)
    assert s(5) == pytest.approx(0.425)
    assert s(10) == pytest.approx(0.8)
    assert s(50) == pytest.approx(0.8)  # past the end: last value
    assert rho_schedule("linear", max_iter=1)(0) == pytest.approx(0.05)
    # defaults: 0.05 to 0.8 as in DESIGN.md
    d = rho_schedule("linear", max_iter=3)
    assert (d(0), d(2)) == (pytest.approx(0.05), pytest.approx(0.8))


def test_step_schedule_reproduces_paper():
    s = rho_schedule("step", rho=0.05, max_iter=200)
    # 0-based epochs; paper (1-based): <=5: .05, 6-160: .1, 161-180: .5, >180: .6
    table = {0: 0.05, 4: 0.05, 5: 0.1, 159: 0.1, 160: 0.5, 179: 0.5, 180: 0.6, 199: 0.6}
    for epoch, expected in table.items():
        assert s(epoch) == pytest.approx(expected), epoch
    # scaled by rho, boundaries as fractions of max_iter
    s2 = rho_schedule("step", rho=0.1, max_iter=40)
    assert [s2(e) for e in (0, 1, 31, 32, 35, 36, 39)] == pytest.approx(
        [0.1, 0.2, 0.2, 1.0, 1.0, 1.2, 1.2]
    )


def test_schedule_pickles_and_compares():
    s = rho_schedule("step", rho=0.05, max_iter=100)
    s2 = pickle.loads(pickle.dumps(s))
    assert isinstance(s2, RhoSchedule) and s2 == s
    assert s2(85) == s(85)
    assert "step" in repr(s)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"kind": "cosine", "max_iter": 10}, ValueError, "kind"),
        ({"kind": "linear", "max_iter": 0}, ValueError, "max_iter"),
        ({"kind": "linear", "max_iter": 2.5}, TypeError, "max_iter"),
        ({"kind": "constant", "rho": -0.1, "max_iter": 5}, ValueError, "rho"),
        ({"kind": "linear", "rho_max": -1.0, "max_iter": 5}, ValueError, "rho_max"),
        ({"kind": "step", "rho": float("nan"), "max_iter": 5}, ValueError, "rho"),
    ],
)
def test_invalid_schedule_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        rho_schedule(**kwargs)


def test_invalid_schedule_epoch():
    s = rho_schedule("linear", max_iter=5)
    with pytest.raises(ValueError, match="epoch"):
        s(-1)
    with pytest.raises(TypeError, match="epoch"):
        s(1.5)


def test_invalid_sam_arguments():
    params = list(_linear().parameters())
    with pytest.raises(ValueError, match="rho"):
        SAM(params, torch.optim.SGD, rho=-0.05, lr=0.1)
    with pytest.raises(ValueError, match="rho"):
        SAM(params, torch.optim.SGD, rho=float("inf"), lr=0.1)
    with pytest.raises(TypeError, match="rho"):
        SAM(params, torch.optim.SGD, rho="0.05", lr=0.1)
    with pytest.raises(ValueError, match="rho"):
        SAM([{"params": params, "rho": -1.0}], torch.optim.SGD, lr=0.1)
    with pytest.raises(TypeError, match="adaptive"):
        SAM(params, torch.optim.SGD, adaptive="yes", lr=0.1)
    with pytest.raises(TypeError, match="base_optimizer"):
        SAM(params, torch.optim.SGD(params, lr=0.1))
    with pytest.raises(TypeError, match="base_optimizer"):
        SAM(params, "sgd", lr=0.1)
    with pytest.raises(TypeError, match="base_optimizer"):
        SAM(params, lambda groups, **kw: None, lr=0.1)
    opt = SAM(params, torch.optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(RuntimeError, match="first_step"):
        opt.second_step()
    with pytest.raises(ValueError, match="rho"):
        opt.set_rho(-1.0)
    opt.param_groups[0]["rho"] = -1.0
    with pytest.raises(ValueError, match="rho"):
        opt.first_step()


def test_undo_first_step_restores_weights_and_rearms():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.5, lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    model(torch.randn(4, 3)).pow(2).sum().backward()
    opt.first_step(zero_grad=True)
    assert not torch.equal(before[0], model.weight)
    opt.undo_first_step()
    for b, p in zip(before, model.parameters(), strict=True):
        assert torch.equal(b, p)
        assert p.grad is None or not p.grad.any()
    model(torch.randn(4, 3)).pow(2).sum().backward()
    opt.first_step()  # would raise "called twice" if not re-armed
    opt.undo_first_step()
    opt.undo_first_step()  # no-op when not perturbed


# ------------------------------------------------- the estimators' kernels
def _fused_on_cpu():
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:
        return False
    return "cpu" in _get_fused_kernels_supported_devices()


def test_optimizer_kernels_fused_where_the_device_has_them():
    from skscor.utils._torch import optimizer_kernels

    asked = {"foreach": True, "weight_decay": 1e-4}
    got = optimizer_kernels(asked, "cpu")
    assert asked == {"foreach": True, "weight_decay": 1e-4}  # not changed in place
    if _fused_on_cpu():
        assert got == {"fused": True, "weight_decay": 1e-4}
    else:
        assert got == asked
    assert optimizer_kernels(asked, None) == got  # no device: the CPU
    # a device without fused kernels keeps the multi-tensor request
    assert optimizer_kernels(asked, "meta") == asked
    # nothing asked (SGD): nothing added
    assert optimizer_kernels({"momentum": 0.9}, "cpu") == {"momentum": 0.9}


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "sam-adam"])
def test_estimators_train_with_the_chosen_kernels(optimizer):
    from skscor import SAMClassifier, SCoRClassifier

    X, y = _blobs()
    params = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}
    if optimizer == "sam-adam":
        est = SAMClassifier(**params)
    else:
        est = SCoRClassifier(optimizer=optimizer, **params)
    assert est.get_params()["n_members"] > 1  # the lockstep's optimizer too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    for net in est.members_:
        opt = net.optimizer_
        group = getattr(opt, "base_optimizer", opt).param_groups[0]
        if optimizer == "sgd":
            assert not group.get("fused") and not group.get("foreach")
        elif _fused_on_cpu():
            assert group["fused"] is True and not group.get("foreach")
        else:
            assert group["foreach"] is True


@pytest.mark.parametrize("estimator", ["SCoRClassifier", "SAMClassifier"])
def test_fused_and_multi_tensor_updates_train_the_same_network(estimator, monkeypatch):
    # The kernels are a speed choice: the same updates up to float rounding.
    import skscor
    from skscor import _training

    if not _fused_on_cpu():
        pytest.skip("this torch has no fused CPU kernels")
    X, y = _blobs()
    cls = getattr(skscor, estimator)
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = cls(**params).fit(X, y)
        monkeypatch.setattr(_training, "optimizer_kernels", lambda kw, dev: dict(kw))
        multi = cls(**params).fit(X, y)
    assert multi.members_[0].optimizer_.param_groups[0].get("foreach") is True
    np.testing.assert_allclose(
        fused.predict_proba(X), multi.predict_proba(X), rtol=0, atol=1e-4
    )


def test_a_warm_start_keeps_the_optimizer_it_has():
    # A network trained before the kernel choice (foreach) continues with its
    # optimizer and its state; a new fit gets the chosen kernels.
    from skscor import SCoRClassifier

    X, y = _blobs()
    est = SCoRClassifier(
        hidden_layer_sizes=(8,), max_iter=2, n_members=1, warm_start=True,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        opt = est.net_.optimizer_
        for group in opt.param_groups:
            group["fused"], group["foreach"] = None, True  # as an older fit left it
        state = {id(p): s["exp_avg"].clone() for p, s in opt.state.items()}
        est.set_params(learning_rate_init=1e-2).fit(X, y)
    assert est.net_.optimizer_ is opt
    assert opt.param_groups[0]["foreach"] is True
    assert opt.param_groups[0]["lr"] == 1e-2
    assert any(
        not torch.equal(s["exp_avg"], state[id(p)]) for p, s in opt.state.items()
    )


def _blobs():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (80, 4)), rng.normal(1.5, 1, (20, 4))]
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    return X.astype(np.float32), y
