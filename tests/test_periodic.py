"""Periodic numerical embeddings of the default MLP (``numeric_embedding``)."""

import io
import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skscor import MR2Classifier, SCoRClassifier
from skscor.modules import MLP


def _reference(net, X):
    """The forward pass written from the definition, column by column."""
    n = net.n_dense
    parts = [X[:, :n]]
    for j, table in enumerate(net.embeddings):
        parts.append(table(X[:, n + j].long()))
    for j in range(n):
        angle = 2 * math.pi * X[:, j : j + 1] * net.frequencies[j][None, :]
        v = torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)
        parts.append(torch.relu(v @ net.periodic_map.weight.T + net.periodic_map.bias))
    return net.head(net.body(torch.cat(parts, dim=1)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_periodic_forward_matches_the_definition(dtype):
    torch.manual_seed(0)
    net = MLP(5, 3, hidden_layer_sizes=(7,), periodic=True, embeddings=[(4, 2)]).to(
        dtype
    )
    X = torch.randn(6, 5, dtype=dtype)
    X[:, 4] = torch.tensor([0, 1, 2, 3, 1, 2], dtype=dtype)  # the codes
    X.requires_grad_(False)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {}
    out, ref = net(X), _reference(net, X)
    torch.testing.assert_close(out, ref, **tol)
    # gradients reach the frequencies and the shared map, as the reference's
    g = torch.autograd.grad(
        out.square().sum(), [net.frequencies, net.periodic_map.weight]
    )
    g_ref = torch.autograd.grad(
        ref.square().sum(), [net.frequencies, net.periodic_map.weight]
    )
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, **tol)
    assert net.frequencies.shape == (4, 8)
    assert net.body[0].in_features == 4 + 2 + 4 * 8


def _folded_pair(dtype, activation="relu", hidden=(7,)):
    """The same network unfolded and with columns 1 and 3 folded (same seed)."""
    kwargs = {"hidden_layer_sizes": hidden, "activation": activation}
    kwargs.update(periodic=True, embeddings=[(4, 2)])
    torch.manual_seed(0)
    full = MLP(6, 3, **kwargs).to(dtype)
    torch.manual_seed(0)
    folded = MLP(6, 3, binary_columns=[3, 1], **kwargs).to(dtype)
    return full, folded


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_binary_columns_fold_the_same_network(dtype):
    full, folded = _folded_pair(dtype)
    assert folded.binary_index.tolist() == [1, 3]
    assert folded.binary_weight.shape == (2, 7, 8)
    # the first layer's product reads the dense, categorical and 3 embedded
    # columns' inputs: 5 + 2 + 3 * 8 (the unfolded one 5 + 2 + 5 * 8)
    assert folded.body[0].in_features == 5 + 2 + 3 * 8
    assert full.body[0].in_features == 5 + 2 + 5 * 8
    # the index buffers are arguments, not weights
    assert "binary_index" not in folded.state_dict()
    torch.manual_seed(1)
    X = torch.randn(9, 6, dtype=dtype)
    X[:, [1, 3]] = torch.randint(0, 2, (9, 2)).to(dtype)
    X[:, 5] = torch.tensor([0, 1, 2, 3, 1, 2, 0, 3, 1], dtype=dtype)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {}
    out, ref = folded(X), _reference(full, X)
    torch.testing.assert_close(out, ref, **tol)
    # Same parameterisation: each folded parameter's gradient is the unfolded
    # network's gradient on the same weights.
    g_fold = dict(
        zip(
            [n for n, _ in folded.named_parameters()],
            torch.autograd.grad(out.square().sum(), list(folded.parameters())),
            strict=True,
        )
    )
    g_full = dict(
        zip(
            [n for n, _ in full.named_parameters()],
            torch.autograd.grad(ref.square().sum(), list(full.parameters())),
            strict=True,
        )
    )
    w = g_full.pop("body.0.weight")
    torch.testing.assert_close(
        g_fold.pop("body.0.weight"), w[:, folded.main_inputs], **tol
    )
    blocks = w[:, folded.binary_inputs].reshape(7, 2, 8).permute(1, 0, 2)
    torch.testing.assert_close(g_fold.pop("binary_weight"), blocks, **tol)
    assert g_fold.keys() == g_full.keys()
    for name, grad in g_full.items():
        torch.testing.assert_close(g_fold[name], grad, **tol, msg=name)


def test_binary_columns_interpolate_between_0_and_1():
    """An input of 0.5 (a two-level category unseen at fit) gets the midpoint."""
    _, folded = _folded_pair(torch.float64, activation="identity")
    X = torch.randn(4, 6, dtype=torch.float64)
    X[:, 5] = 1.0
    at = {}
    for v in (0.0, 0.5, 1.0):
        X[:, 1] = v
        at[v] = folded(X)
    # identity activations: the output is linear in the embedding
    torch.testing.assert_close(at[0.5], (at[0.0] + at[1.0]) / 2)


def test_binary_columns_all_of_them_with_dropout():
    """Every column 0/1 (the embedded block is empty), dropout between layers."""
    torch.manual_seed(0)
    full = MLP(3, 2, hidden_layer_sizes=(5, 4), periodic=True, dropout=0.1).eval()
    torch.manual_seed(0)
    folded = MLP(
        3, 2, hidden_layer_sizes=(5, 4), periodic=True, dropout=0.1,
        binary_columns=[0, 1, 2],
    ).eval()  # fmt: skip
    assert folded.body[0].in_features == 3
    X = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(folded(X), full(X))


def test_binary_columns_are_checked():
    for bad in ([5], [-1], [0, 0]):
        with pytest.raises(ValueError, match=r"binary_columns .*\[0, 5\)"):
            MLP(6, 2, periodic=True, binary_columns=bad, embeddings=[3])
    torch.manual_seed(0)
    # without periodic embeddings, or without a hidden layer to fold them
    # into, the network is the unfolded one
    plain = MLP(4, 2, binary_columns=[1])
    linear = MLP(4, 2, hidden_layer_sizes=(), periodic=True, binary_columns=[1])
    for net in (plain, linear):
        assert net.binary_weight is None and net.binary_index is None
    assert linear.head.in_features == 4 + 4 * 8


def test_periodic_off_is_the_plain_mlp():
    torch.manual_seed(0)
    plain = MLP(4, 2, hidden_layer_sizes=(8,))
    assert plain.periodic_map is None
    assert not hasattr(plain, "frequencies")
    with pytest.raises(ValueError, match="periodic_frequencies"):
        MLP(4, 2, periodic=True, periodic_sigma=0.0)


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=500, n_features=6, weights=[0.8], random_state=0
    )


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("max_iter", [3, 200], ids=["runs-to-max_iter", "stops-early"])
def test_numeric_embedding_takes_effect(data, max_iter):
    X, y = data
    params = {"hidden_layer_sizes": (16,), "n_members": 1, "random_state": 0}
    params["max_iter"] = max_iter
    on = _fit(SCoRClassifier(numeric_embedding="periodic", **params), X, y)
    off = _fit(SCoRClassifier(numeric_embedding=None, **params), X, y)
    assert (on.n_iter_ == 3) == (max_iter == 3)
    module = on.net_.module_
    assert module.periodic_map is not None
    assert module.body[0].in_features == 6 * 9
    assert off.net_.module_.periodic_map is None
    assert not np.allclose(on.predict_proba(X), off.predict_proba(X))


