"""TabularEncoder: column typing, numeric conditioning, categoricals, NaN, sparse
input, errors that name the column, and a fitted state that survives a
weights-only torch file."""

import ast
import io
import math
import pickle
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import skscor._preprocessing as prep
from skscor._preprocessing import MAX_DENSE_BYTES, TabularEncoder


@pytest.fixture(scope="module")
def pd():
    return pytest.importorskip("pandas")


@pytest.fixture
def frame(pd):
    """Every supported column type, with missing values where they can occur."""
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "num": rng.lognormal(size=n) * 100,
            "with_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "count": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.integers(0, 50, n)),
                dtype="Int64",
            ),
            "ratio": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.random(n)), dtype="Float64"
            ),
            "flag": rng.random(n) < 0.4,
            "nullable_flag": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5),
                dtype="boolean",
            ),
            "city": rng.choice(np.array(["lyon", "paris", "nice", None], object), n),
            "grade": pd.Categorical(rng.choice(list("abcdefghijklmn"), n)),
            "plan": pd.array(rng.choice(["basic", "pro"], n), dtype="string"),
        }
    )


def _roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _plain_only(obj) -> bool:
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain_only(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_plain_only(v) for v in obj)
    return obj is None or type(obj) in (str, int, float, bool)


# ----------------------------------------------------------- scikit-learn
@parametrize_with_checks(
    [TabularEncoder(), TabularEncoder(numeric="quantile"), TabularEncoder(numeric=None)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "params",
    [
        {"numeric": "standard"},
        {"max_onehot_levels": -1},
        {"max_onehot_levels": True},
        {"min_frequency": 0},
        {"min_frequency": 1.5},
        {"min_frequency": True},
        {"categorical_features": "auto"},
    ],
)
def test_invalid_parameters(params):
    with pytest.raises(InvalidParameterError):
        TabularEncoder(**params).fit(np.ones((3, 2)))


# ----------------------------------------------------------------- typing
def test_from_dtype_types_columns(frame):
    enc = TabularEncoder().fit(frame)
    assert enc.is_categorical_.tolist() == [False] * 4 + [True] * 5
    assert list(enc.feature_names_in_) == list(frame.columns)
    assert enc.n_features_in_ == 9
    assert enc.encodings_ == [
        "robust", "robust", "robust", "robust",  # numeric
        "binary", "onehot", "onehot", "embedding", "binary",
    ]  # fmt: skip
    assert enc.categories_[:4] == [None] * 4
    assert enc.categories_[4] == [False, True]
    assert enc.categories_[6] == ["lyon", "nice", "paris"]
    assert enc.categories_[7] == list("abcdefghijklmn")
    assert enc.categories_[8] == ["basic", "pro"]


def test_bool_is_one_column_and_nullable_bool_has_a_missing_level(frame):
    enc = TabularEncoder().fit(frame)
    names = enc.feature_names_out_
    assert "flag_True" in names and "flag_False" not in names
    assert [n for n in names if n.startswith("nullable_flag")] == [
        "nullable_flag_False", "nullable_flag_True", "nullable_flag_nan",
    ]  # fmt: skip
    Xt = enc.transform(frame)
    flag = Xt[:, names.index("flag_True")]
    np.testing.assert_array_equal(flag, frame["flag"].to_numpy(dtype=np.float32))


def test_object_and_str_columns(pd):
    df = pd.DataFrame(
        {
            "numbers_as_objects": np.array([1, 2.5, None, 4] * 5, dtype=object),
            "bools_as_objects": np.array([True, False, None, True] * 5, dtype=object),
            "words": np.array(["a", "b", None, "a"] * 5, dtype=object),
            "str_dtype": pd.Series(["x", "y", "x", None] * 5, dtype="str"),
        }
    )
    enc = TabularEncoder().fit(df)
    assert enc.is_categorical_.tolist() == [False, True, True, True]
    Xt = enc.transform(df)
    assert Xt[2, 0] == 0.0  # imputed median, robust-scaled to 0
    assert enc.feature_names_out_[1] == "numbers_as_objects_missing"


def test_explicit_categorical_features(pd):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), rng.integers(0, 3, 50)])
    expected = [False, True]
    for spec in ([1], [False, True], np.array([-1])):
        enc = TabularEncoder(categorical_features=spec).fit(X)
        assert enc.is_categorical_.tolist() == expected
        assert enc.categories_[1] == [0.0, 1.0, 2.0]
    df = pd.DataFrame(X, columns=["a", "b"])
    enc = TabularEncoder(categorical_features=["b"]).fit(df)
    assert enc.is_categorical_.tolist() == expected
    assert TabularEncoder(categorical_features=None).fit(X).is_categorical_.sum() == 0
    # a bool column can be declared numeric: a 0/1 column either way
    df = pd.DataFrame({"f": [True, False, True, True, False]})
    enc = TabularEncoder(categorical_features=None).fit(df)
    assert enc.encodings_ == ["binary"]
    np.testing.assert_array_equal(enc.transform(df)[:, 0], [1, 0, 1, 1, 0])


