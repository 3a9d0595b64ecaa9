"""Loss functions on logits (pure torch).

Each loss comes as a typed functional and a thin :class:`torch.nn.Module`. All
take raw logits and integer targets, and accept ``sample_weight`` multiplied into
the per-sample losses (``mean`` is ``(w * l).mean()``, not renormalized per batch).
"""

from ._scor import SCoRLoss, scor_loss, scor_penalty

__all__ = ["SCoRLoss", "scor_loss", "scor_penalty"]
