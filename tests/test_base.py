"""The scikit-learn contract of the shared base, exercised through SCoRClassifier."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skscor import DivergenceError, SCoRClassifier
from skscor._variants import SINGLE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {
    "hidden_layer_sizes": (16,),
    "max_iter": 30,
    "learning_rate_init": 1e-2,
    "n_members": 1,
    "early_stopping": False,
}


@pytest.fixture(scope="module")
def data(imbalanced_classification):
    return imbalanced_classification


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SCoRClassifier(random_state=0, **FAST).fit(X, y)


class TinyNet(torch.nn.Module):
    """A user module with a linear head, importable from this test module."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(n_features, 8), torch.nn.Tanh())
        self.out = torch.nn.Linear(8, n_classes)

    def forward(self, X):
        return self.out(self.body(X))


def test_fitted_attributes(fitted, data):
    X, y = data
    assert fitted.n_features_in_ == 6
    assert fitted.n_classes_ == 3
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])
    assert 1 <= fitted.n_iter_ <= 30
    assert len(fitted.loss_curve_) == fitted.n_iter_
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.validation_scores_ is None
    assert not hasattr(fitted, "feature_names_in_")
    assert fitted.score(X, y) > 0.8


def test_prediction_outputs(fitted, data):
    X, _ = data
    proba = fitted.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X)), proba, rtol=1e-12)
    logits = fitted.decision_function(X)
    assert logits.shape == (len(X), 3) and logits.dtype == np.float64
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[logits.argmax(1)])
    # softmax of the logits, computed independently
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(proba, e / e.sum(1, keepdims=True), rtol=1e-10)


def test_binary_decision_function_is_1d(data):
    X, y = data
    yb = (y == 0).astype(int)
    clf = SCoRClassifier(random_state=0, **FAST).fit(X, yb)
    d = clf.decision_function(X)
    assert d.shape == (len(X),)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(d > 0).astype(int)])


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog", "emu"]), np.array([-1, 5, 10]), np.array([1.0, 2.0, 3.0])],
)
def test_label_types(data, labels):
    X, y = data
    y_lab = labels[y]
    clf = SCoRClassifier(random_state=0, **FAST).fit(X, y_lab)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_lab.dtype
    assert set(pred) <= set(labels)
    assert np.mean(pred == y_lab) > 0.8


def test_bool_labels(data):
    X, y = data
    yb = y == 2
    clf = SCoRClassifier(random_state=0, class_weight="balanced", **FAST).fit(X, yb)
    np.testing.assert_array_equal(clf.classes_, [False, True])
    assert clf.predict(X).dtype == bool


def test_pandas_input_and_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = SCoRClassifier(random_state=0, **FAST).fit(df, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(clf.predict(df), clf.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"f0": "other"}))


# Two epochs of a 4-unit network: collapsing is expected, the test checks dtypes.
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_input_dtypes_accepted(data, dtype):
    X, y = data
    Xd = (X * 10).astype(dtype)
    clf = SCoRClassifier(random_state=0, max_iter=2, hidden_layer_sizes=(4,))
    clf.fit(Xd, y)
    assert clf.predict_proba(Xd).shape == (len(X), 3)


def test_same_seed_same_predictions_without_touching_global_rng(data):
    X, y = data
    torch.manual_seed(123)
    np.random.seed(123)
    before_torch = torch.random.get_rng_state()
    before_np = np.random.get_state()[1].copy()
    a = SCoRClassifier(random_state=7, dropout=0.2, **FAST).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), before_torch)
    np.testing.assert_array_equal(np.random.get_state()[1], before_np)
    b = SCoRClassifier(random_state=7, dropout=0.2, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = SCoRClassifier(random_state=8, dropout=0.2, **FAST).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_random_state_none_differs(data):
    X, y = data
    a = SCoRClassifier(**FAST).fit(X, y)
    b = SCoRClassifier(**FAST).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))