@pytest.mark.parametrize(
    "spec, match",
    [
        ([5], "index 5 is out of range"),
        ([True], "must have 2 entries"),
        (["b"], "no string column names"),
        ([0.5], "must be 'from_dtype'"),
    ],
)
def test_categorical_features_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        TabularEncoder(categorical_features=spec).fit(np.ones((4, 2)))


def test_string_column_left_out_of_categorical_features_is_named(pd):
    df = pd.DataFrame({"a": [1.0, 2.0], "city": ["lyon", "nice"]})
    with pytest.raises(ValueError, match="column 'city' holds string values"):
        TabularEncoder(categorical_features=["a"]).fit(df)
    with pytest.raises(ValueError, match="names column 'zip', which is not in X"):
        TabularEncoder(categorical_features=["zip"]).fit(df)


def test_feature_names_only_for_string_column_names(pd):
    X = np.arange(12.0).reshape(4, 3)
    assert not hasattr(TabularEncoder().fit(X), "feature_names_in_")
    assert not hasattr(TabularEncoder().fit(pd.DataFrame(X)), "feature_names_in_")
    enc = TabularEncoder().fit(X)
    assert enc.feature_names_out_ == ["x0", "x1", "x2"]
    with pytest.raises(TypeError, match="only supported if all input features"):
        TabularEncoder().fit(pd.DataFrame(X, columns=["a", 1, "c"]))


# ---------------------------------------------------------------- numeric
def _robust_reference(x):
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    z = (x - med) / ((q3 - q1) / 1.349)
    return z / np.sqrt(1 + (z / 3) ** 2)


def test_robust_scaling_with_smooth_clipping():
    rng = np.random.default_rng(1)
    x = rng.lognormal(sigma=2, size=1000) * 1e4  # heavy right tail
    Xt = TabularEncoder().fit_transform(x.reshape(-1, 1))
    np.testing.assert_allclose(Xt[:, 0], _robust_reference(x), rtol=1e-5, atol=1e-6)
    assert np.abs(Xt).max() < 3 and np.median(Xt) == pytest.approx(0, abs=1e-6)


def test_zero_iqr_falls_back_to_std_and_constant_to_zero():
    x = np.zeros(100)
    x[:5] = [10, 20, 30, 40, 50]  # IQR 0
    X = np.column_stack([x, np.full(100, 7.0)])
    enc = TabularEncoder().fit(X)
    Xt = enc.transform(X)
    z = x / x.std()
    np.testing.assert_allclose(Xt[:, 0], z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-5)
    np.testing.assert_array_equal(Xt[:, 1], 0.0)
    assert enc.transform(np.array([[0.0, 8.0]]))[0, 1] > 0  # a new value still shows


def test_standardized_data_passes_nearly_unchanged():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 5))
    X = (X - X.mean(0)) / X.std(0)
    Xt = TabularEncoder().fit_transform(X)
    for j in range(5):
        # monotone: the rank order of every column is kept
        order = np.argsort(X[:, j], kind="stable")
        assert np.all(np.diff(Xt[order, j]) >= 0)
        assert np.corrcoef(X[:, j], Xt[:, j])[0, 1] > 0.99
    inner = np.abs(X) < 1
    assert np.abs(Xt[inner] - X[inner]).max() < 0.1


