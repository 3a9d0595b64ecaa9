"""Reliability: bad input, edge cases, divergence, interruption, determinism and
persistence, for every estimator."""

import json
import os
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from skscor import (
    DivergenceError,
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)
from skscor._variants import TINY, VARIANTS
from skscor.utils._testing import blobs

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Tiny networks and edge-case data: collapse warnings are expected, not tested.
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]

# Each estimator class (in the registry's order) for the per-class tests.
CLASSES = {v.estimator.__name__: v.estimator for v in VARIANTS.values()}
# Registry variants: each estimator, and the SAM variants whose losses need
# class counts (LDAM and VS margins). The overrides make each mechanism act
# within TINY's two epochs: a strong SCoR penalty, DRW weights from the first
# epoch.
_OVERRIDES = {
    "scor": {"alpha": 0.1},
    "focal": {},
    "sam": {},
    "sam+ldam+drw": {"drw_start": 0.0},
    "sam+vs": {},
    "mr2": {},
}
SPECS = {
    name: (VARIANTS[name].estimator.__name__, {**VARIANTS[name].params, **extra})
    for name, extra in _OVERRIDES.items()
}
NAMES = list(SPECS)


def make(name, **params):
    cls_name, extra = SPECS[name]
    return CLASSES[cls_name](**{**TINY, **extra, **params})


def fitted_attrs(est):
    return [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]


def assert_unfitted(est, X):
    assert fitted_attrs(est) == []
    with pytest.raises(NotFittedError):
        est.predict(X)


def assert_valid_outputs(est, X):
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), len(est.classes_))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-9)
    pred = est.predict(X)
    assert np.isin(pred, est.classes_).all()
    assert pred.dtype == est.classes_.dtype
    return proba


def module_state(est):
    return {k: v.detach().clone() for k, v in est.net_.module_.state_dict().items()}


def assert_state_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ================================================================ bad input
def _with_nan(X, y):
    X = X.astype(np.float64)
    X[0, 0] = np.nan
    return X, y, {}


def _with_inf(X, y):
    X = X.astype(np.float64)
    X[1, 2] = np.inf
    return X, y, {}


def _beyond_float32(X, y):
    # finite in float64, infinite once cast to the network's float32
    return X.astype(np.float64) * 1e39, y, {}


def _y_nan(X, y):
    y = y.astype(np.float64)
    y[0] = np.nan
    return X, y, {}


def _y_none(X, y):
    y = np.where(y == 0, "no", "yes").astype(object)
    y[[0, 3]] = None
    return X, y, {}


def _object_strings(X, y):
    return np.array([["a", "b", "c"]] * len(X), dtype=object), y, {}


def _frame_with_text(X, y):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({"a": X[:, 0], "b": ["x"] * len(X)}), y, {}