def test_numeric_embedding_folds_the_0_1_columns(data):
    """Flags, one-hot and missing-indicator columns are folded, as typed at fit."""
    pd = pytest.importorskip("pandas")
    X, y = data
    # a copy: a frame built on the array shares its memory, and the NaN below
    # would reach the module's fixture (and the tests after this one)
    frame = pd.DataFrame(X.copy(), columns=[f"f{j}" for j in range(6)])
    frame["flag"] = (X[:, 0] > 0).astype(float)  # a numeric 0/1 column
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(len(y)) % 3]
    frame.loc[::7, "f1"] = np.nan  # adds an indicator column
    params = {"hidden_layer_sizes": (8,), "n_members": 1, "max_iter": 3}
    clf = _fit(SCoRClassifier(numeric_embedding="periodic", **params), frame, y)
    pre = clf.preprocessor_
    names = np.asarray(pre.feature_names_out_)
    assert names[pre.continuous_out_].tolist() == [f"f{j}" for j in range(6)]
    module = clf.net_.module_
    folded = names[module.binary_index.tolist()].tolist()
    assert sorted(folded) == sorted(
        ["flag", "f1_missing", "colour_blue", "colour_green", "colour_red"]
    )
    assert module.frequencies.shape[0] == len(names) == 11
    assert module.binary_weight.shape == (5, 8, 8)
    assert module.body[0].in_features == 11 + 6 * 8
    # the weights round trip rebuilds the folded network
    buf = io.BytesIO()
    clf.save_weights(buf)
    buf.seek(0)
    loaded = SCoRClassifier(numeric_embedding="periodic", **params)
    loaded.load_weights(buf)
    np.testing.assert_allclose(loaded.predict_proba(frame), clf.predict_proba(frame))
    # warm_start and partial_fit go on training the same folded network
    before = module.binary_weight.detach().clone()
    _fit(clf.set_params(warm_start=True), frame, y)
    assert clf.net_.module_ is module
    assert not torch.equal(module.binary_weight.detach(), before)
    clf.partial_fit(frame, y)
    assert clf.net_.module_ is module
    assert sorted(names[module.binary_index.tolist()].tolist()) == sorted(folded)