@pytest.mark.parametrize("numeric", ["robust", "quantile"])
def test_a_user_who_already_scales_gets_the_same_inputs(numeric):
    # Median, IQR, quantiles and the median imputation all follow a positive
    # affine map of a column, so scaling before the estimator changes nothing
    # it trains on (the "a user who already scales loses nothing").
    rng = np.random.default_rng(5)
    X = np.column_stack([
        rng.lognormal(sigma=1.5, size=3000) * 1e3,
        rng.standard_t(3, size=3000),
        rng.normal(50, 10, size=3000),
    ])  # fmt: skip
    X[rng.random(3000) < 0.05, 2] = np.nan
    scale, shift = np.array([1e-3, 7.0, 0.02]), np.array([-4.0, 0.5, 100.0])
    mean, std = np.nanmean(X, 0), np.nanstd(X, 0)
    a = TabularEncoder(numeric=numeric).fit_transform(X)
    for Z in (X * scale + shift, (X - mean) / std):
        b = TabularEncoder(numeric=numeric).fit_transform(Z)
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_binary_and_one_hot_columns_stay_zero_one():
    rng = np.random.default_rng(3)
    onehot = np.eye(3)[rng.integers(0, 3, 200)]
    flags = np.column_stack([rng.integers(0, 2, 200), 5 * rng.integers(0, 2, 200) - 1])
    X = np.column_stack([onehot, flags, rng.normal(size=200)])
    for numeric in ("robust", "quantile"):
        enc = TabularEncoder(numeric=numeric).fit(X)
        assert enc.encodings_ == ["binary"] * 5 + [numeric]
        Xt = enc.transform(X)
        np.testing.assert_array_equal(Xt[:, :4], X[:, :4])
        np.testing.assert_array_equal(Xt[:, 4], (X[:, 4] == 4).astype(np.float32))


def test_quantile_maps_to_a_standard_normal():
    rng = np.random.default_rng(4)
    x = rng.exponential(size=5000) ** 3
    enc = TabularEncoder(numeric="quantile").fit(x.reshape(-1, 1))
    z = enc.transform(x.reshape(-1, 1))[:, 0]
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.05
    assert np.all(np.diff(z[np.argsort(x)]) >= 0)
    far = enc.transform(np.array([[-1e9], [1e9]]))[:, 0]
    np.testing.assert_allclose(far, [-5.199, 5.199], atol=1e-3)


def test_numeric_none_only_imputes():
    X = np.array([[1e6, 0.0], [np.nan, 1.0], [3e6, 1.0], [-2.0, 0.0]])
    enc = TabularEncoder(numeric=None).fit(X)
    assert enc.encodings_ == ["passthrough", "passthrough"]
    Xt = enc.transform(X)
    np.testing.assert_array_equal(Xt[:, 0], [1e6, 1e6, 3e6, -2.0])  # median 1e6
    np.testing.assert_array_equal(Xt[:, 2], [0, 1, 0, 0])  # indicator
    with pytest.raises(ValueError, match="too large for dtype.*column 0"):
        enc.transform(np.array([[1e39, 0.0]]))


def test_numeric_nan_imputed_with_an_indicator_only_where_seen_at_fit():
    X = np.array([[1.0, 10.0], [np.nan, 20.0], [3.0, 30.0], [5.0, 40.0]])
    enc = TabularEncoder().fit(X)
    assert enc.feature_names_out_ == ["x0", "x1", "x0_missing"]
    assert enc.n_dense_out_ == 3
    Xt = enc.transform(X)
    assert Xt[1, 0] == 0.0 and Xt[:, 2].tolist() == [0, 1, 0, 0]
    # NaN at transform in a column without NaN at fit: imputed, no error
    new = enc.transform(np.array([[np.nan, np.nan]]))
    assert new.shape == (1, 3)
    np.testing.assert_array_equal(new[0], [0.0, 0.0, 1.0])


def test_all_missing_numeric_column_is_zero_with_its_indicator():
    X = np.column_stack([np.full(5, np.nan), np.arange(5.0)])
    Xt = TabularEncoder().fit_transform(X)
    np.testing.assert_array_equal(Xt[:, 0], 0.0)
    np.testing.assert_array_equal(Xt[:, 2], 1.0)


def test_nullable_dtypes_equal_float_with_nan(pd):
    values = [1.0, None, 3.0, 10.0, 2.0]
    a = pd.DataFrame({"v": pd.array(values, dtype="Float64")})
    b = pd.DataFrame({"v": np.array(values, dtype=float)})
    c = pd.DataFrame({"v": pd.array([1, None, 3, 10, 2], dtype="Int64")})
    out = [TabularEncoder().fit_transform(d) for d in (a, b, c)]
    assert out[0].shape == (5, 2)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