BAD_FIT = [
    ("nan", _with_nan, ValueError, "Input X contains NaN"),
    ("inf", _with_inf, ValueError, "Input X contains infinity"),
    (
        "beyond_float32",
        _beyond_float32,
        ValueError,
        r"too large for dtype\('float32'\)",
    ),
    (
        "empty",
        lambda X, y: (X[:0], y[:0], {}),
        ValueError,
        r"Found array with 0 sample\(s\)",
    ),
    (
        "no_features",
        lambda X, y: (X[:, :0], y, {}),
        ValueError,
        r"Found array with 0 feature\(s\)",
    ),
    ("1d", lambda X, y: (X[:, 0], y, {}), ValueError, "Expected 2D array, got 1D"),
    (
        "3d",
        lambda X, y: (X[:, :, None], y, {}),
        ValueError,
        "Found array with dim 3",
    ),
    ("complex", lambda X, y: (X + 1j, y, {}), ValueError, "Complex data not supported"),
    ("object_strings", _object_strings, ValueError, "could not convert string"),
    # pandas 3 reads text as "str", earlier versions as "object"
    (
        "frame_with_text",
        _frame_with_text,
        ValueError,
        r"not numeric: 'b' \((object|str)",
    ),
    (
        "sparse",
        lambda X, y: (sp.csr_matrix(X), y, {}),
        TypeError,
        "Sparse data was passed for X, but dense data is required",
    ),
    (
        "single_class",
        lambda X, y: (X, np.zeros_like(y), {}),
        ValueError,
        "only one class",
    ),
    ("y_nan", _y_nan, ValueError, "Input y contains NaN"),
    (
        "y_none",
        _y_none,
        ValueError,
        r"missing labels \(None, NA or NaN\) at rows 0, 3:",
    ),
    (
        "y_continuous",
        lambda X, y: (X, np.linspace(0, 1, len(y)), {}),
        ValueError,
        "Unknown label type: continuous",
    ),
    (
        "y_2d",
        lambda X, y: (X, np.c_[y, y], {}),
        ValueError,
        "y should be a 1d array",
    ),
    (
        "length_mismatch",
        lambda X, y: (X, y[:-1], {}),
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        "sample_weight_negative",
        lambda X, y: (X, y, {"sample_weight": -np.ones(len(y))}),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    (
        "sample_weight_zero",
        lambda X, y: (X, y, {"sample_weight": np.zeros(len(y))}),
        ValueError,
        "at least one non-zero",
    ),
    (
        "sample_weight_nan",
        lambda X, y: (X, y, {"sample_weight": np.full(len(y), np.nan)}),
        ValueError,
        "Input sample_weight contains NaN",
    ),
    (
        "sample_weight_length",
        lambda X, y: (X, y, {"sample_weight": np.ones(len(y) - 1)}),
        ValueError,
        r"sample_weight.shape == \(39,\), expected \(40,\)",
    ),
    (
        "sample_weight_one_class",
        lambda X, y: (X, y, {"sample_weight": (y == 0).astype(float)}),
        ValueError,
        "at least 2 classes with positive weight",
    ),
]


# Inputs the default input conditioning (preprocessing='robust') takes as
# they come: NaN is imputed, text columns are categorical, sparse matrices
# are densified, huge values are scaled. With preprocessing=None the network
# gets the input as it is, and they stay refused.
CONDITIONED = {"nan", "beyond_float32", "object_strings", "frame_with_text", "sparse"}


@pytest.mark.parametrize("cls_name", list(CLASSES))
@pytest.mark.parametrize(
    "name, case, exc, match",
    [pytest.param(i, b, e, m, id=i) for i, b, e, m in BAD_FIT],
)
def test_bad_fit_input_is_refused_and_leaves_no_fitted_state(
    cls_name, name, case, exc, match
):
    X, y = blobs()
    X_bad, y_bad, kwargs = case(X, y)
    raw = {"preprocessing": None} if name in CONDITIONED else {}
    est = CLASSES[cls_name](**TINY, **raw)
    with pytest.raises(exc, match=match):
        est.fit(X_bad, y_bad, **kwargs)
    # not even n_features_in_: the estimator must not look fitted
    assert_unfitted(est, X)


@pytest.mark.parametrize("kind", ["string", "object_na", "categorical"])
def test_missing_labels_in_a_pandas_y_are_named(kind):
    pd = pytest.importorskip("pandas")
    X, y = blobs()
    labels = ["no" if v == 0 else "yes" for v in y]
    labels[5] = None
    y_bad = {
        "string": lambda: pd.array(labels, dtype="string"),
        "object_na": lambda: pd.Series(
            [pd.NA if v is None else v for v in labels], dtype=object
        ),
        "categorical": lambda: pd.Categorical(labels),
    }[kind]()
    est = SCoRClassifier(**TINY)
    with pytest.raises(ValueError, match=r"missing labels .* at row 5: drop"):
        est.fit(X, y_bad)
    assert_unfitted(est, X)


def test_failed_refit_does_not_mix_two_fits():
    X, y = blobs()
    est = SCoRClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(np.c_[X, X], np.zeros_like(y))
    # a failed (non-warm) refit leaves an unfitted estimator, not the old
    # network with the new data's n_features_in_
    assert_unfitted(est, X)


@pytest.fixture(scope="module")
def fitted_by_name():
    X, y = blobs(n_classes=3, n=42)
    return {name: make(name).fit(X, y) for name in NAMES}


@pytest.fixture(scope="module")
def fitted_raw_by_name():
    X, y = blobs(n_classes=3, n=42)
    return {name: make(name, preprocessing=None).fit(X, y) for name in NAMES}


@pytest.mark.parametrize("cls_name", list(CLASSES))
@pytest.mark.parametrize(
    "case",
    [pytest.param(b, id=i) for i, b, _, _ in BAD_FIT if i in CONDITIONED],
)
def test_conditioned_input_is_taken_as_it_comes(cls_name, case):
    X, y = blobs()
    X_in, y_in, kwargs = case(X, y)
    est = CLASSES[cls_name](**TINY).fit(X_in, y_in, **kwargs)
    proba = est.predict_proba(X_in)
    assert proba.shape == (len(y_in), 2) and np.isfinite(proba).all()


@pytest.mark.parametrize("cls_name", list(CLASSES))
@pytest.mark.parametrize("to_input", [np.asarray, sp.csr_matrix], ids=["dense", "csr"])
def test_infinity_in_an_array_names_the_column(cls_name, to_input):
    # A frame's column is named by the preprocessing (test_preprocessing);
    # an array's column by its index, at fit and at every prediction.
    X, y = blobs()
    X_inf, _, _ = _with_inf(X, y)
    est = CLASSES[cls_name](**TINY)
    with pytest.raises(ValueError, match="infinity in column 2; replace it"):
        est.fit(to_input(X_inf), y)
    assert_unfitted(est, X)
    est.fit(X, y)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError, match="infinity in column 2; replace it"):
            getattr(est, method)(to_input(X_inf))


