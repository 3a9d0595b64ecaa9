"""Training phases and the schedules defined on them.

The papers' recipes (LDAM-DRW, SAM on imbalanced data) train for a fixed budget
of ``T`` epochs and switch phases at fixed epochs: deferred re-weighting (DRW),
a learning-rate decay and a larger SAM radius start at ``0.8 T``. skscor stops
by a tolerance rule instead, so a phase defined on ``T`` alone never starts when
training converges early. Here every schedule reads a *schedule time*:

- main phase: schedule time is the epoch, until the loss plateaus (the
  stopping rule fires) or the epoch reaches ``switch * T``;
- at the switch, schedule time jumps to ``switch * T`` and the final phase
  begins: DRW on, the learning rate and rho take their final-phase values;
- the final phase runs at least its share of the budget, ``(1 - switch) * T``
  epochs (capped by what ``max_iter`` leaves), with schedule time advancing so
  that the share spans ``[switch * T, T)``; then the stopping rule may end it,
  comparing losses within the phase only (the weighting changed at the switch).

A fit that runs to ``max_iter`` without converging sees exactly the fixed-budget
schedules of the papers.
"""

from __future__ import annotations

import math

from .optim import rho_schedule

# Decay factors of learning_rate='step' at schedule times 0.8 T and 0.9 T
# (the LDAM-DRW recipe's x0.01 / x0.0001 are for SGD at lr 0.1; these keep
# Adam's default 1e-3 within a useful range).
_LR_STEPS = ((0.8, 0.1), (0.9, 0.01))
_ADAPTIVE_FACTOR = 5.0
_ADAPTIVE_MAX_CUTS = 3


class TrainingPlan:
    """Decide, epoch by epoch, the learning rate, rho, DRW and when to stop.

    Parameters
    ----------
    max_iter : int
        The epoch budget ``T``.
    lr : float
        ``learning_rate_init``.
    learning_rate : {'constant', 'step', 'cosine', 'adaptive'}
        Learning-rate schedule.
    warmup_epochs : int
        Linear warm-up epochs (schedule time).
    rho : float or None
        SAM's radius (``None``: not SAM).
    rho_kind : str
        SAM's rho schedule ('constant', 'linear', 'step').
    rho_max : float
        End of the linear rho schedule.
    drw : bool
        Deferred re-weighting in the final phase.
    switch : float
        Fraction of ``T`` at which the final phase starts at the latest.
    convergence : bool
        Whether a stopping rule runs (``False`` for ``partial_fit``: phases
        follow the epoch count alone).
    """

    def __init__(
        self,
        *,
        max_iter,
        lr,
        learning_rate="constant",
        warmup_epochs=0,
        rho=None,
        rho_kind="constant",
        rho_max=0.8,
        drw=False,
        switch=0.8,
        convergence=True,
    ):
        self.T = int(max_iter)
        self.lr0 = float(lr)
        self.learning_rate = learning_rate
        self.warmup = int(warmup_epochs)
        self.rho_sched = (
            None
            if rho is None
            else rho_schedule(rho_kind, rho=rho, rho_max=rho_max, max_iter=self.T)
        )
        self.drw = bool(drw)
        self.switch_time = min(self.T, max(1, round(switch * self.T)))
        self.has_phases = bool(
            drw
            or learning_rate in ("step", "cosine")
            or (rho is not None and rho_kind != "constant")
        )
        self.final_share = max(0, self.T - self.switch_time)
        self.convergence = convergence
        self.switch_epoch = None  # epoch index (in this run) of the switch
        self.lr_cuts = 0
        self.stop_reason = None

    # ------------------------------------------------------------ time
    def schedule_time(self, epoch):
        """Schedule time of this run's ``epoch`` (0-based, may be fractional)."""
        if not self.has_phases or self.switch_epoch is None:
            return float(epoch)
        into = epoch - self.switch_epoch
        if self.final_share == 0:
            return float(self.switch_time)
        share = max(1, min(self.final_share, self.T - self.switch_epoch))
        return self.switch_time + min(into, share) * self.final_share / share

    def in_final_phase(self, epoch):
        if not self.has_phases:
            return False
        if self.switch_epoch is None:
            return False
        return epoch >= self.switch_epoch

    # ------------------------------------------------------------ values
    def values(self, epoch):
        """``{'lr', 'rho', 'drw'}`` for ``epoch`` of this run."""
        t = self.schedule_time(epoch)
        final = self.in_final_phase(epoch) or (
            not self.convergence and self.has_phases and t >= self.switch_time
        )
        lr = self.lr0
        if self.learning_rate == "step":
            for at, factor in _LR_STEPS:
                if t >= at * self.T:
                    lr = self.lr0 * factor
        elif self.learning_rate == "cosine":
            lr = self.lr0 * 0.5 * (1.0 + math.cos(math.pi * min(t, self.T) / self.T))
        elif self.learning_rate == "adaptive":
            lr = self.lr0 / _ADAPTIVE_FACTOR**self.lr_cuts
        if t < self.warmup:
            # The LDAM-DRW reference: lr * epoch / W for epochs 1..W, so the
            # last warm-up epoch reaches the full rate.
            lr = lr * (math.floor(t) + 1) / self.warmup
        out = {"lr": lr, "drw": bool(self.drw and final)}
        if self.rho_sched is not None:
            out["rho"] = self.rho_sched(min(int(t), self.T - 1))
        return out

    # ------------------------------------------------------------ decisions
    def may_stop(self, epoch):
        """Whether the stopping rule may end training after ``epoch``."""
        if not self.convergence or epoch + 1 <= self.warmup:
            return False
        if not self.has_phases:
            return True
        if self.switch_epoch is None:
            return True  # a plateau now triggers the switch, not a stop
        share = min(self.final_share, self.T - self.switch_epoch)
        return epoch + 1 - self.switch_epoch >= share

    def after_epoch(self, epoch, plateau):
        """Return 'continue', 'switch' (final phase from the next epoch) or 'stop'."""
        if not self.convergence:
            if self.has_phases and self.switch_epoch is None:
                if self.schedule_time(epoch + 1) >= self.switch_time:
                    self.switch_epoch = epoch + 1
            return "continue"
        pending = self.has_phases and self.switch_epoch is None
        # A plateau while the learning rate still ramps up is no plateau: it
        # would start the final phase (and end the warm-up) too early.
        plateau = plateau and epoch + 1 > self.warmup
        if pending and (plateau or epoch + 1 >= self.switch_time):
            self.switch_epoch = epoch + 1
            return "switch"
        if plateau and self.may_stop(epoch):
            if self.learning_rate == "adaptive" and self.lr_cuts < _ADAPTIVE_MAX_CUTS:
                self.lr_cuts += 1
                return "switch"  # a new learning rate: the patience restarts
            self.stop_reason = "converged"
            return "stop"
        return "continue"

    def phase_warning(self, n_epochs):
        """A message when a phase could not run in ``n_epochs``, else None."""
        if not self.has_phases:
            return None
        if self.switch_epoch is None or self.switch_epoch >= n_epochs:
            return (
                f"the final training phase (DRW, learning-rate decay or rho "
                f"increase) never started in {n_epochs} epochs; raise max_iter "
                f"(now {self.T})."
            )
        if self.final_share == 0:
            return (
                f"max_iter={self.T} leaves no epochs for the final training "
                "phase; raise max_iter."
            )
        return None
