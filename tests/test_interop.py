"""Interoperability with scikit-learn meta-estimators and persistence tools."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor._variants import SMALL
from skscor.metrics import worst_class_recall_scorer
from skscor.utils._testing import imbalanced_classification

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Small networks, few epochs: collapse warnings are expected, not under test.
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]


@pytest.fixture(scope="module")
def data():
    # Unstandardized: the pipelines below scale inside each fold.
    return imbalanced_classification(300, standardize=False)


def test_calibrated_classifier(data):
    X, y = data
    cal = CalibratedClassifierCV(SCoRClassifier(**SMALL), cv=3).fit(X, y)
    proba = cal.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert proba.shape == (len(X), 3)


def test_cross_val_predict_proba(data):
    X, y = data
    proba = cross_val_predict(
        FocalClassifier(**SMALL), X, y, cv=3, method="predict_proba"
    )
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_cross_validate_with_disparity_scorer(data):
    X, y = data
    res = cross_validate(
        SAMClassifier(**SMALL),
        X,
        y,
        cv=3,
        scoring={"worst": worst_class_recall_scorer, "bacc": "balanced_accuracy"},
    )
    assert np.all(res["test_worst"] <= res["test_bacc"] + 1e-12)


def test_clone_of_fitted_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), MR2Classifier(**SMALL)).fit(X, y)
    fresh = clone(pipe)
    assert not hasattr(fresh[-1], "net_")
    np.testing.assert_array_equal(
        fresh.fit(X, y).predict_proba(X), pipe.predict_proba(X)
    )


def test_n_classes_for_ensemble_style_use(data):
    X, y = data
    clf = SCoRClassifier(**SMALL).fit(X, y)
    assert clf.n_classes_ == 3 == len(clf.classes_)


def test_set_output_pandas_upstream(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"num{i}" for i in range(X.shape[1])])
    df["colour"] = np.where(y == 0, "red", "blue")
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), [f"num{i}" for i in range(X.shape[1])]),
            ("cat", OneHotEncoder(sparse_output=False), ["colour"]),
        ]
    ).set_output(transform="pandas")
    pipe = make_pipeline(pre, SCoRClassifier(**SMALL)).fit(df, y)
    clf = pipe[-1]
    assert list(clf.feature_names_in_)[:2] == ["num__num0", "num__num1"]
    assert pipe.predict(df).shape == (len(df),)


@pytest.mark.parametrize(
    "estimator",
    [
        SCoRClassifier(**SMALL),
        SAMClassifier(loss="ldam", reweighting="drw", **SMALL),
        MR2Classifier(**SMALL),
    ],
    ids=["scor", "sam", "mr2"],
)
def test_joblib_round_trip(estimator, data, tmp_path):
    X, y = data
    clf = clone(estimator).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.disparity_report_.worst_class_recall == (
        clf.disparity_report_.worst_class_recall
    )


def test_weights_only_save_and_load(data, tmp_path):
    X, y = data
    clf = MR2Classifier(**SMALL).fit(X, y)
    path = tmp_path / "weights.pt"
    clf.save_weights(path)
    # the file opens with torch's safe loader on its own
    import torch

    payload = torch.load(path, weights_only=True)
    assert payload["estimator"] == "MR2Classifier"
    new = MR2Classifier(**SMALL).load_weights(path)
    np.testing.assert_array_equal(new.predict_proba(X), clf.predict_proba(X))
    assert torch.equal(new.net_.criterion_.ema_m, clf.net_.criterion_.ema_m)
    # continue training from the loaded weights
    new.partial_fit(X, y)
    assert new.n_iter_ == clf.n_iter_ + 1
    with pytest.raises(ValueError, match="MR2Classifier"):
        SCoRClassifier(**SMALL).load_weights(path)
    with pytest.raises(ValueError, match="do not match"):
        MR2Classifier(**{**SMALL, "hidden_layer_sizes": (32,)}).load_weights(path)


def test_pickled_bytes_do_not_hold_training_data(data):
    X, y = data
    big = np.repeat(X, 50, axis=0)
    # numeric_embedding=None: five members of 8 units; the embeddings (which
    # 'auto' may choose) add parameters, not data.
    clf = SCoRClassifier(
        hidden_layer_sizes=(8,),
        max_iter=1,
        random_state=0,
        early_stopping=True,
        numeric_embedding=None,
    ).fit(big, np.repeat(y, 50))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.dump(clf, buf)
    # weights are ~100 floats; the data would be 15000 x 6 float32 = 360 kB
    assert buf.tell() < 100_000