def _predict_with_nan(X):
    X = X.copy()
    X[0, 0] = np.nan
    return X


BAD_PREDICT = [
    (
        "n_features",
        lambda X: X[:, :2],
        ValueError,
        "X has 2 features, but .* is expecting 3",
    ),
    ("nan", _predict_with_nan, ValueError, "Input X contains NaN"),
    (
        "beyond_float32",
        lambda X: X.astype(np.float64) * 1e39,
        ValueError,
        r"too large for dtype\('float32'\)",
    ),
    ("sparse", sp.csr_matrix, TypeError, "Sparse data was passed for X"),
    ("empty", lambda X: X[:0], ValueError, r"0 sample\(s\)"),
    ("1d", lambda X: X[0], ValueError, "Expected 2D array"),
    ("complex", lambda X: X + 1j, ValueError, "Complex data not supported"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "case, transform, exc, match",
    [pytest.param(i, t, e, m, id=i) for i, t, e, m in BAD_PREDICT],
)
def test_bad_predict_input(
    fitted_by_name, fitted_raw_by_name, name, case, transform, exc, match
):
    fitted = fitted_raw_by_name if case in CONDITIONED else fitted_by_name
    est = fitted[name]
    X, _ = blobs(n_classes=3, n=42)
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        with pytest.raises(exc, match=match):
            getattr(est, method)(transform(X))


def test_feature_names_must_match_at_predict():
    pd = pytest.importorskip("pandas")
    X, y = blobs()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = FocalClassifier(**TINY).fit(df, y)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(df.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(df[["b", "a", "c"]])


def test_overflowing_logits_raise_instead_of_nan_probabilities(fitted_raw_by_name):
    # raw input: the default conditioning clips inputs far outside the range
    X, _ = blobs(n_classes=3, n=42)
    est = pickle.loads(pickle.dumps(fitted_raw_by_name["scor"]))
    with torch.no_grad():
        est.net_.module_.head.weight.mul_(1e38)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError, match="not finite"):
            getattr(est, method)(X * 100)


def test_partial_fit_classes():
    X, y = blobs(n_classes=3, n=42)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes_"):
        SCoRClassifier(**TINY).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="classes must hold at least 2 labels"):
        SCoRClassifier(**TINY).partial_fit(X[y == 0], y[y == 0], classes=[0])
    est = SCoRClassifier(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    assert_unfitted(est, X)


@pytest.mark.parametrize("name", NAMES)
def test_partial_fit_accepts_single_class_chunks(name):
    # classes are declared up front, so a chunk of one class is a valid
    # stream (as for scikit-learn's incremental estimators)
    X, y = blobs(n_classes=3, n=42)
    est = make(name)
    est.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    est.partial_fit(X[y == 2], y[y == 2])
    assert est.n_iter_ == 2
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert_valid_outputs(est, X)


# ------------------------------------------------------- invalid parameters
BAD_PARAMS = {
    "hidden_layer_sizes": ["abc", (0,), (-3,), (2.5,), (4, True)],
    "activation": ["softmax"],
    "dropout": [1.0, -0.1],
    "optimizer": ["lbfgs"],
    "learning_rate_init": [0.0, -1.0, float("nan")],
    "learning_rate": ["linear", "invscaling"],
    "warmup_epochs": [-1, 1.5],
    "logit_adjustment": ["prior", "posthoc"],
    "tau": [-1.0, float("nan")],
    "output_prior": ["uniform", "frequencies"],
    "decision_offsets": ["tuned", True],
    "output_temperature": [0.0, -1.0, float("nan"), "fitted", None],
    "n_members": [0, 2.5, "5"],
    "scoring": ["no_such_scorer", 3],
    "n_threads": [0, "many"],
    "weight_decay": [-1.0],
    "momentum": [1.5],
    "batch_size": [0, 1.5, "big"],
    "max_iter": [0],
    "shuffle": ["yes"],
    "tol": [-1.0],
    "n_iter_no_change": [0],
    "early_stopping": ["yes"],
    "validation_fraction": [0.0, 1.0],
    "class_weight": [
        "auto",
        {0: -1.0, 1: 1.0},
        {0: float("nan"), 1: 1.0},
        {0: float("inf"), 1: 1.0},
        {0: "heavy", 1: 1.0},
        {7: 1.0},
    ],
    "module": [5],
    "device": ["tpu", "gpu"],
    "random_state": ["seed"],
    "verbose": [-1],
    "warm_start": ["no"],
    "preprocessing": ["standard", 1],
    "categorical_features": ["all", 3.5],
    "numeric_embedding": ["fourier", True],
    # SCoR, and FocalClassifier's alpha (same name, other meaning)
    "alpha": [-1.0, float("inf"), 1.5, "x", [1.0, 2.0, 3.0], [-1.0, 1.0]],
    "label_smoothing": [1.0, -0.1],
    "rep_batch_size": [1, 0, 2.5, "256", True],
    "gamma": [-1.0],
    "rho": [-0.1],
    "rho_schedule": ["cosine"],
    "rho_max": [-1.0],
    "adaptive": ["yes"],
    "loss": ["hinge"],
    "loss_params": [["gamma"], {"gamma": 1.0}],
    "reweighting": ["cb"],
    "drw_start": [1.5],
    "drw_beta": [1.0, 0.0],
    "lambda_rep": [-1.0],
    "ema_decay": [1.0, -0.1],
    "margin_scale": [0.0],
}
# FocalClassifier's alpha lies in (0, 1); SCoRClassifier's is any value >= 0.
_VALID_ELSEWHERE = [("SCoRClassifier", "alpha", 1.5)]


def _bad_param_cases():
    for cls_name, cls in CLASSES.items():
        for param in cls._parameter_constraints:
            for value in BAD_PARAMS[param]:
                if (cls_name, param, value) in _VALID_ELSEWHERE:
                    continue
                yield pytest.param(
                    cls_name, param, value, id=f"{cls_name}-{param}-{value!r}"
                )


def test_every_parameter_has_bad_values():
    for cls in CLASSES.values():
        assert set(cls._parameter_constraints) == set(cls().get_params())
        assert set(cls._parameter_constraints) <= set(BAD_PARAMS)


@pytest.mark.parametrize("cls_name, param, value", list(_bad_param_cases()))
def test_invalid_parameter_value_names_the_parameter(cls_name, param, value):
    X, y = blobs()
    est = CLASSES[cls_name](**{**TINY, param: value})
    # InvalidParameterError subclasses both ValueError and TypeError
    with pytest.raises(ValueError, match=param):
        est.fit(X, y)
    assert_unfitted(est, X)


@pytest.mark.parametrize(
    "est, match",
    [
        pytest.param(
            FocalClassifier(alpha=0.3, class_weight="balanced", **TINY),
            "alpha and class_weight",
            id="focal_alpha_and_class_weight",
        ),
        pytest.param(
            FocalClassifier(alpha=0.3, class_weight=None, **TINY),
            "float alpha weighs the positive class of a binary problem",
            id="focal_float_alpha_multiclass",
        ),
        pytest.param(
            # DRW defers class_weight to the final phase: it needs weights.
            SAMClassifier(reweighting="drw", class_weight=None, **TINY),
            "reweighting='drw' defers class_weight.*nothing to defer",
            id="sam_drw_without_class_weight",
        ),
        pytest.param(
            SAMClassifier(loss="ldam", logit_adjustment="loss", **TINY),
            "logit_adjustment='loss' does not combine with loss='ldam'",
            id="sam_ldam_logit_adjustment",
        ),
        pytest.param(
            SAMClassifier(loss="ldam", loss_params={"gamma": 1.0}, **TINY),
            r"loss_params has keys \['gamma'\] that loss='ldam' does not take",
            id="sam_ldam_params",
        ),
        pytest.param(
            SAMClassifier(loss="vs", loss_params={"scale": 1.0}, **TINY),
            r"keys \['scale'\] that loss='vs'",
            id="sam_vs_params",
        ),
        pytest.param(
            SAMClassifier(loss="focal", loss_params={"tau": 1.0}, **TINY),
            r"keys \['tau'\] that loss='focal'",
            id="sam_focal_params",
        ),
        pytest.param(
            SAMClassifier(loss="scor", loss_params={"gamma": 1.0}, **TINY),
            r"keys \['gamma'\] that loss='scor'",
            id="sam_scor_params",
        ),
        pytest.param(
            SAMClassifier(loss="focal", loss_params={"gamma": -1.0}, **TINY),
            "gamma must be >= 0",
            id="sam_focal_negative_gamma",
        ),
        pytest.param(
            SAMClassifier(loss="ldam", loss_params={"scale": 0.0}, **TINY),
            "scale must be > 0",
            id="sam_ldam_zero_scale",
        ),
    ],
)
def test_invalid_parameter_combinations(est, match):
    X, y = blobs(n=42, n_classes=3)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert_unfitted(est, X)


def test_loss_params_of_wrong_type():
    X, y = blobs()
    est = SAMClassifier(loss="vs", loss_params={"tau": "x"}, **TINY)
    with pytest.raises(TypeError, match="tau must be a real number"):
        est.fit(X, y)
    assert_unfitted(est, X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only message")
@pytest.mark.parametrize("cls_name", list(CLASSES))
def test_cuda_without_cuda(cls_name):
    X, y = blobs()
    est = CLASSES[cls_name](device="cuda", **TINY)
    with pytest.raises(ValueError, match="device='cuda'.*CUDA is not available"):
        est.fit(X, y)
    assert_unfitted(est, X)


# =============================================================== edge cases
def _edge_data(case):
    X, y = blobs(n=41, n_classes=2)
    y = y.copy()
    y[-1] = 2  # a class with a single sample
    params = {}
    if case == "batch_larger_than_data":
        params["batch_size"] = 1000
    elif case == "batch_of_one":
        params["batch_size"] = 1
    elif case == "last_batch_one_row":
        params["batch_size"] = 8  # 41 = 5 * 8 + 1
    elif case == "many_classes":
        X, y = blobs(n=240, n_features=5, n_classes=120)
    elif case == "constant_features":
        X = np.c_[X, np.ones(len(X)), np.zeros(len(X))].astype(np.float32)
    elif case == "float16":
        X = X.astype(np.float16)
    elif case == "float64":
        X = X.astype(np.float64)
    elif case == "bool_labels":
        X, y = blobs(n=40)
        y = y == 1
    elif case == "string_labels":
        y = np.array(["cat", "dog", "emu"])[y]
    return X, y, params


EDGE_CASES = [
    "batch_larger_than_data",
    "batch_of_one",
    "last_batch_one_row",
    "single_sample_class",
    "many_classes",
    "constant_features",
    "float16",
    "float64",
    "bool_labels",
    "string_labels",
]


@pytest.mark.parametrize("case", EDGE_CASES)
@pytest.mark.parametrize("name", NAMES)
def test_edge_cases_train_and_predict(name, case):
    X, y, params = _edge_data(case)
    est = make(name, **params).fit(X, y)
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert np.isfinite(est.loss_curve_).all()
    assert_valid_outputs(est, X)


def test_mr2_statistics_with_single_row_batches():
    # a single row carries no spread: with batch_size=1 the variance averages
    # are never updated, while the mean averages are
    X, y = blobs(n=20)
    est = make("mr2", batch_size=1).fit(X, y)
    crit = est.net_.criterion_
    assert (crit.n_updates_v == 0).all() and (crit.ema_v == 0).all()
    assert (crit.n_updates_m == 20).all()
    assert torch.isfinite(crit.ema_m).all() and (crit.ema_m > 0).all()


@pytest.mark.parametrize("scale", [1e6, 1e-6])
@pytest.mark.parametrize("name", NAMES)
def test_extreme_feature_scales_train_or_diverge_loudly(name, scale):
    X, y = blobs(n=42, n_classes=3)
    est = make(name, max_iter=3)
    try:
        est.fit(X * scale, y)
    except DivergenceError:
        assert_unfitted(est, X)
    else:
        assert_valid_outputs(est, X * scale)


# ================================================================ divergence
def diverging_lr(name):
    # LDAM's cosine head bounds the logits: only overflowing weights diverge.
    return 1e38 if SPECS[name][1].get("loss") == "ldam" else 1e30


@pytest.mark.parametrize("name", NAMES)
def test_divergence_in_fit_leaves_estimator_unfitted(name):
    X, y = blobs()
    # many steps: the per-batch loss check fires (for SAM, on either pass)
    est = make(name, learning_rate_init=diverging_lr(name), optimizer="sgd")
    est.set_params(momentum=0.0, max_iter=20, batch_size=8)
    # the advice points to the estimator's own conditioning, not a scaler
    with pytest.raises(
        DivergenceError, match="training loss .*became nan.*preprocessing='robust'"
    ):
        est.fit(X, y)
    assert_unfitted(est, X)


@pytest.mark.parametrize("name", NAMES)
def test_divergence_in_the_very_last_step_is_caught(name):
    # one full batch, one epoch: nothing evaluates the loss after the only
    # step, whose huge update makes the logits overflow
    X, y = blobs()
    est = make(
        name,
        learning_rate_init=diverging_lr(name),
        optimizer="sgd",
        momentum=0.0,
        max_iter=1,
        batch_size=len(X),
    )
    # raised by the check after training, not by a per-batch loss check
    with pytest.raises(DivergenceError, match="Training diverged: the"):
        est.fit(X * 10, y)
    assert_unfitted(est, X)


@pytest.mark.parametrize("name", NAMES)
def test_divergence_in_partial_fit_keeps_previous_weights(name):
    X, y = blobs()
    est = make(name, optimizer="sgd", momentum=0.0).partial_fit(X, y, classes=[0, 1])
    est.partial_fit(X, y)
    state, proba = module_state(est), est.predict_proba(X)
    crit = {k: v.clone() for k, v in est.net_.criterion_.state_dict().items()}
    n_iter, curve = est.n_iter_, list(est.loss_curve_)
    est.set_params(learning_rate_init=diverging_lr(name))
    with pytest.raises(DivergenceError):
        est.partial_fit(X * 1e3, y)
    assert_state_equal(module_state(est), state)
    assert_state_equal(est.net_.criterion_.state_dict(), crit)
    assert est.n_iter_ == n_iter and est.loss_curve_ == curve
    assert len(est.net_.history) == n_iter
    np.testing.assert_array_equal(est.predict_proba(X), proba)
    # and it trains on from there
    est.set_params(learning_rate_init=1e-2)
    est.partial_fit(X, y)
    assert est.n_iter_ == n_iter + 1


@pytest.mark.parametrize("name", NAMES)
def test_divergence_in_warm_start_keeps_previous_weights(name):
    X, y = blobs()
    est = make(name, warm_start=True, optimizer="sgd", momentum=0.0).fit(X, y)
    state, proba, n_iter = module_state(est), est.predict_proba(X), est.n_iter_
    est.set_params(learning_rate_init=diverging_lr(name))
    with pytest.raises(DivergenceError):
        est.fit(X * 1e3, y)
    assert_state_equal(module_state(est), state)
    assert est.n_iter_ == n_iter
    np.testing.assert_array_equal(est.predict_proba(X), proba)


def test_sam_checks_the_loss_at_the_perturbed_weights():
    # The first pass is finite; w + e with a huge rho is not. SAM's custom
    # train_step must report it rather than step with NaN gradients.
    X, y = blobs()
    est = make("sam", rho=1e30, max_iter=1, batch_size=len(X))
    with pytest.raises(DivergenceError, match="SAM-perturbed"):
        est.fit(X, y)
    assert_unfitted(est, X)
    # and on later calls: the previous weights stay, the optimizer stays usable
    est = make("sam").partial_fit(X, y, classes=[0, 1])
    state = module_state(est)
    for group in est.net_.optimizer_.param_groups:
        group["rho"] = 1e30
    est.set_params(rho=1e30)  # the per-epoch rho callback reads the parameter
    with pytest.raises(DivergenceError, match="SAM-perturbed"):
        est.partial_fit(X, y)
    assert_state_equal(module_state(est), state)
    assert not est.net_.optimizer_._perturbed


# ============================================================== interruption
def _interrupt_train_step(monkeypatch, net_class, after):
    """Raise KeyboardInterrupt at batch ``after``; record the last good weights."""
    original = net_class._step
    seen = {"steps": 0, "state": None}

    def train_step(self, *args, **kwargs):
        if seen["steps"] >= after:
            raise KeyboardInterrupt
        out = original(self, *args, **kwargs)
        seen["steps"] += 1
        seen["state"] = {
            k: v.detach().clone() for k, v in self.module_.state_dict().items()
        }
        return out

    monkeypatch.setattr(net_class, "_step", train_step)
    return seen


@pytest.mark.parametrize("name", NAMES)
def test_keyboard_interrupt_keeps_last_good_weights(name, monkeypatch):
    X, y = blobs(n=100)
    est = make(name, max_iter=5, batch_size=10, tol=0.0, n_iter_no_change=50)
    seen = _interrupt_train_step(monkeypatch, est._net_class, after=25)
    with pytest.warns(RuntimeWarning, match=r"interrupted.*after 2 of 5 epochs"):
        est.fit(X, y)
    check_is_fitted(est)
    assert seen["steps"] == 25
    # n_iter_ and loss_curve_ count completed epochs only
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert est.best_loss_ == min(est.loss_curve_)
    assert_state_equal(module_state(est), seen["state"])
    assert_valid_outputs(est, X)
    monkeypatch.undo()
    est.partial_fit(X, y)
    assert est.n_iter_ == 3


@pytest.mark.parametrize("name", ["scor", "sam", "mr2"])
def test_keyboard_interrupt_in_the_first_epoch(name, monkeypatch):
    X, y = blobs(n=100)
    est = make(name, max_iter=5, batch_size=10)
    seen = _interrupt_train_step(monkeypatch, est._net_class, after=3)
    with pytest.warns(RuntimeWarning, match=r"interrupted.*after 0 of 5 epochs"):
        est.fit(X, y)
    assert est.n_iter_ == 0 and est.loss_curve_ == [] and est.best_loss_ is None
    assert_state_equal(module_state(est), seen["state"])
    assert_valid_outputs(est, X)


def test_keyboard_interrupt_in_partial_fit_warns(monkeypatch):
    X, y = blobs(n=100)
    est = make("scor", batch_size=10).partial_fit(X, y, classes=[0, 1])
    seen = _interrupt_train_step(monkeypatch, est._net_class, after=4)
    with pytest.warns(RuntimeWarning, match=r"interrupted.*after 0 of 1 epochs"):
        est.partial_fit(X, y)
    assert est.n_iter_ == 1
    assert_state_equal(module_state(est), seen["state"])


def test_keyboard_interrupt_between_sam_passes(monkeypatch):
    # Ctrl-C during the second (perturbed) forward pass must leave the
    # weights at w, not w + e, and the SAM optimizer able to step again.
    X, y = blobs(n=100)
    est = make("sam", batch_size=10, rho=0.5).partial_fit(X, y, classes=[0, 1])
    before = module_state(est)
    module = est.net_.module_
    original = module.forward
    calls = {"n": 0}

    def forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second pass of the first step
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "forward", forward)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        est.partial_fit(X, y)
    monkeypatch.undo()
    assert_state_equal(module_state(est), before)
    assert not est.net_.optimizer_._perturbed
    est.partial_fit(X, y)
    assert est.n_iter_ == 2
    assert_valid_outputs(est, X)


# =============================================================== determinism
# The guarantee is for the CPU (CUDA kernels may be nondeterministic).
CPU = {"device": "cpu"}


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_predictions_none_differs(name):
    X, y = blobs(n=42, n_classes=3)
    a = make(name, random_state=3, **CPU).fit(X, y).predict_proba(X)
    b = make(name, random_state=3, **CPU).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = make(name, random_state=None, **CPU).fit(X, y).predict_proba(X)
    d = make(name, random_state=None, **CPU).fit(X, y).predict_proba(X)
    assert not np.array_equal(c, d)


_CHILD = """
import json, sys, warnings
import numpy as np, torch
torch.set_num_threads(1)
warnings.simplefilter("ignore")
import skscor
specs, out = json.loads(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
y = np.arange(42) % 3
X = (rng.normal(scale=3.0, size=(3, 3))[y] + rng.normal(size=(42, 3)))
X = X.astype(np.float32)
probas = {}
for name, (cls, params) in specs.items():
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    est = getattr(skscor, cls)(**params).fit(X, y)
    probas[name] = est.predict_proba(X)
np.savez(out, X=X, **probas)
"""


def test_same_seed_same_predictions_across_processes(tmp_path):
    specs = {
        name: (SPECS[name][0], {**TINY, **SPECS[name][1], **CPU}) for name in NAMES
    }
    out = tmp_path / "probas.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(specs), str(out)],
        check=True,
        env=env,
        timeout=120,
    )
    child = np.load(out)
    X, y = blobs(n=42, n_classes=3)
    np.testing.assert_array_equal(child["X"], X)
    for name in NAMES:
        np.testing.assert_array_equal(
            make(name, **CPU).fit(X, y).predict_proba(X), child[name], err_msg=name
        )