# The zero-weighted class is meant to be ignored: the collapse warning is expected.
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
def test_zero_sample_weight_on_a_class_changes_the_fit(data):
    X, y = data
    base = SCoRClassifier(random_state=0, **FAST).fit(X, y)
    w = np.where(y == 1, 0.0, 1.0)
    weighted = SCoRClassifier(random_state=0, **FAST).fit(X, y, sample_weight=w)
    # Class 1 carries no loss: its probability collapses everywhere.
    assert (
        weighted.predict_proba(X)[:, 1].mean()
        < 0.5 * base.predict_proba(X)[:, 1].mean()
    )
    assert np.mean(weighted.predict(X) == 1) < np.mean(base.predict(X) == 1)


def test_sample_weight_ones_equals_none(data):
    X, y = data
    a = SCoRClassifier(random_state=0, **FAST).fit(X, y)
    b = SCoRClassifier(random_state=0, **FAST).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_class_weight_balanced_raises_minority_recall(data):
    X, y = data
    plain = SCoRClassifier(random_state=0, **FAST).fit(X, y)
    bal = SCoRClassifier(random_state=0, class_weight="balanced", **FAST).fit(X, y)
    minority = y == 2
    assert np.mean(bal.predict(X[minority]) == 2) >= np.mean(
        plain.predict(X[minority]) == 2
    )
    # 'balanced' equals the explicit dict of the same weights.
    counts = np.bincount(y)
    cw = {c: len(y) / (3 * counts[c]) for c in range(3)}
    as_dict = SCoRClassifier(random_state=0, class_weight=cw, **FAST).fit(X, y)
    np.testing.assert_allclose(
        as_dict.predict_proba(X), bal.predict_proba(X), rtol=1e-5
    )


def test_bad_weights(data):
    X, y = data
    with pytest.raises(ValueError, match="(?i)negative"):
        SCoRClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        SCoRClassifier(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="at least 2 classes with positive weight"):
        SCoRClassifier(**FAST).fit(X, y, sample_weight=(y == 0).astype(float))
    with pytest.raises(ValueError, match="not class labels"):
        SCoRClassifier(class_weight={7: 1.0}, **FAST).fit(X, y)
    clf = SCoRClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.fit(X, y, sample_weight=np.ones(len(y) - 1))
    assert not hasattr(clf, "classes_"), "a failed fit must not look fitted"


def test_clone_and_get_params(fitted):
    c = clone(fitted)
    assert not hasattr(c, "net_")
    assert c.get_params() == fitted.get_params()


def test_pickle_round_trip(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)
    unfitted = pickle.loads(pickle.dumps(SCoRClassifier(alpha=0.3)))
    assert unfitted.alpha == 0.3


def test_not_fitted_error(data):
    X, _ = data
    clf = SCoRClassifier()
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        with pytest.raises(NotFittedError):
            getattr(clf, method)(X)


def test_partial_fit_continues_training(data):
    X, y = data
    clf = SCoRClassifier(random_state=0, hidden_layer_sizes=(16,))
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.n_iter_ == 1
    first = clf.predict_proba(X)
    losses = []
    for _ in range(5):
        clf.partial_fit(X, y)
        losses.append(clf.loss_curve_[-1])
    assert clf.n_iter_ == 6
    assert len(clf.loss_curve_) == 6
    assert losses[-1] < clf.loss_curve_[0]
    assert not np.array_equal(first, clf.predict_proba(X))
    # a subset of labels is fine, a new label is not
    clf.partial_fit(X[y != 2], y[y != 2])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.where(y == 2, 9, y))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)


