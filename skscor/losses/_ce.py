"""Cross-entropy as a named skscor loss: the baseline every method is compared with."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ._common import _check_label_smoothing, _reduce
from ._interface import Loss

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Loss):
    """Cross-entropy on logits with the skscor loss interface.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        Label smoothing in ``[0, 1)``.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction over the samples; ``mean`` is ``(w * l).mean()`` with
        sample weights (not renormalized per batch).

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import CrossEntropyLoss
    >>> z, y = torch.zeros(2, 3), torch.tensor([0, 2])
    >>> round(float(CrossEntropyLoss()(z, y)), 4)  # log 3
    1.0986
    """

    applies_logit_offset = True

    def __init__(self, label_smoothing: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def forward(self, input: Tensor, target: Tensor, sample_weight=None, context=None):
        if context is not None and context.logit_offset is not None:
            input = input + context.logit_offset
        if sample_weight is None and self.reduction == "mean":
            # The fused kernel: bit-identical to a hand-written loop's loss.
            return F.cross_entropy(input, target, label_smoothing=self.label_smoothing)
        ce = F.cross_entropy(
            input, target, reduction="none", label_smoothing=self.label_smoothing
        )
        return _reduce(ce, sample_weight, self.reduction)

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}, reduction={self.reduction!r}"