def test_numpy_with_nan_matches_the_frame(frame):
    num = frame[["num", "with_nan"]]
    a = TabularEncoder().fit_transform(num)
    b = TabularEncoder().fit_transform(num.to_numpy())
    np.testing.assert_array_equal(a, b)
    assert a.shape[1] == 3


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_is_an_error_naming_the_column(pd, value):
    df = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "income": [1.0, value, 2.0]})
    with pytest.raises(ValueError, match="infinity in column 'income'"):
        TabularEncoder().fit(df)
    enc = TabularEncoder().fit(df.assign(income=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="infinity in column 'income'"):
        enc.transform(df)
    with pytest.raises(ValueError, match="infinity in column 1"):
        TabularEncoder().fit(df.to_numpy())


def test_large_frames_are_fitted_on_a_subsample(monkeypatch):
    monkeypatch.setattr(prep, "_SAMPLE_ROWS", 1000)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20_000, 1))
    x[0] = 50.0  # the binary test and the inf test still see every row
    enc = TabularEncoder().fit(x)
    spec = enc.get_state()["columns"][0]
    assert spec["encoding"] == "robust"
    assert spec["center"] == pytest.approx(0, abs=0.1)
    assert spec["center"] != np.median(x)
    x[1] = np.inf
    with pytest.raises(ValueError, match="infinity in column 0"):
        TabularEncoder().fit(x)


