"""Imbalance protocols and the embedded demo data set.

The protocols follow the SCoR and SAM papers: cut some classes of a balanced
set to a fraction in training (test set kept balanced), or give the classes a
long-tailed (exponential) profile ``n_i = n_max * IF^(-i / (K - 1))``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import validate_params

from .utils._validation import StrictInterval, check_known_labels, check_paired

__all__ = ["reduce_classes", "long_tail", "load_imbalanced_digits"]

_XY_CONSTRAINTS = {
    "X": ["array-like"],
    "y": ["array-like"],
    "random_state": ["random_state"],
}
_FACTOR = StrictInterval(Real, 1, None, closed="left")


def _check_xy(X, y):
    X = np.asarray(X)
    y = np.asarray(y)
    check_paired(X=X, y=y)
    return X, y


def _subsample(X, y, keep_per_class: dict, random_state):
    rng = check_random_state(random_state)
    keep = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        n_keep = keep_per_class.get(label, idx.size)
        keep.append(np.sort(rng.choice(idx, size=n_keep, replace=False)))
    keep = np.sort(np.concatenate(keep))
    return X[keep], y[keep]


@validate_params(
    {**_XY_CONSTRAINTS, "classes": ["array-like", Real, str], "factor": [_FACTOR]},
    prefer_skip_nested_validation=True,
)
def reduce_classes(X, y, classes, *, factor=10, random_state=None):
    """Keep ``1/factor`` of the rows of each class in ``classes``.

    The SCoR paper's protocol: a balanced training set with some classes cut,
    the test set left balanced. Other classes keep all their rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.
    y : array-like of shape (n_samples,)
        Class labels.
    classes : label or sequence of labels
        Classes to reduce; each must occur in ``y``.
    factor : float, default=10
        Reduction factor (>= 1): a class of ``n`` rows keeps
        ``max(1, round(n / factor))`` of them.
    random_state : int, RandomState instance or None, default=None
        Seeds which rows are kept.

    Returns
    -------
    X_reduced, y_reduced : ndarray
        The kept rows, in their original order.

    See Also
    --------
    long_tail : An exponential profile over all classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skscor.datasets import reduce_classes
    >>> X, y = np.zeros((40, 2)), np.repeat([0, 1], 20)
    >>> _, y_r = reduce_classes(X, y, classes=[1], factor=10, random_state=0)
    >>> np.bincount(y_r).tolist()
    [20, 2]
    """
    X, y = _check_xy(X, y)
    classes = np.atleast_1d(classes)
    check_known_labels(
        classes.tolist(), np.unique(y).tolist(), name="classes", where="y"
    )
    keep = {c: max(1, int(round(np.sum(y == c) / factor))) for c in classes.tolist()}
    return _subsample(X, y, keep, random_state)


@validate_params(
    {**_XY_CONSTRAINTS, "imbalance_factor": [_FACTOR], "order": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def long_tail(X, y, *, imbalance_factor=10, order=None, random_state=None):
    """Subsample to a long-tailed class profile.

    Class ``i`` (in ``order``) keeps ``n_max * IF^(-i / (K - 1))`` rows, where
    ``n_max`` is the size of the smallest class (so every class can supply its
    quota) and ``IF`` the imbalance factor.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.
    y : array-like of shape (n_samples,)
        Class labels.
    imbalance_factor : float, default=10
        Ratio between the largest and the smallest class (>= 1).
    order : sequence of labels, default=None
        Head-to-tail order of the classes, each class of ``y`` exactly once;
        ``None`` uses the sorted labels.
    random_state : int, RandomState instance or None, default=None
        Seeds which rows are kept.

    Returns
    -------
    X_lt, y_lt : ndarray
        The kept rows, in their original order; class ``i`` keeps
        ``max(1, round(n_max * IF^(-i / (K - 1))))`` of them.

    See Also
    --------
    reduce_classes : Cut chosen classes by one factor.

    Examples
    --------
    >>> import numpy as np
    >>> from skscor.datasets import long_tail
    >>> X, y = np.zeros((300, 2)), np.repeat([0, 1, 2], 100)
    >>> _, y_lt = long_tail(X, y, imbalance_factor=10, random_state=0)
    >>> np.bincount(y_lt).tolist()
    [100, 32, 10]
    """
    X, y = _check_xy(X, y)
    classes = np.unique(y)
    labels = classes if order is None else np.asarray(order)
    # a repeated label would take two places in the profile and shift the tail
    if len(labels) != len(classes) or set(labels.tolist()) != set(classes.tolist()):
        raise ValueError(
            "order must list every class of y exactly once; got "
            f"{labels.tolist()} for classes {classes.tolist()}"
        )
    n_max = min(int(np.sum(y == c)) for c in labels)
    k = len(labels)
    keep = {
        c: max(1, int(round(n_max * imbalance_factor ** (-i / max(k - 1, 1)))))
        for i, c in enumerate(labels.tolist())
    }
    return _subsample(X, y, keep, random_state)


@validate_params(
    {
        "reduced_class": [StrictInterval(Integral, 0, 9, closed="both")],
        "factor": [_FACTOR],
        "n_test_per_class": [StrictInterval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_imbalanced_digits(
    *, reduced_class=3, factor=10, n_test_per_class=50, random_state=0
):
    """Digits with one class cut in training and a balanced test split.

    The embedded default of ``python -m skscor demo``: scikit-learn's bundled
    8x8 digits (1797 images, 10 classes), pixels scaled to [0, 1],
    ``n_test_per_class`` test images per class, and the training rows of
    ``reduced_class`` cut by ``factor``.

    Parameters
    ----------
    reduced_class : int, default=3
        Digit to reduce in training.
    factor : float, default=10
        Reduction factor.
    n_test_per_class : int, default=50
        Test images per class (balanced test set).
    random_state : int, RandomState instance or None, default=0
        Seeds the split and the reduction.

    Returns
    -------
    data : Bunch
        ``X_train, X_test, y_train, y_test, reduced_class``.

    Examples
    --------
    >>> import numpy as np
    >>> from skscor.datasets import load_imbalanced_digits
    >>> d = load_imbalanced_digits(random_state=0)
    >>> int(np.bincount(d.y_train)[3]), int(np.bincount(d.y_test)[3])
    (13, 50)
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = check_random_state(random_state)
    test = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == c), size=n_test_per_class, replace=False)
            for c in np.unique(y)
        ]
    )
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    X_train, y_train = reduce_classes(
        X[~mask], y[~mask], [reduced_class], factor=factor, random_state=rng
    )
    return Bunch(
        X_train=X_train,
        X_test=X[mask],
        y_train=y_train,
        y_test=y[mask],
        reduced_class=reduced_class,
    )
