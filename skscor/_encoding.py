"""Input encoding for the estimators: labels, weights, devices, seeds, splits."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
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
                "); keep preprocessing='robust' (the default), which scales it, "
                "or scale the features first."
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
    """'auto': about 4 steps per epoch on small data, 32 on large.

    ``n_samples // 4`` within [64, 200] below 800 rows, ``min(200,
    n_samples)`` (MLPClassifier's rule) up to 6,400 and ``n_samples // 32``
    within [200, 1024] above; never more than ``n_samples``. On a few hundred
    rows MLPClassifier's rule makes every epoch one full-batch step, so the
    epoch budget (``max_iter``) ran out before the validation loss settled
    (iris: a ConvergenceWarning on every fold); on large data, fewer and larger
    steps per epoch gave the same quality in about half the fit time
    (benchmarks/README.md). One rule, one place.
    """
    if batch_size != "auto":
        return int(batch_size)
    size = max(min(200, n_samples // 4), min(1024, n_samples // 32))
    return min(n_samples, max(64, size))


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


# A class with fewer training rows than this is too small to hold out: every
# member trains on all of its rows, and each member's stopping rule scores
# them on those rows (where some other class is held out). Holding out one of
# 2-4 rows costs each member a quarter to a half of what it could learn of the
# class; from 5 rows on, the held-out rows keep the stopping rule running
# until the class generalises, which rows scored in-sample do not (a class of
# 8 rows lost up to 0.4 recall when scored in-sample). Chosen by measurement:
# benchmarks/README.md, "Classes too small to hold out".
_MIN_HELD_OUT_ROWS = 5


def member_splits(y_enc, fraction, n_members, seed):
    """Stratified train/validation indices of each ensemble member.

    Each member holds out ``fraction`` of every class with
    ``_MIN_HELD_OUT_ROWS`` or more rows (at least one row, never all of
    them); the held-out slices of successive members are consecutive in one
    seeded permutation per class, so they are disjoint while
    ``n_members * fraction <= 1`` and wrap around otherwise. With
    ``fraction = 1 / n_members`` they are the folds of a stratified k-fold:
    every row of those classes is held out by exactly one member, which gives
    it an out-of-fold prediction.

    The rows of a smaller class are in every member's training rows and in
    every member's validation rows: the stopping rule sees the class (on rows
    it trains on, so it does not stop before the class is learned), and the
    callers' held-out rows (``validation rows minus training rows``) leave it
    out. Where no class reaches ``_MIN_HELD_OUT_ROWS`` (a small data set),
    every class with two or more rows is held out as above, and a class with
    a single row is in the training rows only. A warning names how many
    classes have no held-out row.
    """
    rng = np.random.default_rng(seed)
    n = y_enc.shape[0]
    by_class = [rng.permutation(np.flatnonzero(y_enc == c)) for c in np.unique(y_enc)]
    minimum = _MIN_HELD_OUT_ROWS
    if all(rows.shape[0] < minimum for rows in by_class):
        minimum = 2
    # rows scored in-sample: the classes too small to hold out (with a class
    # held out beside them)
    in_sample = [rows for rows in by_class if rows.shape[0] < minimum]
    scored = (
        np.sort(np.concatenate(in_sample))
        if in_sample and minimum > 2
        else np.empty(0, int)
    )
    splits = []
    for m in range(n_members):
        held = []
        for rows in by_class:
            n_c = rows.shape[0]
            if n_c < minimum:
                continue
            # Slice boundaries rounded, not slice lengths: at fraction 1/k the
            # k slices tile the class exactly.
            start = int(round(m * fraction * n_c))
            q = int(round((m + 1) * fraction * n_c)) - start
            q = min(max(q, 1), n_c - 1)
            held.append(rows[(start + np.arange(q)) % n_c])
        held_idx = np.sort(np.concatenate(held)) if held else np.empty(0, int)
        mask = np.ones(n, dtype=bool)
        mask[held_idx] = False
        splits.append((np.flatnonzero(mask), np.union1d(held_idx, scored)))
    if splits[0][1].size == 0:
        raise ValueError(
            f"early_stopping with validation_fraction={fraction} leaves an empty "
            f"validation split of {n} samples (every class has a single row)."
        )
    if in_sample:
        how = (
            "every member trains on all of them, and the stopping rule scores "
            "them on those rows"
            if scored.size
            else "they have a single training row"
        )
        warnings.warn(
            f"The early-stopping validation split holds out no sample of "
            f"{len(in_sample)} of the {len(by_class)} classes (fewer than "
            f"{minimum} training rows: {how}), so no held-out estimate covers "
            "them; turn early_stopping off to train every member on every row.",
            UserWarning,
            stacklevel=4,
        )
    return splits
