"""The imbalance protocols: counts per class, which rows survive, seeds, errors."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils._param_validation import InvalidParameterError

from skscor.datasets import load_imbalanced_digits, long_tail, reduce_classes


def _balanced(sizes, labels=None):
    """X whose only column is the row index, so kept rows can be traced back."""
    labels = list(range(len(sizes))) if labels is None else labels
    parts = [np.full(n, label) for label, n in zip(labels, sizes, strict=True)]
    y = np.concatenate(parts)
    # interleave the classes so that "original order" is not "grouped by class"
    perm = np.random.RandomState(42).permutation(len(y))
    y = y[perm]
    X = np.column_stack([np.arange(len(y)), np.zeros(len(y))])
    return X, y


def _counts(y, labels):
    return [int(np.sum(y == label)) for label in labels]


def _assert_rows_consistent(X, y, X_new, y_new):
    rows = X_new[:, 0].astype(int)
    assert np.all(np.diff(rows) > 0), "rows must keep their original order, once"
    np.testing.assert_array_equal(y_new, y[rows])  # each label stays with its row
    np.testing.assert_array_equal(X_new, X[rows])


# --- reduce_classes -----------------------------------------------------------


@pytest.mark.parametrize(
    "factor, expected",
    [(10, [100, 10, 60, 6]), (3, [100, 33, 60, 20]), (1, [100, 100, 60, 60])],
)
def test_reduce_classes_counts(factor, expected):
    X, y = _balanced([100, 100, 60, 60])
    X_r, y_r = reduce_classes(X, y, [1, 3], factor=factor, random_state=0)
    assert _counts(y_r, [0, 1, 2, 3]) == expected
    _assert_rows_consistent(X, y, X_r, y_r)


def test_reduce_classes_keeps_other_classes_whole():
    X, y = _balanced([30, 40, 50])
    X_r, y_r = reduce_classes(X, y, 1, factor=4, random_state=0)  # a single label
    assert _counts(y_r, [0, 1, 2]) == [30, 10, 50]
    kept = set(X_r[:, 0].astype(int).tolist())
    assert set(np.flatnonzero(y != 1).tolist()) <= kept


def test_reduce_classes_keeps_at_least_one_row():
    X, y = _balanced([50, 3])
    _, y_r = reduce_classes(X, y, [1], factor=1000, random_state=0)
    assert _counts(y_r, [0, 1]) == [50, 1]


def test_reduce_classes_string_labels_and_float_factor():
    X, y = _balanced([20, 20], labels=["cat", "dog"])
    X_r, y_r = reduce_classes(X, y, ["dog"], factor=2.5, random_state=0)
    assert _counts(y_r, ["cat", "dog"]) == [20, 8]
    _assert_rows_consistent(X, y, X_r, y_r)


def test_reduce_classes_seeds():
    X, y = _balanced([100, 100])
    a = reduce_classes(X, y, [0], random_state=7)
    b = reduce_classes(X, y, [0], random_state=np.random.RandomState(7))
    c = reduce_classes(X, y, [0], random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])  # another seed keeps other rows


def test_reduce_classes_errors():
    X, y = _balanced([10, 10])
    with pytest.raises(ValueError, match=r"classes contains labels not in y: \[7\]"):
        reduce_classes(X, y, [0, 7])
    with pytest.raises(ValueError, match="X and y have different lengths: 20 != 19"):
        reduce_classes(X, y[:-1], [0])
    with pytest.raises(ValueError, match="X and y are empty"):
        reduce_classes(X[:0], y[:0], [0])
    for factor in (0.5, True, "10"):
        with pytest.raises(InvalidParameterError, match="'factor' parameter"):
            reduce_classes(X, y, [0], factor=factor)


# --- long_tail ----------------------------------------------------------------


def test_long_tail_counts_follow_the_exponential_profile():
    X, y = _balanced([200] * 5)
    X_lt, y_lt = long_tail(X, y, imbalance_factor=100, random_state=0)
    # 200 * 100 ** (-i / 4), rounded: 200, 63.2, 20, 6.3, 2
    assert _counts(y_lt, range(5)) == [200, 63, 20, 6, 2]
    _assert_rows_consistent(X, y, X_lt, y_lt)


def test_long_tail_n_max_is_the_smallest_class():
    X, y = _balanced([120, 50, 80])
    _, y_lt = long_tail(X, y, imbalance_factor=10, random_state=0)
    # 50 * 10 ** (-i / 2): 50, 15.8, 5
    assert _counts(y_lt, [0, 1, 2]) == [50, 16, 5]


def test_long_tail_order_sets_head_and_tail():
    X, y = _balanced([100, 100, 100], labels=["a", "b", "c"])
    _, y_lt = long_tail(X, y, imbalance_factor=4, order=["c", "a", "b"])
    assert _counts(y_lt, ["c", "a", "b"]) == [100, 50, 25]


@pytest.mark.parametrize("sizes, expected", [([30, 40], [30, 30]), ([25], [25])])
def test_long_tail_degenerate_profiles(sizes, expected):
    X, y = _balanced(sizes)
    factor = 1 if len(sizes) > 1 else 50  # IF=1: flat; one class: kept whole
    _, y_lt = long_tail(X, y, imbalance_factor=factor, random_state=0)
    assert _counts(y_lt, range(len(sizes))) == expected


def test_long_tail_seeds():
    X, y = _balanced([100, 100, 100])
    a = long_tail(X, y, random_state=3)
    b = long_tail(X, y, random_state=3)
    c = long_tail(X, y, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_long_tail_errors():
    X, y = _balanced([10, 10, 10])
    with pytest.raises(ValueError, match="order must list every class of y exactly"):
        long_tail(X, y, order=[0, 1])
    with pytest.raises(ValueError, match="order must list every class of y exactly"):
        long_tail(X, y, order=[0, 1, 5])
    # a repeated label would take two places in the profile
    with pytest.raises(ValueError, match="order must list every class of y exactly"):
        long_tail(X, y, order=[0, 0, 1, 2])
    with pytest.raises(ValueError, match="X and y have different lengths"):
        long_tail(X[:5], y)
    with pytest.raises(InvalidParameterError, match="'imbalance_factor' parameter"):
        long_tail(X, y, imbalance_factor=0.9)
    with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
        long_tail(X, y, random_state="seed")


# --- load_imbalanced_digits ---------------------------------------------------


def test_load_imbalanced_digits_protocol():
    _, y_all = load_digits(return_X_y=True)
    full = np.bincount(y_all)
    data = load_imbalanced_digits(reduced_class=7, factor=4, n_test_per_class=30)
    assert data.reduced_class == 7
    assert np.bincount(data.y_test).tolist() == [30] * 10
    expected = full - 30
    expected[7] = round(expected[7] / 4)
    assert np.bincount(data.y_train).tolist() == expected.tolist()
    assert data.X_train.dtype == np.float32
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    again = load_imbalanced_digits(reduced_class=7, factor=4, n_test_per_class=30)
    np.testing.assert_array_equal(data.X_train, again.X_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)
    with pytest.raises(InvalidParameterError, match="'reduced_class' parameter"):
        load_imbalanced_digits(reduced_class=10)