# ------------------------------------------------------------ categorical
def test_onehot_binary_and_embedding_layout(pd):
    rng = np.random.default_rng(6)
    n = 400
    df = pd.DataFrame(
        {
            "many": rng.choice([f"m{i}" for i in range(12)], n),
            "x": rng.normal(size=n),
            "few": rng.choice(["a", "b", "c"], n),
            "two": rng.choice(["no", "yes"], n),
            "y": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    enc = TabularEncoder().fit(df)
    assert enc.encodings_ == ["embedding", "robust", "onehot", "binary", "robust"]
    assert enc.feature_names_out_ == [
        "x", "y", "y_missing", "few_a", "few_b", "few_c", "two_yes", "many",
    ]  # fmt: skip
    assert enc.n_dense_out_ == 7
    assert enc.embedding_cardinalities_ == [13]  # 12 levels + reserved 0
    Xt = enc.transform(df)
    assert Xt.dtype == np.float32 and Xt.flags.c_contiguous
    np.testing.assert_array_equal(Xt[:, 3:6].sum(1), 1)
    np.testing.assert_array_equal(Xt[:, 3:6].argmax(1), df["few"].map(ord) - ord("a"))
    np.testing.assert_array_equal(Xt[:, 6], df["two"] == "yes")
    codes = df["many"].str[1:].astype(int) + 1  # sorted m0 < m1 < m10 < m11 < m2
    order = sorted(f"m{i}" for i in range(12))
    np.testing.assert_array_equal(Xt[:, 7], df["many"].map(order.index) + 1)
    assert set(np.unique(Xt[:, 7])) <= set(range(1, 13)) and codes.max() == 12
    np.testing.assert_array_equal(
        enc.get_feature_names_out(), np.array(enc.feature_names_out_, dtype=object)
    )


@pytest.mark.parametrize("levels, encoding", [(9, "onehot"), (10, "embedding")])
def test_max_onehot_levels_threshold(levels, encoding):
    X = np.repeat(np.arange(levels), 10).astype(str).reshape(-1, 1).astype(object)
    enc = TabularEncoder().fit(X)
    assert enc.encodings_ == [encoding]
    assert len(enc.feature_names_out_) == (levels if encoding == "onehot" else 1)


def test_rare_levels_are_pooled(pd):
    values = ["a"] * 20 + ["b"] * 20 + ["c"] * 4 + ["d"] * 1 + ["e"] * 5
    df = pd.DataFrame({"c": values})
    enc = TabularEncoder().fit(df)  # min_frequency=5
    assert enc.rare_categories_ == [["c", "d"]]
    assert enc.categories_ == [["a", "b", "c", "d", "e"]]
    assert enc.feature_names_out_ == ["c_a", "c_b", "c_e", "c_rare"]
    Xt = enc.transform(pd.DataFrame({"c": ["c", "d", "e", "zzz"]}))
    # rare levels share one column; an unseen level goes to the rare level
    np.testing.assert_array_equal(
        Xt, [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]]
    )
    frac = TabularEncoder(min_frequency=0.3).fit(df)  # 15 of 50 rows
    assert frac.rare_categories_ == [["c", "d", "e"]]


def test_unseen_levels_get_the_reserved_code(pd):
    rng = np.random.default_rng(7)
    train = pd.DataFrame(
        {
            "few": rng.choice(["a", "b", "c"], 100),
            "two": rng.choice(["n", "y"], 100),
            "many": rng.choice([f"m{i:02d}" for i in range(15)], 100),
        }
    )
    enc = TabularEncoder(min_frequency=1).fit(train)
    test = pd.DataFrame({"few": ["new"], "two": ["new"], "many": ["new"]})
    Xt = enc.transform(test)  # no error
    np.testing.assert_array_equal(Xt, [[0, 0, 0, 0.5, 0]])
    # missing values never seen at fit go to the reserved code too
    Xt = enc.transform(pd.DataFrame({"few": [None], "two": [None], "many": [None]}))
    np.testing.assert_array_equal(Xt, [[0, 0, 0, 0.5, 0]])


def test_categorical_nan_is_its_own_level(pd):
    df = pd.DataFrame({"c": ["a", None, "b", "a", np.nan] * 5})
    enc = TabularEncoder().fit(df)
    assert enc.feature_names_out_ == ["c_a", "c_b", "c_nan"]
    np.testing.assert_array_equal(
        enc.transform(df)[:5], [[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    )
    emb = TabularEncoder(max_onehot_levels=1).fit(df)
    assert emb.embedding_cardinalities_ == [4]
    np.testing.assert_array_equal(emb.transform(df)[:5, 0], [1, 3, 2, 1, 3])


def test_all_missing_category_column_is_an_error_naming_it(pd):
    df = pd.DataFrame(
        {"ok": ["a", "b"], "empty": pd.Series([None, None], dtype=object)}
    )
    with pytest.raises(ValueError, match="column 'empty' is categorical but all"):
        TabularEncoder().fit(df)
    cat = pd.DataFrame({"c": pd.Categorical([None, None], categories=["x"])})
    with pytest.raises(ValueError, match="column 'c' is categorical but all"):
        TabularEncoder().fit(cat)


def test_category_levels_are_the_observed_ones_and_types_stay_apart(pd):
    cat = pd.Categorical(["b", "a", "b"], categories=["a", "b", "never"])
    enc = TabularEncoder().fit(pd.DataFrame({"c": cat}))
    assert enc.categories_ == [["a", "b"]]
    # 1 (a number) and '1' (a string) are different levels
    X = np.array([[1], [2], [1]], dtype=object)
    enc = TabularEncoder(categorical_features=[0], min_frequency=1).fit(X)
    Xt = enc.transform(np.array([["1"], [1]], dtype=object))
    np.testing.assert_array_equal(Xt[:, 0], [0.5, 0.0])


def test_equal_numbers_are_one_level_and_bools_are_not_numbers():
    X = np.array([1, 1.0, 2, np.float64(2.0)] * 5, dtype=object).reshape(-1, 1)
    enc = TabularEncoder(categorical_features=[0]).fit(X)
    assert enc.categories_ == [[1, 2]]
    with pytest.raises(TypeError, match=r"types \['bool', 'number'\]"):
        TabularEncoder(categorical_features=[0]).fit(
            np.array([[True], [1]] * 5, dtype=object)
        )


def test_numeric_codes_as_categories_from_numpy():
    rng = np.random.default_rng(8)
    X = np.column_stack([rng.integers(0, 30, 600), rng.normal(size=600)]).astype(float)
    X[:10, 0] = np.nan
    enc = TabularEncoder(categorical_features=[0]).fit(X)
    assert enc.encodings_ == ["embedding", "robust"]
    assert enc.embedding_cardinalities_ == [32]  # 30 levels, NaN, reserved
    Xt = enc.transform(X)
    assert Xt.shape == (600, 2)
    np.testing.assert_array_equal(
        Xt[10:, 1], np.unique(X[10:, 0], return_inverse=True)[1] + 1
    )
    np.testing.assert_array_equal(Xt[:10, 1], 31)


def test_codes_are_exact_float32():
    X = np.arange(3000).reshape(-1, 1).astype(str).astype(object)
    enc = TabularEncoder(min_frequency=1).fit(X)
    Xt = enc.transform(X)
    order = np.argsort(X[:, 0].astype(str))
    np.testing.assert_array_equal(Xt[order, 0], np.arange(1, 3001))
    assert enc.embedding_cardinalities_ == [3001]


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "column, error, match",
    [
        ("datetime", TypeError, "column 'when' has dtype datetime64"),
        ("timedelta", TypeError, "column 'when' has dtype timedelta64"),
        ("complex", ValueError, "Complex data not supported: column 'when'"),
        (
            "mixed",
            TypeError,
            r"column 'when' holds values of types \['number', 'str'\]",
        ),
        ("dict", TypeError, "column 'when' holds a value that is not a category"),
        ("period", TypeError, "column 'when' has dtype period"),
    ],
)
def test_unsupported_dtypes_name_the_column(pd, column, error, match):
    values = {
        "datetime": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "timedelta": pd.to_timedelta([1, 2], unit="D"),
        "complex": np.array([1 + 1j, 2j]),
        "mixed": np.array(["a", 1], dtype=object),
        "dict": np.array([{"a": 1}, "b"], dtype=object),
        "period": pd.period_range("2024-01", periods=2, freq="M"),
    }[column]
    df = pd.DataFrame({"ok": [1.0, 2.0], "when": values})
    with pytest.raises(error, match=match):
        TabularEncoder().fit(df)
    # and at transform, when the column was fine at fit
    if column != "dict":
        enc = TabularEncoder().fit(pd.DataFrame({"ok": [1.0, 2.0], "when": [1.0, 2.0]}))
        with pytest.raises((TypeError, ValueError), match="column 'when'"):
            enc.transform(df)


def test_numpy_dtype_errors():
    with pytest.raises(ValueError, match="Complex data not supported"):
        TabularEncoder().fit(np.ones((3, 2), dtype=complex))
    with pytest.raises(TypeError, match="column 0 has dtype datetime64"):
        TabularEncoder().fit(np.array([["2024-01-01"]], dtype="datetime64[D]"))
    with pytest.raises(TypeError, match=r"column 1 holds values of types"):
        TabularEncoder().fit(np.array([[1.0, "a"], [2.0, 3]], dtype=object))


def test_numeric_column_turned_to_strings_is_named(pd):
    enc = TabularEncoder().fit(pd.DataFrame({"age": [30.0, 40.0, 50.0]}))
    with pytest.raises(ValueError, match="column 'age' is numeric"):
        enc.transform(pd.DataFrame({"age": ["thirty", "40", "50"]}))


def test_missing_renamed_and_reordered_columns(pd):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [3.0, 4.0]})
    enc = TabularEncoder().fit(df)
    with pytest.raises(ValueError, match="seen at fit time, yet now missing:\n- c"):
        enc.transform(df[["a", "b"]])
    with pytest.raises(
        ValueError, match="unseen at fit time:\n- cc\n.*yet now missing:\n- c\n"
    ):
        enc.transform(df.rename(columns={"c": "cc"}))
    with pytest.raises(ValueError, match="same order as they were in fit"):
        enc.transform(df[["c", "b", "a"]])
    with (
        pytest.warns(UserWarning, match="but SCoR was fitted with feature names"),
        pytest.raises(ValueError, match="X has 2 features, but SCoR is expecting 3"),
    ):
        enc.transform(np.ones((2, 2)), caller="SCoR")
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        out = enc.transform(df.to_numpy())  # by position: same result
    np.testing.assert_array_equal(out, enc.transform(df))


