"""Per-class decision offsets chosen on out-of-fold predictions.

A network trained with balanced class weights decides by the argmax of logits
that answer for a uniform prior: the decision that maximises balanced
accuracy if the probabilities were exact. Early-stopped networks on noisy
data are not exact, and the argmax measured to leave the rarest class's
recall below the others' on most large imbalanced tasks
(benchmarks/README.md). ``decision_offsets='auto'`` moves the decision by
per-class offsets ``b`` (``argmax(z + b)``) chosen on rows the members did not
train on, maximising balanced accuracy plus worst-class recall.
"""

from __future__ import annotations

import numpy as np

# A recall estimated on fewer held-out rows moves by more than about 0.04
# (its standard error at recall 0.8) from one split to the next: too noisy to
# tune on. Below this count of the rarest class the offsets stay zero
# (measured: tuning on 20-60 minority rows lost worst-class recall on the
# small tasks of benchmarks/README.md, on 260+ it gained on the large ones).
MIN_CLASS_ROWS = 100
# Offsets searched on this grid of logit shifts, 0.05 apart in [-3, 3]
# (exact multiples, so that a stored offset prints as chosen).
GRID = np.arange(-60, 61) / 20.0
ROUNDS = 3


def _criterion(recalls):
    """What the offsets maximise: balanced accuracy plus worst-class recall."""
    return recalls.mean(axis=-1) + recalls.min(axis=-1)


def _recalls_along(logits, y, counts, b, j, grid):
    """Per-class recalls (``len(grid)`` x ``k``) when ``b[j]`` takes each grid value.

    Row ``i`` predicts ``j`` iff ``z_ij + g > M_i`` (``M_i`` its best other
    shifted logit), that is iff ``g > d_i = M_i - z_ij``; otherwise it keeps
    the best other class. So every recall is a count of sorted thresholds:
    ``O(n log n)`` per coordinate instead of an argmax per grid value.
    """
    k = logits.shape[1]
    z = logits + b
    zj = logits[:, j]  # b[j] is what the grid replaces
    z[:, j] = -np.inf
    other = np.argmax(z, axis=1)
    d = z[np.arange(len(z)), other] - zj
    rec = np.empty((len(grid), k))
    mine = np.sort(d[y == j])
    rec[:, j] = np.searchsorted(mine, grid, side="left") / counts[j]
    for c in range(k):
        if c == j:
            continue
        # rows of class c whose best other class is c, kept while g <= d_i
        hit = np.sort(d[(y == c) & (other == c)])
        rec[:, c] = (len(hit) - np.searchsorted(hit, grid, side="left")) / counts[c]
    return rec


def tune_offsets(logits, y, n_classes, *, grid=GRID, rounds=ROUNDS):
    """Per-class offsets maximising balanced accuracy + worst-class recall.

    Coordinate ascent over ``grid`` (for two classes only the second class's
    offset moves: one threshold), ``rounds`` sweeps; among grid values that
    tie for the best score the one nearest zero is kept, the least move the
    held-out rows support. Returns zeros unless every class
    has at least :data:`MIN_CLASS_ROWS` rows in ``y``.

    Parameters
    ----------
    logits : ndarray of shape (n_rows, n_classes)
        Held-out decision logits (or log-probabilities).
    y : ndarray of shape (n_rows,)
        Encoded labels ``0..n_classes-1``.
    n_classes : int

    Returns
    -------
    offsets : ndarray of shape (n_classes,), float64
    """
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    counts = np.bincount(y, minlength=n_classes)
    b = np.zeros(n_classes)
    if n_classes < 2 or counts.min() < MIN_CLASS_ROWS:
        return b
    coords = [1] if n_classes == 2 else range(n_classes)
    for _ in range(rounds):
        moved = False
        for j in coords:
            score = _criterion(_recalls_along(logits, y, counts, b, j, grid))
            best = np.flatnonzero(score >= score.max() - 1e-12)
            g = grid[best[np.argmin(np.abs(grid[best]))]]
            moved |= g != b[j]
            b[j] = g
        if not moved or n_classes == 2:
            break
    return b


# The outputs of predict_proba, each with its own temperature: the default
# and output_prior's two.
OUTPUTS = ("default", "balanced", "training")
# Bounds of a fitted temperature: beyond them a scalar fitted on held-out rows
# is answering a near-separable (or near-random) split, not the model's scale.
TEMPERATURE_BOUNDS = (0.25, 4.0)


def fit_temperature(logits, y, weights, *, bounds=TEMPERATURE_BOUNDS):
    """The temperature ``T`` minimising the weighted log-loss of ``softmax(z / T)``.

    The log-loss of ``softmax(beta z)`` is convex in ``beta = 1 / T`` (a
    log-sum-exp of functions linear in ``beta`` minus a linear one): its
    derivative is increasing, and bisection on it (in ``log beta``) finds the
    one minimum, clipped to ``bounds``. ``T`` rescales every class's logit
    alike: the argmax, and so every decision, is unchanged.

    Parameters
    ----------
    logits : ndarray of shape (n_rows, n_classes)
        Held-out decision logits (or log-probabilities); finite.
    y : ndarray of shape (n_rows,)
        Encoded labels ``0..n_classes-1``.
    weights : ndarray of shape (n_rows,)
        Non-negative row weights (the class weights that make the rows'
        class mix the prior the output answers for).

    Returns
    -------
    temperature : float
    """
    z = np.asarray(logits, dtype=np.float64)
    # a probability that underflowed to 0 (log -inf) stays finite: 0 * inf
    # would be NaN in the slope
    z = np.maximum(z - z.max(axis=1, keepdims=True), -1e4)
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    zy = z[np.arange(len(z)), np.asarray(y)]

    def slope(beta):
        # d/d beta of the weighted mean of logsumexp(beta z) - beta z_y
        s = beta * z
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        return float(w @ ((p * z).sum(axis=1) - zy))

    lo, hi = np.log(1.0 / bounds[1]), np.log(1.0 / bounds[0])
    if slope(np.exp(lo)) >= 0:
        return float(bounds[1])
    if slope(np.exp(hi)) <= 0:
        return float(bounds[0])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if slope(np.exp(mid)) > 0:
            hi = mid
        else:
            lo = mid
    beta = np.exp(0.5 * (lo + hi))
    return float(1.0 / beta)