def test_numeric_embedding_travels_with_the_weights(data):
    X, y = data
    params = {"hidden_layer_sizes": (8,), "n_members": 2, "max_iter": 5}
    clf = _fit(
        MR2Classifier(numeric_embedding="periodic", random_state=0, **params), X, y
    )
    buf = io.BytesIO()
    clf.save_weights(buf)
    buf.seek(0)
    loaded = MR2Classifier(numeric_embedding="periodic", **params).load_weights(buf)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))
    buf.seek(0)
    with pytest.raises(ValueError, match="numeric_embedding='periodic'"):
        MR2Classifier(numeric_embedding=None, **params).load_weights(buf)
    buf.seek(0)
    auto = MR2Classifier(numeric_embedding="auto", **params).load_weights(buf)
    assert auto.numeric_embedding_ == "periodic"
    np.testing.assert_allclose(auto.predict_proba(X), clf.predict_proba(X))


def test_numeric_embedding_is_part_of_the_architecture(data):
    X, y = data
    clf = _fit(SCoRClassifier(hidden_layer_sizes=(8,), max_iter=3, n_members=1), X, y)
    clf.set_params(warm_start=True, numeric_embedding="periodic")
    with pytest.raises(ValueError, match="numeric_embedding changed"):
        clf.fit(X, y)


def test_numeric_embedding_refuses_a_custom_module(data):
    X, y = data
    with pytest.raises(ValueError, match="custom module"):
        SCoRClassifier(module=MLP, numeric_embedding="periodic").fit(X, y)


# ------------------------------------------------------------------ 'auto'
_AUTO = {"hidden_layer_sizes": (16,), "n_members": 2, "random_state": 0}


def _sequential(est):
    """The members one after the other, as the 'auto' fit's member 1 is (alone
    after the choice): the comparisons below are exact, and lockstep training
    equals it up to float rounding only (tests/test_lockstep.py)."""
    est._lockstep = False
    return est


def _member0_criterion(est):
    return min(row["valid_criterion"] for row in est.members_[0].history)


@pytest.mark.parametrize("max_iter", [3, 200], ids=["runs-to-max_iter", "stops-early"])
def test_auto_embedding_is_the_fit_it_chose(data, max_iter):
    """An 'auto' fit equals the fit with its chosen embedding, and the choice is
    the candidate whose first member has the lower held-out criterion."""
    X, y = data
    params = {**_AUTO, "max_iter": max_iter}
    auto = _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
    fits = {
        e: _fit(_sequential(SCoRClassifier(numeric_embedding=e, **params)), X, y)
        for e in (None, "periodic")
    }
    scores = auto.numeric_embedding_scores_
    # the candidates' kept networks, scored by their own selection criterion
    # (SCoR: the class-balanced validation log-loss) on the same rows
    assert scores["none"] == pytest.approx(_member0_criterion(fits[None]), rel=1e-5)
    assert scores["periodic"] == pytest.approx(
        _member0_criterion(fits["periodic"]), rel=1e-5
    )
    assert 0 < scores["se"] < np.inf
    gain = scores["none"] - scores["periodic"]
    expected = "periodic" if gain > scores["se"] else None
    assert auto.numeric_embedding_ == expected
    chosen = fits[expected]
    assert (auto.n_iter_ == 3) == (max_iter == 3)
    for a, b in zip(auto.members_, chosen.members_, strict=True):
        assert (a.module_.periodic_map is None) == (expected is None)
        assert (b.module_.periodic_map is None) == (expected is None)
    np.testing.assert_array_equal(auto.predict_proba(X), chosen.predict_proba(X))
    np.testing.assert_array_equal(auto.decision_offsets_, chosen.decision_offsets_)
    assert auto.best_validation_score_ == chosen.best_validation_score_
    assert auto.loss_curve_ == chosen.loss_curve_