def test_input_shape_errors(pd):
    with pytest.raises(ValueError, match="Expected 2D array"):
        TabularEncoder().fit(np.ones(3))
    with pytest.raises(ValueError, match="pandas Series"):
        TabularEncoder().fit(pd.Series([1.0, 2.0]))
    with pytest.raises(ValueError, match="0 sample"):
        TabularEncoder().fit(np.ones((0, 2)))
    with pytest.raises(ValueError, match="0 feature"):
        TabularEncoder().fit(np.ones((2, 0)))


# ----------------------------------------------------------------- sparse
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_matches_dense(fmt):
    rng = np.random.default_rng(9)
    dense = sp.random_array((200, 30), density=0.2, rng=rng).toarray()
    dense[rng.random((200, 30)) < 0.02] = np.nan
    X = sp.coo_array(np.where(np.isnan(dense), np.nan, dense)).asformat(fmt)
    a = TabularEncoder().fit(X)
    b = TabularEncoder().fit(dense)
    np.testing.assert_array_equal(a.transform(X), b.transform(dense))
    np.testing.assert_array_equal(a.transform(dense), b.transform(X))


def test_sparse_limit_refuses_without_allocating():
    # 100,000 x 50,000 at 0.1% density: 18.6 GiB as dense float32
    X = sp.random_array(
        (100_000, 50_000), density=1e-5, format="csr", rng=np.random.default_rng(0)
    )
    tracemalloc.start()
    with pytest.raises(TypeError, match="TruncatedSVD") as info:
        TabularEncoder().fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 2**20
    assert "18.6 GiB" in str(info.value) and "256 MiB" in str(info.value)


