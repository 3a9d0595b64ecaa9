"""Validation helpers shared by skscor's public functions.

Checks of one parameter's type and range are declared with scikit-learn's
``validate_params`` decorator (see :class:`StrictInterval`); what it cannot
express -- lengths that must agree, labels that must be known -- lives here,
with one message style: the offending argument's name comes first.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError


class StrictInterval(Interval):
    """scikit-learn's ``Interval``, except that ``True``/``False`` are not numbers.

    ``bool`` subclasses ``int``, so ``Interval(Integral, 1, None, ...)`` accepts
    ``k=True`` as 1; for a count or a tolerance that is a bug in the caller,
    so it is rejected. Everything else (error text, the invalid values that
    ``generate_invalid_param_val`` makes for tests) is inherited.

    Examples
    --------
    >>> from numbers import Integral
    >>> from skscor.utils._validation import StrictInterval
    >>> positive = StrictInterval(Integral, 1, None, closed="left")
    >>> positive.is_satisfied_by(3), positive.is_satisfied_by(True)
    (True, False)
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


def invalid_parameter(
    name: str, caller: str, expected: str, value: object
) -> InvalidParameterError:
    """The error ``validate_params`` raises, for a check it cannot express.

    Returns the exception (the caller raises it) so that tracebacks point at
    the check, with the same text as scikit-learn's:
    ``The 'name' parameter of caller must be expected. Got value instead.``

    Examples
    --------
    >>> from skscor.utils._validation import invalid_parameter
    >>> str(invalid_parameter("which", "f", "'max' or 'min'", "mid"))
    "The 'which' parameter of f must be 'max' or 'min'. Got 'mid' instead."
    """
    return InvalidParameterError(
        f"The {name!r} parameter of {caller} must be {expected}. Got {value!r} instead."
    )


def check_paired(**arrays) -> None:
    """Raise a ValueError unless two arrays have the same, non-zero length.

    Parameters
    ----------
    **arrays
        Exactly two arrays (anything with ``len``), named as the caller's
        arguments so that the message names them.

    Raises
    ------
    ValueError
        ``"X and y have different lengths: 3 != 2"`` or ``"X and y are empty"``.

    Examples
    --------
    >>> from skscor.utils._validation import check_paired
    >>> check_paired(X=[[0], [1]], y=[0, 1])
    >>> check_paired(X=[[0], [1]], y=[0])
    Traceback (most recent call last):
    ...
    ValueError: X and y have different lengths: 2 != 1
    """
    (first, a), (second, b) = arrays.items()
    if len(a) != len(b):
        raise ValueError(
            f"{first} and {second} have different lengths: {len(a)} != {len(b)}"
        )
    if len(a) == 0:
        raise ValueError(f"{first} and {second} are empty")


def check_known_labels(
    values: Iterable, known: Iterable, *, name: str, where: str
) -> None:
    """Raise a ValueError naming the labels of ``values`` that are not in ``known``.

    Parameters
    ----------
    values : iterable of hashable
        Labels given by the caller.
    known : iterable of hashable
        The labels that exist.
    name : str
        Argument that holds ``values``, for the message.
    where : str
        What ``known`` is, for the message (``"y"``, ``"estimator.classes_"``).

    Raises
    ------
    ValueError
        ``"<name> contains labels not in <where>: [...] (known: [...])"``, the
        unknown labels in order of first appearance.

    Examples
    --------
    >>> from skscor.utils._validation import check_known_labels
    >>> check_known_labels([0, 5, 5], [0, 1], name="classes", where="y")
    Traceback (most recent call last):
    ...
    ValueError: classes contains labels not in y: [5] (known: [0, 1])
    """
    known = list(known)
    known_set = set(known)
    unknown = list(dict.fromkeys(v for v in values if v not in known_set))
    if unknown:
        raise ValueError(
            f"{name} contains labels not in {where}: {unknown} (known: {known})"
        )