def _paired_reference(y, a, b, weight=None):
    """The paired difference's class-weighted mean and standard error, by
    definition (the selection's class weights; None: balanced)."""
    import pandas as pd

    def row_loss(z):
        z = z.astype(np.float64)
        z = z - z.max(1, keepdims=True)
        return np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]

    frame = pd.DataFrame({"y": y, "a": row_loss(a), "b": row_loss(b)})
    frame["d"] = frame.b - frame.a
    g = frame.groupby("y")
    v = pd.Series(
        1.0 if weight is None else np.asarray(weight)[g.d.mean().index],
        index=g.d.mean().index,
    )
    v = v / v.sum()
    se = math.sqrt((v**2 * g.d.var() / g.d.count()).sum())
    return (v * g.a.mean()).sum(), (v * g.b.mean()).sum(), se


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_paired_gain_matches_the_definition(n_classes, weighted):
    from skscor._training import _paired_gain

    rng = np.random.default_rng(n_classes)
    y = np.repeat(np.arange(n_classes), [50, 7, 3, 20][:n_classes])
    a = rng.normal(size=(len(y), n_classes)).astype(np.float32)
    b = a + rng.normal(scale=0.5, size=a.shape).astype(np.float32)
    weight = rng.uniform(0.1, 3.0, size=n_classes) if weighted else None
    got = _paired_gain(y, a, b, n_classes, weight)
    np.testing.assert_allclose(got, _paired_reference(y, a, b, weight), rtol=1e-10)
    # one row of a class: no variance estimate, so no evidence either way
    y1 = y.copy()
    y1[-1] = n_classes  # a class of its own
    assert _paired_gain(y1, np.c_[a, a[:, :1]], np.c_[b, b[:, :1]], n_classes + 1)[
        2
    ] == float("inf")


def test_auto_embedding_keeps_the_plain_network_without_evidence():
    """Three held-out rows of the rare class cannot show a gain beyond noise."""
    X, y = make_classification(
        n_samples=3000, n_features=8, weights=[0.995], flip_y=0, random_state=3
    )
    assert np.bincount(y)[1] <= 20
    clf = _fit(
        SCoRClassifier(hidden_layer_sizes=(16,), n_members=2, random_state=0), X, y
    )
    scores = clf.numeric_embedding_scores_
    assert scores["se"] > 0.01
    assert clf.numeric_embedding_ is None or (
        scores["none"] - scores["periodic"] > scores["se"]
    )


def test_auto_embedding_chooses_periodic_where_it_pays():
    # A label that alternates along one feature: thresholds an MLP on the raw
    # column finds slowly and periodic features express directly.
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(1500, 3))
    y = (np.sin(2 * np.pi * 1.5 * X[:, 0]) > 0.6).astype(int)
    clf = SCoRClassifier(
        numeric_embedding="auto", hidden_layer_sizes=(32,), n_members=2, random_state=0
    )
    _fit(clf, X, y)
    assert clf.numeric_embedding_ == "periodic"
    scores = clf.numeric_embedding_scores_
    assert scores["periodic"] < scores["none"]


@pytest.mark.filterwarnings("ignore")
def test_auto_embedding_without_held_out_rows_is_none(data):
    X, y = data
    for params in (
        {"early_stopping": False},
        {"early_stopping": "refit", "n_members": 1},
    ):
        clf = _fit(
            SCoRClassifier(
                numeric_embedding="auto",
                hidden_layer_sizes=(8,),
                max_iter=3,
                random_state=0,
                **params,
            ),
            X,
            y,
        )
        assert clf.numeric_embedding_ is None
        assert not hasattr(clf, "numeric_embedding_scores_")
        assert clf.net_.module_.periodic_map is None
    clf = SCoRClassifier(numeric_embedding="auto", hidden_layer_sizes=(8,))
    clf.partial_fit(X, y, classes=[0, 1])
    assert clf.numeric_embedding_ is None
    # a custom module: nothing to choose, no error
    clf = _fit(
        SCoRClassifier(module=MLP, numeric_embedding="auto", max_iter=3, n_members=1),
        X,
        y,
    )
    assert clf.numeric_embedding_ is None