def test_sparse_limit_is_the_module_constant(monkeypatch):
    X = sp.csr_array(np.eye(8))  # 256 bytes as dense float32
    TabularEncoder().fit(X)
    monkeypatch.setattr(prep, "MAX_DENSE_BYTES", 255)
    with pytest.raises(TypeError, match="densif"):
        TabularEncoder().fit(X)
    assert MAX_DENSE_BYTES == 256 * 2**20


# ------------------------------------------------------------------ state
@pytest.mark.parametrize("numeric", ["robust", "quantile", None])
def test_state_round_trip_through_a_weights_only_file(frame, numeric):
    enc = TabularEncoder(numeric=numeric, min_frequency=0.05).fit(frame)
    state = enc.get_state()
    assert _plain_only(state)
    loaded = TabularEncoder.from_state(_roundtrip(state))
    test = frame.iloc[::-1].reset_index(drop=True)
    test.loc[0, "city"] = "unseen"
    np.testing.assert_array_equal(loaded.transform(test), enc.transform(test))
    for attr in ("n_dense_out_", "embedding_cardinalities_", "feature_names_out_",
                 "encodings_", "categories_", "rare_categories_"):  # fmt: skip
        assert getattr(loaded, attr) == getattr(enc, attr), attr
    np.testing.assert_array_equal(loaded.is_categorical_, enc.is_categorical_)
    np.testing.assert_array_equal(loaded.feature_names_in_, enc.feature_names_in_)
    assert loaded.get_params() == enc.get_params()
    # the state refuses a frame with other columns
    with pytest.raises(ValueError, match="yet now missing:\n- plan"):
        loaded.transform(test.drop(columns="plan"))


def test_state_round_trip_numpy_with_explicit_categoricals():
    rng = np.random.default_rng(10)
    X = np.column_stack([rng.integers(0, 20, 100), rng.normal(size=100)])
    enc = TabularEncoder(categorical_features=np.array([True, False])).fit(X)
    state = _roundtrip(enc.get_state())
    assert state["params"]["categorical_features"] == [True, False]
    loaded = TabularEncoder.from_state(state)
    np.testing.assert_array_equal(loaded.transform(X), enc.transform(X))
    assert not hasattr(loaded, "feature_names_in_")


def test_from_state_refuses_other_data():
    with pytest.raises(ValueError, match="not a TabularEncoder state"):
        TabularEncoder.from_state({"weights": []})
    state = TabularEncoder().fit(np.ones((2, 1))).get_state()
    state["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        TabularEncoder.from_state(state)


def test_pickle_and_clone(frame):
    enc = TabularEncoder(max_onehot_levels=3).fit(frame)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(again.transform(frame), enc.transform(frame))
    fresh = clone(enc)
    assert fresh.get_params() == enc.get_params()
    assert not hasattr(fresh, "n_features_in_")


# ---------------------------------------------------------- dependencies
def test_pandas_is_not_needed_for_numpy_input(monkeypatch):
    # no import of pandas in the module's source ...
    tree = ast.parse(Path(prep.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] != "pandas" for a in node.names)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "pandas"
    # ... and numpy input, strings included, works while pandas cannot load
    monkeypatch.setitem(sys.modules, "pandas", None)
    X = np.array([[1.0, "a"], [np.nan, "b"], [3.0, None]], dtype=object)
    enc = TabularEncoder(categorical_features=[1], min_frequency=1).fit(X)
    assert enc.feature_names_out_ == ["x0", "x0_missing", "x1_a", "x1_b", "x1_nan"]
    expected = [[0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]]
    np.testing.assert_array_equal(enc.transform(X)[:, 1:], expected)


def test_in_a_pipeline_with_a_classifier(frame):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    y = (frame["num"] > frame["num"].median()).to_numpy()
    pipe = make_pipeline(TabularEncoder(), LogisticRegression()).fit(frame, y)
    assert pipe.score(frame, y) > 0.9
    assert math.isfinite(pipe.decision_function(frame.iloc[:5]).sum())


# ------------------------------------------------------ the MLP's embeddings
def test_mlp_without_embeddings_is_unchanged():
    from skscor.modules import MLP

    torch.manual_seed(0)
    net = MLP(4, 3, hidden_layer_sizes=(8,))
    torch.manual_seed(0)
    first, head = torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)
    assert list(net.state_dict()) == [
        "body.0.weight",
        "body.0.bias",
        "head.weight",
        "head.bias",
    ]
    torch.testing.assert_close(net.body[0].weight, first.weight)  # same draws
    torch.testing.assert_close(net.head.weight, head.weight)
    X = torch.randn(5, 4)
    torch.testing.assert_close(net(X), head(torch.relu(first(X))))
    assert net.n_dense == 4 and len(net.embeddings) == 0


