"""Ensemble members trained in lockstep (``skscor._lockstep``).

The reference is the same estimator with its members trained one after the
other (``_lockstep = False``): with ``dropout=0`` both draw the same initial
weights, rows, shuffles and SCoR halves, so the members must stop at the same
epochs with the same losses, up to float rounding.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skscor import (
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
    _lockstep,
    _training,
)
from skscor.modules import MLP

SMALL = {
    "hidden_layer_sizes": (16,),
    "n_members": 3,
    "max_iter": 12,
    "batch_size": 64,
    "n_iter_no_change": 3,
    "random_state": 0,
    "numeric_embedding": None,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=360, n_features=6, n_informative=4, weights=[0.85], random_state=1
    )
    return X, y


def _fit(cls, X, y, lockstep, **params):
    """Fit with the members in lockstep or one after the other."""
    est = cls(**{**SMALL, **params})
    est._lockstep = lockstep  # an instance attribute: the class is left alone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _assert_same_members(a, b, X, rtol=1e-4):
    assert [len(n.history) for n in a.members_] == [len(n.history) for n in b.members_]
    for na, nb in zip(a.members_, b.members_, strict=True):
        np.testing.assert_allclose(
            na.history[:, "train_loss"], nb.history[:, "train_loss"], rtol=rtol
        )
        np.testing.assert_allclose(
            na.history[:, "valid_loss"], nb.history[:, "valid_loss"], rtol=rtol
        )
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(a.decision_offsets_, b.decision_offsets_, atol=1e-4)


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (SCoRClassifier, {}),
        (FocalClassifier, {}),
        # MR2 reads the penultimate features of every member's batch
        (MR2Classifier, {}),
        # plain cross-entropy with an AdamW step and weight decay
        (SCoRClassifier, {"alpha": 0.0, "optimizer": "adamw", "weight_decay": 1e-2}),
        (SCoRClassifier, {"optimizer": "sgd", "learning_rate_init": 0.05}),
        # SAM: each member's own ascent step (its own gradient norm and rho)
        (SAMClassifier, {}),
        (SAMClassifier, {"adaptive": True, "rho": 0.5}),
        # rho by epoch; DRW switching each member's phase at its own plateau
        (SAMClassifier, {"rho_schedule": "linear", "reweighting": "drw"}),
        # LDAM's margins and the cosine head
        (SAMClassifier, {"loss": "ldam", "optimizer": "sgd"}),
        # unshuffled batches: SCoR's halves drawn from each member's
        # generator, the same halves replayed at w + e
        (SAMClassifier, {"loss": "scor", "shuffle": False}),
        (SAMClassifier, {"loss": "vs"}),
        # what each member's criterion, plan and selection read
        (SCoRClassifier, {"label_smoothing": 0.1}),
        (SCoRClassifier, {"logit_adjustment": "loss"}),
        (FocalClassifier, {"logit_adjustment": "post-hoc"}),
        (SCoRClassifier, {"warmup_epochs": 3}),
        (SCoRClassifier, {"class_weight": None}),
        (SCoRClassifier, {"class_weight": {0: 1.0, 1: 3.0}}),
        (MR2Classifier, {"weight_decay": 3e-2}),
        (SCoRClassifier, {"scoring": "balanced_accuracy"}),
    ],
)
def test_lockstep_trains_the_same_members(data, cls, params):
    X, y = data
    a = _fit(cls, X, y, False, **params)
    b = _fit(cls, X, y, True, **params)
    _assert_same_members(a, b, X)


def test_lockstep_with_sample_weight(data):
    X, y = data
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    fits = []
    for lockstep in (False, True):
        est = SCoRClassifier(**SMALL)
        est._lockstep = lockstep
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(est.fit(X, y, sample_weight=w))
    _assert_same_members(*fits, X)


def test_lockstep_with_every_input_the_mlp_embeds():
    # periodic embeddings with folded 0/1 columns, categorical embeddings
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.lognormal(size=n),
            "flag": rng.integers(0, 2, n),
            "city": pd.Categorical(rng.choice([f"c{i}" for i in range(30)], n)),
        }
    )
    y = (X["a"] + (X["flag"] == 1) + rng.normal(size=n) > 1.2).astype(int)
    kwargs = {"numeric_embedding": "periodic", "max_iter": 8}
    a = _fit(SCoRClassifier, X, y, False, **kwargs)
    b = _fit(SCoRClassifier, X, y, True, **kwargs)
    assert a.members_[0].module_.binary_weight is not None
    assert len(a.members_[0].module_.embeddings) == 1
    _assert_same_members(a, b, X)


def test_lockstep_when_every_column_is_a_flag():
    # periodic embeddings with every column a folded 0/1 flag (one-hot data,
    # as KEEL's car): no column is left for the periodic map of the others
    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame({f"f{j}": rng.integers(0, 2, n) for j in range(4)})
    y = ((X["f0"] + X["f1"] + rng.normal(scale=0.5, size=n)) > 1.2).astype(int)
    kwargs = {"numeric_embedding": "periodic", "max_iter": 6}
    a = _fit(SCoRClassifier, X, y, False, **kwargs)
    b = _fit(SCoRClassifier, X, y, True, **kwargs)
    assert a.members_[0].module_.binary_weight is not None
    assert len(a.members_[0].module_.other_index) == 0
    _assert_same_members(a, b, X)


@pytest.mark.parametrize("schedule", ["adaptive", "cosine"])
def test_members_at_different_learning_rates_step_at_their_own(data, schedule):
    # A plateau cuts one member's rate (adaptive) or starts its final phase
    # (cosine) while the others go on: one fused step, rescaled per member.
    X, y = data
    params = {"learning_rate": schedule, "max_iter": 30, "tol": 0.01}
    params["n_iter_no_change"] = 2
    a = _fit(SCoRClassifier, X, y, False, **params)
    b = _fit(SCoRClassifier, X, y, True, **params)
    rates = [tuple(n.history[:, "lr"]) for n in a.members_]
    n_epochs = min(len(r) for r in rates)
    assert len({r[:n_epochs] for r in rates}) > 1, "the rates never differed"
    _assert_same_members(a, b, X)


def test_each_member_owns_its_weights_and_optimizer_state(data):
    X, y = data
    est = _fit(SCoRClassifier, X, y, True)
    for net in est.members_:
        n_rows = (len(y) * 4) // 5
        steps = len(net.history) * -(-n_rows // 64)
        for p in net.module_.parameters():
            # its own storage: a pickled member holds its weights only
            assert p.untyped_storage().nbytes() == p.numel() * p.element_size()
            state = net.optimizer_.state[p]
            # Adam's state of its slice, at its own last step
            assert abs(float(state["step"]) - steps) <= len(net.history)
            assert state["exp_avg"].shape == p.shape
    seq = _fit(SCoRClassifier, X, y, False)
    assert len(pickle.dumps(est)) < 1.05 * len(pickle.dumps(seq))


def test_a_warm_start_continues_the_lockstep_members(data):
    X, y = data
    a = _fit(SCoRClassifier, X, y, False)
    b = _fit(SCoRClassifier, X, y, True)
    for est in (a, b):
        est.set_params(warm_start=True, max_iter=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-4)


def test_dropout_members_train_in_lockstep(data):
    X, y = data
    est = _fit(SCoRClassifier, X, y, True, dropout=0.3)
    probas = [torch.softmax(n.forward(X.astype(np.float32)), 1) for n in est.members_]
    assert not torch.allclose(probas[0], probas[1])
    assert np.isfinite(est.predict_proba(X)).all()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: SCoRClassifier(**SMALL), 1),
        # members 2-3 together, after the 'auto' choice trained member 1 twice
        (lambda: SCoRClassifier(**{**SMALL, "numeric_embedding": "auto"}), 1),
        (lambda: SAMClassifier(**SMALL), 1),
        (lambda: SCoRClassifier(**{**SMALL, "n_members": 1}), 0),
        (lambda: SCoRClassifier(**{**SMALL, "early_stopping": False}), 0),
        (lambda: SCoRClassifier(**{**SMALL, "early_stopping": "refit"}), 0),
        (lambda: SCoRClassifier(**{**SMALL, "module": _Tiny}), 0),
    ],
)
def test_which_fits_train_in_lockstep(data, monkeypatch, make, expected):
    X, y = data
    calls = []
    original = _lockstep.run_lockstep

    def spy(runs):
        calls.append(len(runs))
        return original(runs)

    monkeypatch.setattr(_training, "run_lockstep", spy)
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(calls) == expected
    if expected:
        auto = est.numeric_embedding == "auto"
        assert calls == [est.n_members - int(auto)]


class _Tiny(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X)


def test_keyboard_interrupt_in_lockstep_keeps_every_member(data, monkeypatch):
    X, y = data
    original = _lockstep._Lockstep._step
    count = {"n": 0}

    def step(self):
        count["n"] += 1
        if count["n"] > 12:  # within the third epoch (5 steps each)
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(_lockstep._Lockstep, "_step", step)
    est = SCoRClassifier(**SMALL)
    with pytest.warns(RuntimeWarning, match=r"interrupted.*after 2 of 12 epochs"):
        est.fit(X, y)
    assert est.stop_reason_ == "interrupted"
    assert [len(n.history) for n in est.members_] == [2, 2, 2]
    assert np.isfinite(est.predict_proba(X)).all()


@pytest.mark.parametrize(
    "config",
    [
        {"hidden_layer_sizes": (8,)},
        {"hidden_layer_sizes": (8, 5), "activation": "tanh"},
        {"hidden_layer_sizes": (), "periodic": True},
        {"hidden_layer_sizes": (8,), "periodic": True},
        {"hidden_layer_sizes": (8,), "periodic": True, "binary_columns": [3, 4, 5]},
        # every dense column 0/1: no column left for the periodic map itself
        {
            "hidden_layer_sizes": (8,),
            "periodic": True,
            "binary_columns": [0, 1, 2, 3, 4, 5],
        },
        {
            "hidden_layer_sizes": (8,),
            "periodic": True,
            "binary_columns": [3, 4, 5],
            "embeddings": [12, (5, 3)],
        },
        {"hidden_layer_sizes": (8,), "embeddings": [12]},
        {"hidden_layer_sizes": (8,), "head": "cosine"},
    ],
)
def test_forward_stacked_is_each_networks_forward(config):
    """Values and gradients of k stacked networks against each one's forward."""
    torch.manual_seed(0)
    k, rows, n_dense = 3, 17, 6
    embeddings = config.get("embeddings", ())
    n_features = n_dense + len(embeddings)
    nets = [MLP(n_features, 3, **config) for _ in range(k)]
    names = [name for name, _ in nets[0].named_parameters()]
    stacked = {
        name: torch.stack([dict(net.named_parameters())[name].detach() for net in nets])
        .clone()
        .requires_grad_()
        for name in names
    }
    X = torch.randn(k, rows, n_features)
    binary = config.get("binary_columns", range(3, n_dense))
    X[..., list(binary)] = (X[..., list(binary)] > 0).float()  # the 0/1 columns
    for j, entry in enumerate(embeddings):
        n_codes = entry if isinstance(entry, int) else entry[0]
        # unseen (0), out of range and negative codes too
        X[..., n_dense + j] = torch.randint(-1, n_codes + 2, (k, rows)).float()
    logits, features = nets[0].forward_stacked(stacked, X)
    expected = torch.stack([net(x) for net, x in zip(nets, X, strict=True)])
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-6)
    assert features.shape == (k, rows, nets[0].head.in_features)
    weight = torch.randn_like(logits)
    (logits * weight).sum().backward()
    (expected * weight).sum().backward()
    for name in names:
        for i, net in enumerate(nets):
            torch.testing.assert_close(
                stacked[name].grad[i],
                dict(net.named_parameters())[name].grad,
                rtol=1e-4,
                atol=1e-6,
                msg=f"gradient of {name}, network {i}",
            )