@pytest.mark.parametrize("preprocessing", ["robust", None])
def test_auto_embedding_is_not_tried_above_the_column_limit(
    data, monkeypatch, preprocessing
):
    """Above MAX_PERIODIC_COLUMNS continuous columns 'auto' is the plain fit,
    without training the candidate; 0/1 columns (which fold) do not count."""
    import skscor._training as training

    X, y = data  # 6 continuous columns
    flags = (X[:, :3] > 0).astype(float)
    X = np.c_[X, flags]  # 3 more, 0/1
    params = {**_AUTO, "max_iter": 3, "preprocessing": preprocessing}
    trained = []
    original = training._TrainingMixin._train

    def counting(self, *args, **kwargs):
        trained.append(self.numeric_embedding_)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(training._TrainingMixin, "_train", counting)
    # the conditioned input's continuous columns, or every column without it
    n_counted = 6 if preprocessing == "robust" else 9
    monkeypatch.setattr(training, "MAX_PERIODIC_COLUMNS", n_counted - 1)
    auto = _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
    assert auto.numeric_embedding_ is None
    assert not hasattr(auto, "numeric_embedding_scores_")
    assert "periodic" not in trained
    plain = _fit(SCoRClassifier(numeric_embedding=None, **params), X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), plain.predict_proba(X))
    # at the limit the candidate is trained and scored
    trained.clear()
    monkeypatch.setattr(training, "MAX_PERIODIC_COLUMNS", n_counted)
    auto = _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
    assert "periodic" in trained
    assert set(auto.numeric_embedding_scores_) == {"none", "periodic", "se"}
    assert training.MAX_PERIODIC_COLUMNS == n_counted  # the patch, not a copy
    monkeypatch.undo()
    assert training.MAX_PERIODIC_COLUMNS == 256


def test_auto_embedding_survives_a_warm_start(data):
    X, y = data
    clf = _fit(SCoRClassifier(numeric_embedding="auto", max_iter=3, **_AUTO), X, y)
    chosen = clf.numeric_embedding_
    before = [m.module_ for m in clf.members_]
    clf.set_params(warm_start=True)
    _fit(clf, X, y)
    assert clf.numeric_embedding_ == chosen
    assert [m.module_ for m in clf.members_] == before
    clf.partial_fit(X, y)
    assert clf.numeric_embedding_ == chosen
    # a new fit chooses again (and forgets the earlier scores first)
    clf.set_params(warm_start=False, early_stopping=False)
    _fit(clf, X, y)
    assert clf.numeric_embedding_ is None
    assert not hasattr(clf, "numeric_embedding_scores_")


def test_auto_embedding_survives_a_diverging_candidate(data, monkeypatch):
    """A candidate whose loss becomes NaN loses; both diverging still raises."""
    from skscor.exceptions import DivergenceError

    X, y = data
    forward = MLP.forward
    broken = {"periodic": True, "plain": False}

    def nan_forward(self, x):
        out = forward(self, x)
        kind = "plain" if self.periodic_map is None else "periodic"
        return out * float("nan") if broken[kind] else out

    monkeypatch.setattr(MLP, "forward", nan_forward)
    params = {"max_iter": 5, **_AUTO}
    clf = _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
    assert clf.numeric_embedding_ is None
    assert clf.numeric_embedding_scores_["periodic"] == float("inf")
    plain = _fit(_sequential(SCoRClassifier(numeric_embedding=None, **params)), X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    broken.update(periodic=False, plain=True)
    clf = _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
    assert clf.numeric_embedding_ == "periodic"
    assert clf.numeric_embedding_scores_["none"] == float("inf")
    broken.update(periodic=True)
    with pytest.raises(DivergenceError):
        _fit(SCoRClassifier(numeric_embedding="auto", **params), X, y)