def test_partial_fit_balanced_follows_accumulated_counts(data):
    X, y = data
    clf = SCoRClassifier(class_weight="balanced", random_state=0, **FAST)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    # One class seen so far: it alone carries weight (the others have no rows).
    np.testing.assert_array_equal(clf.class_counts_, [np.sum(y == 0), 0, 0])
    clf.partial_fit(X, y)
    counts = np.bincount(y, minlength=3) + [np.sum(y == 0), 0, 0]
    np.testing.assert_array_equal(clf.class_counts_, counts)
    expected = counts.sum() / (3 * counts)
    expected = expected * counts.sum() / (expected * counts).sum()
    np.testing.assert_allclose(
        clf.net_.criterion_.class_weight.numpy(), expected, rtol=1e-6
    )


def test_warm_start_continues(data):
    X, y = data
    clf = SCoRClassifier(random_state=0, warm_start=True, tol=0.0, **FAST).fit(X, y)
    n1, loss1 = clf.n_iter_, clf.loss_curve_[-1]
    weights = clf.net_.module_.head.weight.detach().clone()
    clf.fit(X, y)
    assert clf.n_iter_ == n1 + 30
    assert clf.loss_curve_[-1] < loss1
    cold = SCoRClassifier(random_state=0, tol=0.0, **FAST).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 30  # without warm_start a refit starts over
    assert not torch.equal(weights, clf.net_.module_.head.weight)
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, np.where(y == 2, 5, y))


def test_early_stopping(data):
    X, y = data
    clf = SCoRClassifier(
        random_state=0,
        early_stopping=True,
        validation_fraction=0.25,
        n_members=1,
        n_iter_no_change=3,
        hidden_layer_sizes=(16,),
        max_iter=200,
        learning_rate_init=1e-2,
    ).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    # the balanced accuracy of the restored epoch: lowest validation loss
    best = int(np.argmin(clf.net_.history[:, "valid_criterion"]))
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    assert all(0 <= s <= 1 for s in clf.validation_scores_)


def test_no_validation_split_by_default(fitted):
    assert "valid_loss" not in fitted.net_.history[-1]


def test_stops_on_training_loss_plateau(data):
    X, y = data
    clf = SCoRClassifier(random_state=0, tol=10.0, n_iter_no_change=2, max_iter=100)
    clf.fit(X, y)
    # MLPClassifier's rule: stop once more than n_iter_no_change epochs in a row
    # missed the tol improvement; epoch 1 sets the best, epochs 2-4 miss.
    assert clf.n_iter_ == 4