def test_mlp_embeddings_value_and_shape():
    from skscor.modules import MLP, last_linear

    torch.manual_seed(0)
    net = MLP(4, 2, hidden_layer_sizes=(5,), embeddings=[(12, 4), 3])
    assert net.n_dense == 2
    assert [(e.num_embeddings, e.embedding_dim) for e in net.embeddings] == [
        (12, 4),
        (3, 3),
    ]
    assert net.body[0].in_features == 2 + 4 + 3
    X = torch.tensor([[0.5, -1.0, 3.0, 1.0], [0.1, 0.2, 11.0, 2.0]])
    hidden = torch.cat(
        [
            X[:, :2],
            net.embeddings[0].weight[X[:, 2].long()],
            net.embeddings[1].weight[X[:, 3].long()],
        ],
        dim=1,
    )
    torch.testing.assert_close(net(X), net.head(net.body(hidden)))
    assert net(X).shape == (2, 2)
    assert last_linear(net) is net.head


def test_mlp_embedding_widths_follow_the_rule():
    from skscor.modules import MLP

    net = MLP(5, 2, embeddings=[2, 11, 16, 1000])
    assert [e.embedding_dim for e in net.embeddings] == [2, 6, 8, 8]
    assert net.body[0].in_features == 1 + 24


def test_mlp_gradient_reaches_the_embeddings_but_not_the_reserved_code():
    from skscor.modules import MLP

    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(6,), embeddings=[(10, 3)])
    X = torch.tensor([[0.3, 0.1, 2.0], [1.0, -0.5, 5.0], [0.0, 0.0, 0.0]])
    loss = torch.nn.functional.cross_entropy(net(X), torch.tensor([0, 1, 1]))
    loss.backward()
    grad = net.embeddings[0].weight.grad
    assert grad[2].abs().sum() > 0 and grad[5].abs().sum() > 0
    assert grad[0].abs().sum() == 0  # the reserved code's vector stays zero
    assert grad[[1, 3, 4, 6, 7, 8, 9]].abs().sum() == 0


def test_mlp_reserved_code_is_zero_and_bad_codes_read_as_it():
    from skscor.modules import MLP

    torch.manual_seed(0)
    net = MLP(2, 2, hidden_layer_sizes=(4,), embeddings=[7])
    assert net.embeddings[0].weight[0].abs().sum() == 0
    dense = torch.tensor([[0.5]]).repeat(5, 1)
    codes = torch.tensor([[0.0], [-1.0], [7.0], [1e6], [float("nan")]])
    out = net(torch.cat([dense, codes], dim=1))
    for i in range(1, 5):
        torch.testing.assert_close(out[i], out[0])
    assert not torch.equal(net(torch.tensor([[0.5, 3.0]]))[0], out[0])


@pytest.mark.parametrize(
    "n_features, embeddings, match",
    [
        (1, [3, 4], "more than the 1 input features"),
        (3, [(3, 4, 5)], "n_codes or"),
        (3, [0], "n_codes >= 1"),
    ],
)
def test_mlp_embedding_errors(n_features, embeddings, match):
    from skscor.modules import MLP

    with pytest.raises(ValueError, match=match):
        MLP(n_features, 2, embeddings=embeddings)


def test_encoder_and_mlp_learn_a_high_cardinality_categorical(pd):
    from skscor.modules import MLP

    rng = np.random.default_rng(11)
    levels = np.array([f"shop{i:02d}" for i in range(15)])
    df = pd.DataFrame(
        {"shop": levels[rng.integers(0, 15, 600)], "x": rng.normal(size=600)}
    )
    y = np.isin(df["shop"], levels[[1, 4, 7, 9, 13]]).astype(int)  # not ordinal
    enc = TabularEncoder().fit(df)
    assert enc.encodings_ == ["embedding", "robust"]
    X = torch.from_numpy(enc.transform(df))
    torch.manual_seed(0)
    net = MLP(
        X.shape[1], 2, hidden_layer_sizes=(16,), embeddings=enc.embedding_cardinalities_
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    target = torch.from_numpy(y)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), target).backward()
        opt.step()
    accuracy = (net(X).argmax(1) == target).float().mean()
    assert accuracy == 1.0
