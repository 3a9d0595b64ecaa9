"""Exceptions and warnings raised by skscor."""

from __future__ import annotations

__all__ = ["CollapseWarning", "DivergenceError"]


class DivergenceError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite.

    The estimator is left as it was before the call that diverged: unfitted
    after a first ``fit``, or with its previous weights after ``partial_fit``
    or a warm-started ``fit``.

    Examples
    --------
    >>> from skscor.exceptions import DivergenceError
    >>> issubclass(DivergenceError, FloatingPointError)
    True
    """


class CollapseWarning(UserWarning):
    """Warned when a fitted network ignores classes.

    Raised after ``fit`` when the predictions on the training data cover fewer
    classes than the data holds, or their balanced accuracy is at chance: the
    minority classes were not learned.

    Examples
    --------
    >>> from skscor.exceptions import CollapseWarning
    >>> issubclass(CollapseWarning, UserWarning)
    True
    """
