"""Epoch hooks: what the training loop notifies once per epoch.

The loop (``_SkNet.run``) asks the :class:`~skscor._schedules.TrainingPlan`
for the epoch's values and notifies each hook, in skorch's vocabulary, at
``on_epoch_begin(net, values)`` and ``on_epoch_end(net, row, decision)``.
Each hook writes only what it owns, from data it was built with: it never
calls back into the estimator. There are no per-batch notifications: skorch's
per-batch callbacks were measured as a large share of a small step
(benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import torch

from ._balance import Balance


class EpochHook:
    """Base class: both notifications do nothing."""

    def on_epoch_begin(self, net, values: dict) -> None:
        """Before the epoch's batches, with the plan's values for it."""

    def on_epoch_end(self, net, row: dict, decision: str) -> None:
        """After the epoch's history row is written; ``decision`` is the plan's."""


class OptimizerValues(EpochHook):
    """Writes the scheduled learning rate (and SAM's rho) into the param groups."""

    def on_epoch_begin(self, net, values):
        for group in net.optimizer_.param_groups:
            group["lr"] = values["lr"]
            if "rho" in values:
                group["rho"] = values["rho"]


class ClassBalance(EpochHook):
    """Writes the phase's class weights and logit offsets into the criterion.

    Also sets ``net.decision_shift``, the post-hoc adjustment that validation
    scores apply (``-tau * log(prior)`` of the phase), so that early stopping
    judges the decisions that prediction will make. The phase is the final
    one when the plan's values say DRW is on.
    """

    def __init__(self, balance: Balance, posthoc_tau: float | None = None):
        self.balance = balance
        self.posthoc_tau = posthoc_tau
        self._current = None

    def on_epoch_begin(self, net, values):
        final = bool(values.get("drw", False))
        if final == self._current:
            return
        self._current = final
        phase = self.balance.phase(final)
        crit = net.criterion_
        crit.set_class_weight(phase.weight if phase.weighted else None)
        crit.set_logit_offset(phase.offset)
        if self.posthoc_tau:
            shift = -self.posthoc_tau * np.log(phase.prior)
            net.decision_shift = torch.as_tensor(shift, dtype=torch.float32)
        else:
            net.decision_shift = None


class Progress(EpochHook):
    """Prints one line per epoch (``verbose``) and why training stopped."""

    def __init__(self, max_iter: int, n_iter_no_change: int):
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change

    def on_epoch_end(self, net, row, decision):
        parts = [f"epoch {row['epoch']:>4d}", f"loss {row['train_loss']:.5f}"]
        if "valid_bacc" in row:
            parts.append(f"valid balanced accuracy {row['valid_bacc']:.4f}")
            parts.append(f"valid loss {row['valid_loss']:.4f}")
        parts.append(f"lr {row['lr']:.3g}")
        if "rho" in row:
            parts.append(f"rho {row['rho']:.3g}")
        if row.get("drw"):
            parts.append("DRW on")
        parts.append(f"{row['dur']:.2f}s")
        print(" | ".join(parts), flush=True)
        if decision == "switch":
            print("final phase starts next epoch (plateau or schedule)", flush=True)
        elif decision == "stop":
            print(
                "training stopped: the stopping rule saw no improvement by tol "
                f"for {self.n_iter_no_change} epochs",
                flush=True,
            )
        elif row["epoch"] == self.max_iter:
            print(f"training stopped: max_iter={self.max_iter} reached", flush=True)