def test_convergence_warning_when_max_iter_reached(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        SCoRClassifier(random_state=0, max_iter=2, tol=0.0).fit(X, y)


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    SCoRClassifier(random_state=0, max_iter=3, tol=0.0, verbose=1, **SINGLE).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    # One line per epoch, the last included, then why training stopped.
    assert len(lines) == 4
    assert all("loss" in ln and ln.strip().endswith("s") for ln in lines[:3])
    assert lines[2].startswith("epoch    3")
    assert "max_iter=3 reached" in lines[3]
    SCoRClassifier(random_state=0, max_iter=3, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    SCoRClassifier(
        random_state=0,
        max_iter=3,
        tol=0.0,
        verbose=1,
        early_stopping=True,
        validation_fraction=0.2,
    ).fit(X, y)
    assert "valid balanced accuracy" in capsys.readouterr().out


def test_user_module(data):
    X, y = data
    clf = SCoRClassifier(
        module=TinyNet, random_state=0, max_iter=20, learning_rate_init=1e-2
    ).fit(X, y)
    assert isinstance(clf.net_.module_, TinyNet)
    assert clf.score(X, y) > 0.7
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_module_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="logits of shape"):
        SCoRClassifier(
            module=lambda n_in, n_out: torch.nn.Linear(n_in, n_out + 1), max_iter=1
        ).fit(X, y)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        SCoRClassifier(module=lambda n_in, n_out: "not a module", max_iter=1).fit(X, y)


def test_single_class_is_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        SCoRClassifier().fit(X, np.zeros(len(X)))


def test_invalid_parameters(data):
    X, y = data
    for params in (
        {"alpha": -1.0},
        {"batch_size": 0},
        {"optimizer": "lbfgs"},
        {"device": "tpu"},
        {"max_iter": 0},
        {"label_smoothing": 1.0},
    ):
        with pytest.raises(ValueError, match=next(iter(params))):
            SCoRClassifier(**params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only message")
def test_cuda_requested_without_cuda(data):
    X, y = data
    with pytest.raises(ValueError, match="CUDA is not available"):
        SCoRClassifier(device="cuda").fit(X, y)


def test_divergence_is_reported_and_leaves_no_fitted_state(data):
    X, y = data
    clf = SCoRClassifier(
        learning_rate_init=1e6,
        optimizer="sgd",
        momentum=0.0,
        random_state=0,
        max_iter=50,
    )
    with pytest.raises(DivergenceError, match="diverged"):
        clf.fit(X * 1e3, y)
    assert not hasattr(clf, "net_") and not hasattr(clf, "classes_")


def test_divergence_in_partial_fit_restores_previous_weights(data):
    X, y = data
    clf = SCoRClassifier(
        random_state=0, optimizer="sgd", momentum=0.0, learning_rate_init=1e-2
    )
    clf.partial_fit(X, y, classes=[0, 1, 2])
    before = clf.predict_proba(X)
    clf.set_params(learning_rate_init=1e6)
    with pytest.raises(DivergenceError):
        for _ in range(20):
            clf.partial_fit(X * 1e3, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    assert clf.n_iter_ >= 1
    assert np.isfinite(before).all()


# Tiny networks, 15 epochs, 130-row folds: some collapse, which is not under test.
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
def test_imblearn_pipeline_grid_search_reproducible():
    imblearn = pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline

    X, y = make_classification(
        n_samples=200, n_features=8, weights=[0.85, 0.15], random_state=1
    )
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("smote", SMOTE(random_state=0)),
            # two members without the embedding choice: the ensemble's path
            # at a third of the defaults' trainings (suite time)
            (
                "clf",
                SCoRClassifier(
                    max_iter=15, n_members=2, numeric_embedding=None, random_state=0
                ),
            ),
        ]
    )
    grid = {"clf__alpha": [0.0, 1e-2], "clf__hidden_layer_sizes": [(8,), (16,)]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GridSearchCV(pipe, grid, cv=cv, scoring="balanced_accuracy").fit(X, y)
        b = GridSearchCV(pipe, grid, cv=cv, scoring="balanced_accuracy").fit(X, y)
    assert imblearn is not None
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    assert a.best_score_ > 0.7
    assert set(a.best_params_) == set(grid)


def test_iris_learns_and_converges_at_the_defaults():
    # raw iris at the defaults: under MLPClassifier's batch rule each member
    # made one full-batch step per epoch and ran out of epochs (a
    # ConvergenceWarning on every fit); 'auto' now takes about 4 steps
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SCoRClassifier(random_state=0, n_members=2).fit(X, y)
    assert clf.stop_reason_ == "converged" and clf.n_iter_ < clf.max_iter
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    "n, size",
    [(10, 10), (64, 64), (120, 64), (256, 64), (500, 125), (799, 199), (800, 200),
     (6400, 200), (10000, 312), (32768, 1024), (10**6, 1024)],
)  # fmt: skip
def test_auto_batch_size_rule(n, size):
    from skscor._encoding import resolve_batch_size

    assert resolve_batch_size("auto", n) == size
    assert resolve_batch_size(32, n) == 32


@pytest.mark.cuda
def test_cuda_fit_and_cpu_unpickle(data, monkeypatch):
    X, y = data
    clf = SCoRClassifier(device="cuda", random_state=0, **FAST).fit(X, y)
    assert next(clf.net_.module_.parameters()).is_cuda
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    blob = pickle.dumps(clf)
    # Simulate a machine without CUDA: skorch maps CUDA tensors to the CPU.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        restored = pickle.loads(blob)
    assert not next(restored.net_.module_.parameters()).is_cuda
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-4, atol=1e-5)
