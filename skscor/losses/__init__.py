"""Loss functions on logits (pure torch).

Each loss comes as a typed functional and a thin module deriving from
:class:`Loss`. All take raw logits and integer targets, accept ``sample_weight``
multiplied into the per-sample losses (``mean`` is ``(w * l).mean()``, not
renormalized per batch) and an optional :class:`BatchContext`.
"""

from ._ce import CrossEntropyLoss
from ._focal import FocalLoss, focal_loss
from ._interface import BatchContext, ClassWeighted, Loss
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

__all__ = [
    "BatchContext",
    "ClassWeighted",
    "CrossEntropyLoss",
    "Loss",
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
