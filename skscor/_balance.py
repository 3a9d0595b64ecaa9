"""The one class-weight resolver: per-class weights, offsets and priors per phase.

Every per-class decision of a fit is made here, once per ``fit`` or
``partial_fit`` call, from the class counts and the estimator's request:

- the loss's per-class weights of each training phase (``class_weight``,
  Focal's ``alpha``, and DRW's deferral to the final phase);
- the class prior the loss trains under in each phase (frequencies times
  weights), which is what logit adjustment corrects for;
- the loss form's training logit offsets ``tau * log(prior)``.

Consumers read the result (:class:`Balance`); nothing recomputes it. Because
the prior already includes the phase's weights, DRW and logit adjustment
correct once: after the DRW switch the weighted prior is about uniform, so
the offsets become about constant (no further correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PhaseBalance:
    """Per-class state of one training phase.

    Attributes
    ----------
    weight : ndarray of shape (n_classes,)
        Per-class loss weights, scaled so that the weighted rows have mean
        weight one (all ones: no weighting).
    prior : ndarray of shape (n_classes,)
        The class prior the loss trains under: class mass times ``weight``,
        normalized. A class without rows yet takes the largest prior of the
        others, so that logit adjustment never boosts a class it has not seen.
    offset : ndarray of shape (n_classes,) or None
        Training logit offsets of the loss form of logit adjustment.
    """

    weight: np.ndarray
    prior: np.ndarray
    offset: np.ndarray | None

    @property
    def weighted(self) -> bool:
        return bool(np.any(self.weight != 1.0))


@dataclass(frozen=True)
class Balance:
    """The two phases' per-class state (equal unless weighting is deferred)."""

    main: PhaseBalance
    final: PhaseBalance

    def phase(self, final: bool) -> PhaseBalance:
        return self.final if final else self.main


def _prior(mass: np.ndarray, weight: np.ndarray) -> np.ndarray:
    m = mass * weight
    if not np.any(m > 0):
        return np.full(mass.shape, 1.0 / mass.size)
    # An absent class (no rows, or a zero weight) gets the largest prior of
    # the present ones: its log prior then never exceeds theirs, so the
    # post-hoc shift cannot favour it (a floor of 1e-12 shifted it by 27.6).
    m = np.where(m > 0, m, m.max())
    return m / m.sum()


def _scaled(weight: np.ndarray | None, mass: np.ndarray) -> np.ndarray:
    """Scale per-class weights to mean one over the rows of ``mass``."""
    if weight is None:
        return np.ones_like(mass)
    total = float((weight * mass).sum())
    return weight * mass.sum() / total if total > 0 else weight.astype(float)


def _phase(weight, mass, logit_adjustment, tau) -> PhaseBalance:
    w = _scaled(weight, mass)
    prior = _prior(mass, w)
    offset = tau * np.log(prior) if logit_adjustment == "loss" and tau > 0 else None
    return PhaseBalance(weight=w, prior=prior, offset=offset)


def resolve_balance(
    mass: np.ndarray,
    weight: np.ndarray | None,
    *,
    final_weight: np.ndarray | None = None,
    deferred: bool = False,
    logit_adjustment: str | None = None,
    tau: float = 1.0,
) -> Balance:
    """Resolve one call's per-class weights, priors and offsets.

    Parameters
    ----------
    mass : ndarray of shape (n_classes,)
        Per-class mass of the training rows: the class counts times the mean
        sample weight of each class (sample weights normalized to mean one),
        accumulated over ``partial_fit`` calls.
    weight : ndarray of shape (n_classes,) or None
        The requested static weights (``class_weight``, Focal's ``alpha``).
    final_weight : ndarray or None, default=None
        With ``deferred``, the final phase's weights (DRW's effective-number
        weights); ``None`` takes ``weight``.
    deferred : bool, default=False
        Deferred re-weighting: no weights in the main phase.
    logit_adjustment : {'loss', 'post-hoc'} or None, default=None
        The loss form sets training offsets from each phase's prior.
    tau : float, default=1.0
        Strength of the logit adjustment.

    Returns
    -------
    Balance

    Examples
    --------
    >>> import numpy as np
    >>> from skscor._balance import resolve_balance
    >>> b = resolve_balance(np.array([90.0, 10.0]), np.array([1 / 1.8, 1 / 0.2]))
    >>> b.main.weight.round(3), b.main.prior.round(3)
    (array([0.556, 5.   ]), array([0.5, 0.5]))
    """
    mass = np.asarray(mass, dtype=float)
    final = _phase(
        final_weight if (deferred and final_weight is not None) else weight,
        mass,
        logit_adjustment,
        tau,
    )
    if not deferred:
        return Balance(main=final, final=final)
    return Balance(main=_phase(None, mass, logit_adjustment, tau), final=final)
