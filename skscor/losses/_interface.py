"""The one loss interface: a per-batch context, and per-class weights and offsets.

Every skscor loss module is called as ``loss(logits, target, sample_weight=None,
context=None)``. What a loss may need beyond logits and targets comes in an
explicit :class:`BatchContext` (the random generator of the fit, whether the
batch rows are already in random order, the penultimate features) instead of
keyword arguments that only some losses accept.

:class:`ClassWeighted` is the single per-class mechanism an estimator wraps
around its loss: static class weights (``class_weight``, focal ``alpha``),
deferred re-weighting (DRW) and the loss form of logit adjustment all write
its buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import _check_reduction, _per_class_tensor

__all__ = ["BatchContext", "ClassWeighted", "Loss"]


@dataclass
class BatchContext:
    """What a loss may need about the current batch besides logits and targets.

    Parameters
    ----------
    generator : torch.Generator or None, default=None
        The fit's seeded generator (SCoR draws its random split from it).
    shuffled : bool, default=False
        The rows of the batch are already a uniformly random subset in random
        order (a shuffled training batch), so that its two halves are a random
        split without a further permutation.
    features : Tensor of shape (n_samples, n_features) or None, default=None
        Penultimate features of the batch (the input of the module's last
        linear layer), filled in for losses with ``needs_features = True``.
    logit_offset : Tensor of shape (n_classes,) or None, default=None
        The loss form of logit adjustment: added to the logits of the data
        term only (a loss's regularizers see the network's own logits). Set
        by :class:`ClassWeighted` for losses with ``applies_logit_offset``.

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import BatchContext, SCoRLoss
    >>> ctx = BatchContext(generator=torch.Generator().manual_seed(0))
    >>> z, y = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    >>> round(float(SCoRLoss()(z, y, context=ctx)), 4)
    0.6931
    """

    generator: torch.Generator | None = None
    shuffled: bool = False
    features: Tensor | None = None
    logit_offset: Tensor | None = None


class Loss(nn.Module):
    """Base class of skscor's loss modules.

    Subclasses validate their parameters (``reduction`` included) in
    ``__init__`` and implement ``forward(input, target, sample_weight=None,
    context=None)``: ``input`` the logits (Tensor, ``(n, K)``), ``target`` the
    class indices (int64 Tensor, ``(n,)``), ``sample_weight`` None or a Tensor
    ``(n,)`` of non-negative weights, ``context`` None or a
    :class:`BatchContext`; the result is a Tensor (a scalar unless
    ``reduction='none'``). ``needs_features`` declares that the loss reads
    ``context.features``, so that the training loop captures them.
    """

    needs_features: ClassVar[bool] = False

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def selection_loss(self, logits: Tensor, target: Tensor) -> Tensor:
        """Per-row loss that early stopping ranks epochs by (no reduction).

        ``logits`` are the decision rule's. Cross-entropy (log-loss) here;
        the estimator averages it per class and weighs the classes as its
        training does. A loss whose minimiser is not calibrated log-loss
        overrides it with its own data term (the focal loss), so that the kept
        epoch is the one its own objective ranks best on held-out rows.
        """
        return F.cross_entropy(logits, target, reduction="none")

    def decision_logits(self, logits: Tensor) -> Tensor:
        """Map the module's outputs to the logits of the decision rule.

        The identity, except for losses whose training logits rescale the
        module's outputs (LDAM's cosine head is scaled by ``s``): their
        ``predict_proba`` must use the same scale as training.
        """
        return logits


class ClassWeighted(nn.Module):
    """Per-class weights and logit offsets applied around any skscor loss.

    The one per-class mechanism of the estimators: ``class_weight`` (and
    focal ``alpha``) set the weights once, deferred re-weighting (DRW) changes
    them between epochs, and the loss form of logit adjustment sets
    ``logit_offset`` to ``tau * log(pi)`` (balanced softmax at ``tau=1``).

    Parameters
    ----------
    inner : Loss
        A skscor loss.
    n_classes : int
        Number of classes; weights start at one, offsets at zero.

    Attributes
    ----------
    class_weight : Tensor of shape (n_classes,)
        Buffer of per-class weights, multiplied into the per-sample weights.
    logit_offset : Tensor of shape (n_classes,)
        Buffer added to the training logits (not to the decision logits).

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import ClassWeighted, SCoRLoss
    >>> crit = ClassWeighted(SCoRLoss(alpha=0.0), n_classes=2)
    >>> crit.set_class_weight([0.0, 2.0])
    >>> z, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> round(float(crit(z, y)), 4)  # (0 * l0 + 2 * l1) / 2 with l = log 2
    0.6931
    """

    class_weight: Tensor
    logit_offset: Tensor

    def __init__(self, inner: nn.Module, n_classes: int) -> None:
        super().__init__()
        # Buffers first: registering checks hasattr, which would otherwise
        # find the inner loss's attribute of the same name (VS's logit_offset).
        self.register_buffer("class_weight", torch.ones(n_classes))
        self.register_buffer("logit_offset", torch.zeros(n_classes))
        self.inner = inner
        # Python flags, not tensor tests, so the hot path never syncs.
        self._weighted = False
        self._offset = False

    @property
    def weighted(self) -> bool:
        """Whether some class weight differs from one (read without a sync)."""
        return self._weighted

    @property
    def needs_features(self) -> bool:
        return getattr(self.inner, "needs_features", False)

    def __getattr__(self, name):
        # A transparent wrapper: the inner loss's state (MR2's moving averages,
        # LDAM's margins) reads as ``net_.criterion_.ema_m`` and so on.
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "inner":
                raise
            return getattr(super().__getattr__("inner"), name)

    @torch.no_grad()
    def set_class_weight(self, weight) -> None:
        """Replace the per-class weights (``None``: all ones)."""
        n = self.class_weight.shape[0]
        if weight is None:
            self.class_weight.fill_(1.0)
            self._weighted = False
            return
        w = _per_class_tensor("class_weight", weight, n)
        self.class_weight.copy_(w.to(self.class_weight))
        self._weighted = bool((w != 1).any())

    @torch.no_grad()
    def set_logit_offset(self, offset) -> None:
        """Replace the per-class training logit offsets (``None``: zeros)."""
        if offset is None:
            self.logit_offset.zero_()
            self._offset = False
            return
        t = torch.as_tensor(offset, dtype=torch.float64)
        if t.shape != self.logit_offset.shape or not bool(torch.isfinite(t).all()):
            raise ValueError(
                f"logit_offset must hold {self.logit_offset.shape[0]} finite values."
            )
        self.logit_offset.copy_(t.to(self.logit_offset))
        self._offset = bool((t != 0).any())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        # Loaded buffers (weights files, snapshots) re-derive the fast-path flags.
        self._weighted = bool((self.class_weight != 1).any())
        self._offset = bool((self.logit_offset != 0).any())

    def decision_logits(self, logits: Tensor) -> Tensor:
        return self.inner.decision_logits(logits)

    def selection_loss(self, logits: Tensor, target: Tensor) -> Tensor:
        # the inner loss's own rule; the class weights enter per class in the
        # estimator's selection criterion, not per row here
        return self.inner.selection_loss(logits, target)

    def forward(self, input: Tensor, target: Tensor, sample_weight=None, context=None):
        if self._offset:
            offset = self.logit_offset.to(input.dtype)
            if getattr(self.inner, "applies_logit_offset", False):
                # The offset belongs to the data term: SCoR's penalty and MR2's
                # temperature must see the network's own logits.
                base = context if context is not None else BatchContext()
                context = replace(base, logit_offset=offset)
            else:
                input = input + offset
        if self._weighted:
            w = self.class_weight[target].to(input.dtype)
            sample_weight = w if sample_weight is None else w * sample_weight
        return self.inner(input, target, sample_weight=sample_weight, context=context)
