"""A raw DataFrame (strings, categories, NaN, raw scales) through the estimators and
everything scikit-learn does with them: the estimator conditions its own input."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor.hessian import class_hessian_spectrum

pd = pytest.importorskip("pandas")

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]

TINY = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
CLASSES = [SCoRClassifier, FocalClassifier, SAMClassifier, MR2Classifier]


@pytest.fixture(scope="module")
def frame():
    """400 rows: a category, a 30-level string column, NaN, a raw scale, a bool."""
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "city": pd.Categorical(rng.choice(["lyon", "paris", "nice"], n)),
            "zip": rng.choice([f"z{i:02d}" for i in range(30)], n).astype(object),
            "income": rng.normal(40_000, 9_000, n),
            "amount": rng.pareto(2.0, n) * 100,
            "online": rng.random(n) < 0.3,
        }
    )
    df.loc[rng.random(n) < 0.1, "income"] = np.nan
    y = np.where((df["amount"] > 150) | (df["city"] == "nice"), "fraud", "legit")
    return df, y


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_raw_frame_fits_and_predicts(frame, cls):
    df, y = frame
    clf = cls(**TINY).fit(df, y)
    assert list(clf.feature_names_in_) == list(df.columns)
    assert clf.n_features_in_ == 5
    enc = clf.preprocessor_
    assert enc.is_categorical_.tolist() == [True, True, False, False, True]
    assert enc.encodings_[:2] == ["onehot", "embedding"]
    proba = clf.predict_proba(df)
    assert np.isfinite(proba).all() and set(clf.predict(df)) <= {"fraud", "legit"}


def test_unseen_levels_and_missing_values_at_predict(frame):
    df, y = frame
    clf = SCoRClassifier(**TINY).fit(df, y)
    new = df.iloc[:3].copy()
    new["zip"] = ["never-seen", None, "z01"]
    new["city"] = pd.Categorical(["marseille", "lyon", None])
    new["amount"] = np.nan  # no NaN at fit: imputed, no error
    assert np.isfinite(clf.predict_proba(new)).all()


def test_errors_name_the_column(frame):
    df, y = frame
    bad = df.assign(when=pd.Timestamp("2026-01-01"))
    with pytest.raises(TypeError, match="when"):
        SCoRClassifier(**TINY).fit(bad, y)
    inf = df.copy()
    inf.loc[0, "amount"] = np.inf
    with pytest.raises(ValueError, match="amount"):
        SCoRClassifier(**TINY).fit(inf, y)
    clf = SCoRClassifier(**TINY).fit(df, y)
    with pytest.raises(ValueError, match="income"):
        clf.predict(df.drop(columns="income"))


def test_sklearn_tools_take_the_frame(frame):
    df, y = frame
    est = SCoRClassifier(**TINY)
    cv = cross_validate(est, df, y, cv=2, scoring="balanced_accuracy")
    assert np.isfinite(cv["test_score"]).all()
    grid = GridSearchCV(est, {"alpha": [0.0, 1e-3]}, cv=2).fit(df, y)
    assert np.isfinite(grid.predict_proba(df)).all()
    cal = CalibratedClassifierCV(est, cv=2).fit(df, y)
    assert np.isfinite(cal.predict_proba(df)).all()
    pipe = make_pipeline(clone(est)).fit(df, y)
    assert (pipe.predict(df) == pipe[-1].predict(df)).all()


def test_tuned_threshold_takes_the_frame(frame):
    from sklearn.model_selection import TunedThresholdClassifierCV

    df, y = frame
    tuned = TunedThresholdClassifierCV(
        SCoRClassifier(**TINY), scoring="balanced_accuracy", cv=2
    ).fit(df, y)
    assert set(tuned.predict(df)) <= {"fraud", "legit"}


def test_persistence_keeps_the_conditioning(frame):
    df, y = frame
    clf = SCoRClassifier(**TINY).fit(df, y)
    expected = clf.predict_proba(df)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(df), expected
    )
    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    np.testing.assert_array_equal(joblib.load(buf).predict_proba(df), expected)
    buf = io.BytesIO()
    clf.save_weights(buf)
    buf.seek(0)
    # the conditioning travels with the weights, whatever the loading estimator
    new = SCoRClassifier(hidden_layer_sizes=(8,)).load_weights(buf)
    np.testing.assert_allclose(new.predict_proba(df), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="feature names"):
        new.predict(df.rename(columns={"zip": "postcode"}))


def test_reports_and_hessian_on_the_encoded_input(frame):
    df, y = frame
    clf = SCoRClassifier(**TINY).fit(df, y)
    assert clf.disparity_report_.support.sum() == len(y)
    assert clf.spectral_report_.names  # the weights, embeddings aside
    spec = class_hessian_spectrum(clf, df.iloc[:60], y[:60], max_samples_per_class=30)
    assert np.isfinite(spec.lambda_max).all()


def test_preprocessing_none_keeps_the_raw_path(frame):
    df, y = frame
    # the columns it cannot take are named, whatever pandas would have said
    with pytest.raises(ValueError, match=r"numeric columns only.*'city' \(category\)"):
        SCoRClassifier(preprocessing=None, **TINY).fit(df, y)
    with pytest.raises(ValueError, match=r"'zip' \((object|str)\)"):  # pandas 3: str
        SCoRClassifier(preprocessing=None, **TINY).fit(df, y)
    # numeric columns with NaN: scikit-learn's error, as without conditioning
    with pytest.raises(ValueError, match="NaN"):
        SCoRClassifier(preprocessing=None, **TINY).fit(df[["income", "amount"]], y)
    # bool and nullable numeric columns are numeric
    ok = df[["amount", "online"]].astype({"amount": "Float64"})
    SCoRClassifier(preprocessing=None, **TINY).fit(ok, y)
    numeric = df[["income", "amount"]].fillna(0.0).to_numpy()
    clf = SCoRClassifier(preprocessing=None, **TINY).fit(numeric, y)
    assert clf.preprocessor_ is None


def test_a_user_who_already_scales_gets_the_same_model():
    # median/IQR scaling is affine-equivariant: a StandardScaler in front
    # changes nothing before the smooth clipping, hence nothing at all.
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    a = SCoRClassifier(**TINY).fit(X, y).predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), SCoRClassifier(**TINY)).fit(X, y)
    np.testing.assert_allclose(pipe.predict_proba(X), a, atol=1e-5)
