"""Input encoding for the estimators: labels, weights, devices, seeds, splits."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X: np.ndarray) -> None:
    """Refuse values that become infinite in the network's float32.

    ``validate_data`` keeps float64 input as float64 and checks it for NaN and
    inf in float64; the cast at the torch boundary then turns ``|x| > 3.4e38``
    into inf, which gave NaN probabilities at predict time without an error.
    """
    if X.dtype == np.float64 and X.size:
        largest = max(X.max(), -X.min())
        if largest > _FLOAT32_MAX:
            raise ValueError(
                "Input X contains a value too large for dtype('float32'), the "
                f"precision the network computes in (largest magnitude {largest:.3g}"
                "); scale the features, e.g. with StandardScaler."
            )


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but CUDA is not available on this "
            "machine; use device='auto' or device='cpu'."
        )
    return device


def draw_seed(random_state) -> int:
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def resolve_batch_size(batch_size, n_samples: int) -> int:
    """'auto' is ``min(200, n_samples)``, as in MLPClassifier (one rule, one place)."""
    return min(200, n_samples) if batch_size == "auto" else int(batch_size)


def encode_labels(est, y, classes, first: bool) -> np.ndarray:
    """Set ``classes_`` on a first call; return ``y`` as indices into it."""
    if first:
        if classes is None:
            classes = np.unique(y)
        else:
            classes = np.unique(np.asarray(classes))
            # partial_fit accepts single-class chunks, so the declared labels
            # must make a classification problem on their own.
            if classes.size < 2:
                raise ValueError(
                    f"classes must hold at least 2 labels, got {classes.tolist()}."
                )
        est.classes_ = classes
        est.n_classes_ = len(classes)
    unknown = np.setdiff1d(np.unique(y), est.classes_)
    if unknown.size:
        raise ValueError(
            f"y contains labels {unknown.tolist()} that are not in classes_ "
            f"{est.classes_.tolist()}."
        )
    return np.searchsorted(est.classes_, y)


def class_weight_vector(classes, class_weight, counts) -> np.ndarray | None:
    """Per-class loss weights from ``class_weight`` ('balanced', dict or None).

    'balanced' is ``n_samples / (n_classes * n_c)`` over the classes present in
    ``counts`` (an absent class gets 0: it has no rows to weigh). Returns
    ``None`` for no weighting.
    """
    if class_weight is None:
        return None
    n_classes = len(classes)
    if isinstance(class_weight, str):  # 'balanced' (validated by the estimator)
        present = counts > 0
        per_class = np.zeros(n_classes)
        per_class[present] = counts.sum() / (present.sum() * counts[present])
        return per_class
    per_class = np.ones(n_classes)
    labels = classes.tolist()
    unknown = set(class_weight) - set(labels)
    if unknown:
        raise ValueError(
            f"class_weight has keys {sorted(unknown, key=str)} that are not class "
            f"labels {labels}."
        )
    for label, weight in class_weight.items():
        # NaN passes a "< 0" test; inf makes the normalized weights NaN; a
        # string failed with a bare TypeError from the comparison.
        if not isinstance(weight, Real) or not np.isfinite(weight) or weight < 0:
            raise ValueError(
                "class_weight must be finite and non-negative, got "
                f"{weight!r} for class {label!r}."
            )
        per_class[np.searchsorted(classes, label)] = weight
    return per_class


def sample_weights(X, y_enc, sample_weight, class_weight, classes, *, partial):
    """Validated per-sample weights normalized to mean one (``None``: all ones).

    ``class_weight`` (a per-class vector or None) is applied by the loss, but
    must leave samples of two classes with positive weight.
    """
    sw = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    effective = sw if class_weight is None else sw * class_weight[y_enc]
    if not effective.sum() > 0:
        raise ValueError("sample_weight (times class_weight) sums to zero.")
    positive = np.unique(y_enc[effective > 0])
    # partial_fit chunks may hold a single class (classes is declared up
    # front, as for scikit-learn's incremental estimators); fit may not.
    if positive.size < 2 and not partial:
        raise ValueError(
            "The classifier needs samples of at least 2 classes with positive "
            f"weight; only class {classes[positive].tolist()} has any."
        )
    sw = sw * (len(sw) / sw.sum())
    # All-equal weights are no weights: the losses then take their fused path.
    return None if np.all(sw == 1.0) else sw


def validation_split(y_enc, fraction, seed):
    """Stratified train/validation indices; warn when the split lacks a class."""
    n = y_enc.shape[0]
    kw = {"n_splits": 1, "test_size": fraction, "random_state": seed}
    try:
        train_idx, valid_idx = next(
            StratifiedShuffleSplit(**kw).split(np.zeros(n), y_enc)
        )
    except ValueError:
        # Too few members in some class to stratify: fall back to a plain split.
        train_idx, valid_idx = next(ShuffleSplit(**kw).split(np.zeros(n)))
    if len(train_idx) == 0 or len(valid_idx) == 0:
        raise ValueError(
            f"early_stopping with validation_fraction={fraction} leaves an empty "
            f"split of {n} samples."
        )
    present = np.unique(y_enc)
    missing = np.setdiff1d(present, y_enc[valid_idx])
    if missing.size:
        warnings.warn(
            f"The early-stopping validation split ({len(valid_idx)} rows) holds no "
            f"sample of {missing.size} of the {present.size} classes, so its "
            "balanced accuracy ignores them; raise validation_fraction or turn "
            "early_stopping off.",
            UserWarning,
            stacklevel=4,
        )
    return train_idx, valid_idx
