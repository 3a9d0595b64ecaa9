"""The public estimators: each adds its own hyperparameters and loss."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from . import _docs
from ._base import _BaseNetClassifier
from .losses import SCoRLoss

__all__ = ["SCoRClassifier"]


class SCoRClassifier(_BaseNetClassifier):
    __doc__ = f"""Neural classifier trained with the SCoR loss.

    Cross-entropy plus a stochastic covariance regularizer on the batch logits,
    ``alpha * ||A^T B||_F``, with ``A`` and ``B`` a fresh random split of the
    batch into halves. It needs no class counts and no class-dependent
    hyperparameters.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the covariance penalty; ``0`` gives plain cross-entropy.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy term (SCoR+LS uses 0.1).
    {_docs.BASE_PARAMS}

    Attributes
    ----------
    {_docs.ATTRIBUTES}

    See Also
    --------
    skscor.losses.scor_loss : The loss, as a torch function.

    Notes
    -----
    Per batch of logits :math:`Z \\in R^{{B\\times C}}`:

    .. math::

        L = \\frac{{1}}{{B}} \\sum_i w_i\\,\\mathrm{{CE}}(z_i, y_i)
            + \\alpha\\,\\|A^\\top B\\|_F

    where a fresh permutation (drawn from the estimator's seeded generator)
    splits the batch into halves :math:`A, B`; an odd batch uses
    :math:`\\|Z^\\top Z\\|_F`. The norm is not squared and not divided by the
    batch size.

    References
    ----------
    .. [1] SCoR: stochastic covariance regularization of the logits for
       class-imbalanced learning, ICANN 2025.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skscor import SCoRClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SCoRClassifier(hidden_layer_sizes=(32,), max_iter=50,
    ...                      random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _parameter_constraints = {
        **_BaseNetClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        alpha=1e-4,
        label_smoothing=0.0,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        optimizer="adam",
        learning_rate_init=1e-3,
        weight_decay=0.0,
        momentum=0.9,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        module=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            optimizer=optimizer,
            learning_rate_init=learning_rate_init,
            weight_decay=weight_decay,
            momentum=momentum,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            module=module,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.alpha = alpha
        self.label_smoothing = label_smoothing

    def _make_criterion(self, class_counts):
        return SCoRLoss(alpha=self.alpha, label_smoothing=self.label_smoothing)
