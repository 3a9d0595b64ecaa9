"""Loss functions on logits (pure torch).

Each loss comes as a typed functional and a thin :class:`torch.nn.Module`. All
take raw logits and integer targets, and accept ``sample_weight`` multiplied into
the per-sample losses (``mean`` is ``(w * l).mean()``, not renormalized per batch).
"""

from ._focal import FocalLoss, focal_loss
from ._margin import (
    LDAMLoss,
    VSLoss,
    drw_weights,
    effective_number_weights,
    ldam_loss,
    ldam_margins,
    vs_loss,
)
from ._mr2 import MR2Loss, mr2_representation_term
from ._scor import SCoRLoss, scor_loss, scor_penalty
from ._weighting import ClassWeighted

__all__ = [
    "ClassWeighted",
    "FocalLoss",
    "LDAMLoss",
    "MR2Loss",
    "SCoRLoss",
    "VSLoss",
    "drw_weights",
    "effective_number_weights",
    "focal_loss",
    "ldam_loss",
    "ldam_margins",
    "mr2_representation_term",
    "scor_loss",
    "scor_penalty",
    "vs_loss",
]
