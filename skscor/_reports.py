"""Fitted state derived from a training run: curves, diagnostics and warnings.

One helper sets the fitted attributes from the network's history, used by
training and by :func:`skscor._persistence.load_weights` alike, and one hook
builds both fitted reports.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

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
        est.validation_scores_ = [float(row["valid_bacc"]) for row in rows]
        # The restored epoch is the first with the lowest validation loss.
        best = min(rows, key=lambda row: row["valid_loss"], default=None)
        est.best_validation_score_ = None if best is None else float(best["valid_bacc"])
    elif not partial:
        est.validation_scores_ = None
        est.best_validation_score_ = None


def set_reports(est, y_enc, logits):
    """The fitted diagnostics: weight spectra and per-class recall disparity.

    ``y_enc``/``logits`` are the rows the disparity report describes (the
    validation split with early stopping, else a sample of at most
    ``REPORT_ROWS`` training rows); ``None`` leaves the report unset (None).
    """
    est.spectral_report_ = spectral_report(est.net_.module_)
    if y_enc is None:
        est.disparity_report_ = None
        return
    with warnings.catch_warnings():
        # A class absent from these rows is listed in the report's
        # absent_labels; the warning would repeat on every partial_fit.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        est.disparity_report_ = class_disparity(
            est.classes_[y_enc],
            est.classes_[np.argmax(logits, axis=1)],
            labels=est.classes_,
        )


def warn_if_collapsed(est, y_enc, logits):
    """Warn when the training predictions ignore classes or are at chance."""
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
            else f"reaches a training balanced accuracy of {bacc:.3f} (chance "
            f"{chance:.3f})"
        )
        # Suggest only what this estimator does not already do.
        tries = []
        if getattr(est, "class_weight", None) is None:
            tries.append("class_weight='balanced'")
        if getattr(est, "logit_adjustment", None) is None:
            tries.append("logit_adjustment='loss'")
        tries.append(
            "a larger max_iter or learning_rate_init, and scaled features "
            "(StandardScaler)"
        )
        warnings.warn(
            f"{type(est).__name__} {what} on the training data: the network "
            f"collapsed. Try {' or '.join(tries[:-1]) + ', ' if tries[:-1] else ''}"
            f"{tries[-1]}.",
            CollapseWarning,
            stacklevel=6,
        )
