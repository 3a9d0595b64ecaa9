"""Per-class weights applied around any loss (used for deferred re-weighting)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ClassWeighted(nn.Module):
    """Multiply a loss's per-sample weights by a per-class weight buffer.

    The weights can change between steps (deferred re-weighting switches them
    on late in training) and move with ``.to(device)``.

    Parameters
    ----------
    inner : nn.Module
        A skscor loss taking ``(input, target, sample_weight=None, ...)``.
    n_classes : int
        Number of classes; the weights start at one.

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import ClassWeighted, SCoRLoss
    >>> crit = ClassWeighted(SCoRLoss(alpha=0.0), n_classes=2)
    >>> crit.class_weight.copy_(torch.tensor([0.0, 2.0]))
    tensor([0., 2.])
    >>> z, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> round(float(crit(z, y)), 4)  # (0 * l0 + 2 * l1) / 2 with l = log 2
    0.6931
    """

    class_weight: Tensor

    def __init__(self, inner: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("class_weight", torch.ones(n_classes))

    @property
    def needs_generator(self) -> bool:
        return getattr(self.inner, "needs_generator", False)

    @property
    def needs_features(self) -> bool:
        return getattr(self.inner, "needs_features", False)

    def forward(self, input, target, sample_weight=None, **kwargs):
        w = self.class_weight[target].to(input.dtype)
        if sample_weight is not None:
            w = w * sample_weight
        return self.inner(input, target, sample_weight=w, **kwargs)
