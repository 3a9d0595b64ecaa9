"""Fitted state derived from a training run: curves, diagnostics and warnings.

One helper sets the fitted attributes from the network's history, used by
training and by :func:`skscor._persistence.load_weights` alike; the fitted
reports are computed on first access from the rows a fit kept.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.validation import check_is_fitted

from .exceptions import CollapseWarning
from .metrics import class_disparity
from .spectral import spectral_report

# Rows of the training data the fitted reports and the collapse check look at:
# a bounded, seeded sample keeps their cost independent of the data size.
REPORT_ROWS = 20_000


def set_fitted_state(est, net, *, use_validation, partial, since=0):
    """``n_iter_``, ``loss_curve_``, ``best_loss_`` and validation scores."""
    history = net.history
    est.n_iter_ = len(history)
    est.loss_curve_ = (
        [float(v) for v in history[:, "train_loss"]] if len(history) else []
    )
    est.best_loss_ = min(est.loss_curve_) if est.loss_curve_ else None
    if use_validation:
        # Validation scores of this call only (a warm start may not validate).
        rows = [row for row in history[since:] if "valid_bacc" in row]
        # The scorer's values when ``scoring`` chose the epoch, otherwise the
        # balanced accuracy.
        key = "valid_score" if rows and "valid_score" in rows[0] else "valid_bacc"
        est.validation_scores_ = [float(row[key]) for row in rows]
        # The restored epoch is the first with the lowest selection criterion.
        best = min(rows, key=lambda row: row["valid_criterion"], default=None)
        est.best_validation_score_ = None if best is None else float(best[key])
    elif not partial:
        est.validation_scores_ = None
        est.best_validation_score_ = None


def set_report_rows(est, y_true, y_pred, on):
    """Keep the rows the disparity report describes (encoded labels); reset the
    reports, which are computed on first access (:class:`_ReportsMixin`)."""
    # The smallest integer type that holds the class codes: an ensemble's
    # out-of-fold rows are every training row, kept in a pickled estimator.
    dtype = np.min_scalar_type(max(len(getattr(est, "classes_", ())) - 1, 0))
    est._report_rows = (
        np.asarray(y_true).astype(dtype),
        np.asarray(y_pred).astype(dtype),
        on,
    )
    est._report_cache = {}


class _ReportsMixin:
    """``spectral_report_`` and ``disparity_report_``, computed on first access.

    A fit keeps only the encoded labels and predictions of the rows the
    disparity report describes; the SVDs of the weights and the report itself
    cost nothing until asked for, and are cached until the next fit.
    """

    def _report_store(self):
        check_is_fitted(self, "net_")
        return self.__dict__.setdefault("_report_cache", {})

    @property
    def spectral_report_(self):
        """:class:`skscor.spectral.SpectralReport` of the network's weights."""
        cache = self._report_store()
        if "spectral" not in cache:
            cache["spectral"] = spectral_report(self.net_.module_)
        return cache["spectral"]

    @property
    def disparity_report_(self):
        """:class:`skscor.metrics.DisparityReport` of the rows of the last fit.

        Its ``on`` says which rows: the early-stopping validation split, or a
        sample of at most 20,000 training rows (which flatter the model; pass
        held-out data to :func:`skscor.metrics.class_disparity`).
        """
        cache = self._report_store()
        rows = self.__dict__.get("_report_rows")
        if rows is None:
            return None
        if "disparity" not in cache:
            y_true, y_pred, on = rows
            with warnings.catch_warnings():
                # A class absent from these rows is listed in the report's
                # absent_labels; the warning would repeat on every partial_fit.
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                report = class_disparity(
                    self.classes_[y_true],
                    self.classes_[y_pred],
                    labels=self.classes_,
                )
            report.on = on
            cache["disparity"] = report
        return cache["disparity"]


def warn_if_collapsed(est, y_enc, logits, where="on the training data"):
    """Warn when the predictions ignore classes or are at chance.

    ``where`` names the rows: a sample of the training rows, or (with early
    stopping) the out-of-fold predictions of the rows the members held out.
    """
    present = np.unique(y_enc)
    if present.size < 2:
        return
    pred = np.argmax(logits, axis=1)
    predicted = np.intersect1d(np.unique(pred), present)
    recalls = [np.mean(pred[y_enc == c] == c) for c in present]
    bacc = float(np.mean(recalls))
    chance = 1.0 / present.size
    if predicted.size < present.size or bacc <= chance:
        missing = est.classes_[np.setdiff1d(present, predicted)].tolist()
        what = (
            f"never predicts classes {missing}"
            if missing
            else f"reaches a balanced accuracy of {bacc:.3f} (chance {chance:.3f})"
        )
        # Suggest only what this estimator does not already do.
        tries = []
        if getattr(est, "class_weight", None) is None:
            tries.append("class_weight='balanced'")
        if getattr(est, "logit_adjustment", None) is None:
            tries.append("logit_adjustment='loss'")
        if getattr(est, "preprocessing", None) is None:
            tries.append(
                "a larger max_iter or learning_rate_init, and scaled features "
                "(preprocessing='robust', the default)"
            )
        else:
            tries.append("a larger max_iter or learning_rate_init")
        warnings.warn(
            f"{type(est).__name__} {what} {where}: the network "
            f"collapsed. Try {' or '.join(tries[:-1]) + ', ' if tries[:-1] else ''}"
            f"{tries[-1]}.",
            CollapseWarning,
            stacklevel=6,
        )