@pytest.mark.parametrize("name", NAMES)
def test_grid_search_same_results_with_one_or_two_jobs(name):
    X, y = blobs(n=60, n_classes=3)
    grid = {"hidden_layer_sizes": [(4,), (6,)]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    results = []
    for n_jobs in (1, 2):
        search = GridSearchCV(
            make(name, **CPU), grid, cv=cv, scoring="neg_log_loss", n_jobs=n_jobs
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results.append(search.fit(X, y).cv_results_)
    one, two = results
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(one[key], two[key])
    assert len(set(one["mean_test_score"])) == 2  # the grid points do differ


# =============================================================== persistence
def _assert_same_fit(a, b, X):
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.classes_, b.classes_)
    assert a.n_iter_ == b.n_iter_ and a.loss_curve_ == b.loss_curve_
    assert a.get_params().keys() == b.get_params().keys()
    assert_state_equal(
        dict(a.net_.criterion_.state_dict()), dict(b.net_.criterion_.state_dict())
    )
    for la, lb in zip(
        a.spectral_report_.layers, b.spectral_report_.layers, strict=True
    ):
        assert la.name == lb.name
        np.testing.assert_array_equal(la.singular_values, lb.singular_values)
    da, db = a.disparity_report_, b.disparity_report_
    np.testing.assert_array_equal(da.recall, db.recall)
    np.testing.assert_array_equal(da.support, db.support)
    assert da.worst_class_recall == db.worst_class_recall


def _joblib_round_trip(est, path):
    joblib.dump(est, path)
    return joblib.load(path)


@pytest.mark.parametrize("name", NAMES)
def test_pickle_and_joblib_round_trips(name, tmp_path):
    X, y = blobs(n=42, n_classes=3)
    unfitted = make(name)
    for restored in (
        pickle.loads(pickle.dumps(unfitted)),
        _joblib_round_trip(unfitted, tmp_path / "unfitted.joblib"),
    ):
        assert restored.get_params() == unfitted.get_params()
        assert_unfitted(restored, X)

    est = make(name).fit(X, y)
    copies = [
        pickle.loads(pickle.dumps(est)),
        _joblib_round_trip(est, tmp_path / "fitted.joblib"),
    ]
    for restored in copies:
        _assert_same_fit(est, restored, X)
    if name == "mr2":
        crit = copies[0].net_.criterion_
        assert (crit.n_updates_m > 0).all() and (crit.ema_m > 0).all()
        assert torch.equal(crit.ema_v, est.net_.criterion_.ema_v)
    # Training on continues identically: optimizer moments, SAM's base
    # optimizer, DRW weights and MR²'s moving averages all came along.
    est.partial_fit(X, y)
    for restored in copies:
        restored.partial_fit(X, y)
        _assert_same_fit(est, restored, X)


@pytest.mark.parametrize("name", NAMES)
def test_weights_only_round_trip(name, tmp_path):
    X, y = blobs(n=42, n_classes=3)
    est = make(name).fit(X, y)
    path = tmp_path / "w.pt"
    est.save_weights(path)
    new = make(name).load_weights(path)
    np.testing.assert_array_equal(new.predict_proba(X), est.predict_proba(X))
    assert_state_equal(
        dict(new.net_.criterion_.state_dict()), dict(est.net_.criterion_.state_dict())
    )


class _Marker:
    """Unpickling this object creates a file: stands for arbitrary code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_load_weights_refuses_code_execution(tmp_path):
    X, y = blobs()
    est = SCoRClassifier(**TINY).fit(X, y)
    good = tmp_path / "good.pt"
    est.save_weights(good)
    payload = torch.load(good, weights_only=True)
    marker = tmp_path / "pwned"
    payload["module"] = _Marker(marker)
    evil = tmp_path / "evil.pt"
    torch.save(payload, evil)

    fresh = SCoRClassifier(**TINY)
    with pytest.raises(ValueError, match="weights_only=True"):
        fresh.load_weights(evil)
    assert not marker.exists()
    assert_unfitted(fresh, X)
    # the file is a real exploit: a plain unpickling does create the marker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.load(evil, weights_only=False)
    assert marker.exists()


def test_load_weights_refuses_other_files_and_keeps_a_previous_fit(tmp_path):
    X, y = blobs()
    path = tmp_path / "w.pt"
    SCoRClassifier(**TINY).fit(X, y).save_weights(path)

    target = SCoRClassifier(**TINY).fit(X[:, :2], y)
    proba, state = target.predict_proba(X[:, :2]), module_state(target)

    def assert_kept():
        assert target.n_features_in_ == 2
        assert_state_equal(module_state(target), state)
        np.testing.assert_array_equal(target.predict_proba(X[:, :2]), proba)

    with pytest.raises(ValueError, match="saved from a SCoRClassifier"):
        MR2Classifier(**TINY).load_weights(path)
    with pytest.raises(ValueError, match="saved from a SCoRClassifier"):
        SAMClassifier(**TINY).load_weights(path)
    # other architecture: a previous fit of the target survives the failure
    target.set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match="do not match"):
        target.load_weights(path)
    target.set_params(hidden_layer_sizes=(4,))
    assert_kept()

    incomplete = tmp_path / "incomplete.pt"
    payload = torch.load(path, weights_only=True)
    del payload["classes"]
    torch.save(payload, incomplete)
    with pytest.raises(ValueError, match="Not a complete skscor weights file"):
        target.load_weights(incomplete)
    assert_kept()

    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a weights file")
    with pytest.raises(ValueError, match="Could not read a skscor weights file"):
        target.load_weights(junk)
    torch.save({"module": {}}, junk)
    with pytest.raises(ValueError, match="missing format marker"):
        target.load_weights(junk)
    assert_kept()

    # SAM: a cosine (LDAM) head does not take a linear head's weights
    sam = tmp_path / "sam.pt"
    SAMClassifier(**TINY).fit(X, y).save_weights(sam)
    with pytest.raises(ValueError, match="do not match"):
        SAMClassifier(loss="ldam", **TINY).load_weights(sam)
