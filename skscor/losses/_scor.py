"""SCoR: cross-entropy plus a stochastic covariance regularizer on the logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .._docs import fill_doc
from ._common import _check_label_smoothing, _check_real, _reduce
from ._interface import BatchContext, Loss

__all__ = ["scor_penalty", "scor_loss", "SCoRLoss"]


def scor_penalty(
    input: Tensor,
    *,
    generator: torch.Generator | None = None,
    permute: bool = True,
) -> Tensor:
    r"""Stochastic covariance penalty ``||A^T B||_F`` of a batch of logits.

    Parameters
    ----------
    input : Tensor of shape (n_samples, n_classes)
        Raw logits of one batch (not softmaxed).
    generator : torch.Generator, optional
        Source of the random split. It must live on ``input``'s device. ``None``
        uses torch's global generator.
    permute : bool, default=True
        Draw a fresh permutation. ``False`` splits the rows as they come (first
        half ``B``, second half ``A``): the same distribution of splits when
        the rows are already in a uniformly random order, as in a shuffled
        mini-batch, without the permutation and the two gathers.

    Returns
    -------
    penalty : Tensor
        A scalar: the Frobenius norm (not squared) of ``A^T B``.

    Notes
    -----
    For an even batch a fresh random permutation splits the rows into halves;
    ``A`` is the second half, ``B`` the first, and the penalty is
    :math:`\|A^\top B\|_F`. For an odd batch the penalty is
    :math:`\|Z^\top Z\|_F` over the whole batch ``Z``. A batch of one row thus
    gives :math:`\|z\|_2^2`. Because :math:`E[A^\top B] = (B/2)\,\mu\mu^\top`
    with :math:`\mu` the mean logit, the penalty discourages a logit offset
    shared by all samples, with noise.

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import scor_penalty
    >>> z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> round(float(scor_penalty(z)), 4)  # odd batch: ||Z^T Z||_F = sqrt(10)
    3.1623
    """
    if input.ndim != 2:
        raise ValueError(
            f"input must be 2-D (n_samples, n_classes), got shape {tuple(input.shape)}."
        )
    n = input.shape[0]
    if n % 2:
        return torch.linalg.matrix_norm(input.T @ input)
    half = n // 2
    if permute:
        perm = torch.randperm(n, generator=generator, device=input.device)
        a = input[perm[half:]]
        b = input[perm[:half]]
    else:
        a = input[half:]
        b = input[:half]
    return torch.linalg.matrix_norm(a.T @ b)


@fill_doc
def scor_loss(
    input: Tensor,
    target: Tensor,
    *,
    alpha: float = 1e-4,
    label_smoothing: float = 0.0,
    sample_weight: Tensor | None = None,
    generator: torch.Generator | None = None,
    permute: bool = True,
) -> Tensor:
    r"""SCoR loss: cross-entropy plus ``alpha * ||A^T B||_F`` on the logits.

    Parameters
    ----------
    %(loss_input_target)s
    alpha : float, default=1e-4
        Strength of the covariance penalty. ``alpha=0`` is plain cross-entropy.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy term (SCoR+LS uses 0.1).
    sample_weight : Tensor of shape (n_samples,), optional
        Per-sample weights multiplied into the cross-entropy terms; the mean is
        ``(w * l).mean()``, not renormalized per batch. The penalty is not
        weighted: it acts on the batch as a whole.
    generator : torch.Generator, optional
        Source of the random split (see :func:`scor_penalty`).
    permute : bool, default=True
        ``False`` takes the rows' own (already random) order as the split; see
        :func:`scor_penalty`.

    Returns
    -------
    loss : Tensor
        A scalar.

    Notes
    -----
    .. math::

        L = \frac{1}{B}\sum_i \mathrm{CE}(z_i, y_i) + \alpha \|A^\top B\|_F

    with ``A``, ``B`` a random split of the batch logits into halves and
    :math:`\|Z^\top Z\|_F` for an odd batch. The penalty is not divided by the
    batch size and the norm is not squared, as in the paper.

    %(ref_scor)s

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import scor_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> logits = torch.randn(8, 3, generator=g)
    >>> target = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    >>> loss = scor_loss(logits, target, alpha=1e-2, generator=g)
    >>> bool(loss > torch.nn.functional.cross_entropy(logits, target))
    True
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}.")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
    if sample_weight is None:
        ce = F.cross_entropy(input, target, label_smoothing=label_smoothing)
    else:
        ce = F.cross_entropy(
            input, target, reduction="none", label_smoothing=label_smoothing
        )
        ce = _reduce(ce, sample_weight, "mean")
    if alpha == 0:
        return ce
    return ce + alpha * scor_penalty(input, generator=generator, permute=permute)


class SCoRLoss(Loss):
    """Module form of :func:`scor_loss`.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the covariance penalty.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy term.
    reduction : {'mean', 'sum'}, default='mean'
        Reduction of the cross-entropy terms. The penalty is a property of the
        batch as a whole, so there is no per-sample ('none') form.

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import SCoRLoss
    >>> crit = SCoRLoss(alpha=0.0)
    >>> logits, target = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    >>> round(float(crit(logits, target)), 4)
    0.6931
    """

    applies_logit_offset = True

    def __init__(
        self, alpha: float = 1e-4, label_smoothing: float = 0.0, reduction="mean"
    ) -> None:
        super().__init__(reduction)
        if reduction == "none":
            raise ValueError(
                "SCoRLoss has no reduction='none': the covariance penalty is one "
                "number per batch; use 'mean' or 'sum'."
            )
        self.alpha = _check_real("alpha", alpha, low=0.0)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def forward(self, input: Tensor, target: Tensor, sample_weight=None, context=None):
        ctx = context if context is not None else BatchContext()
        # The loss form of logit adjustment shifts the cross-entropy's logits
        # only: the penalty acts on the network's logits, so that a constant
        # offset leaves the model unchanged.
        z = input if ctx.logit_offset is None else input + ctx.logit_offset
        if self.reduction == "sum" or z is not input:
            ce = F.cross_entropy(
                z, target, reduction="none", label_smoothing=self.label_smoothing
            )
            total = _reduce(ce, sample_weight, self.reduction)
            if self.alpha == 0:
                return total
            return total + self.alpha * scor_penalty(
                input, generator=ctx.generator, permute=not ctx.shuffled
            )
        return scor_loss(
            input,
            target,
            alpha=self.alpha,
            label_smoothing=self.label_smoothing,
            sample_weight=sample_weight,
            generator=ctx.generator,
            permute=not ctx.shuffled,
        )

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, label_smoothing={self.label_smoothing}, "
            f"reduction={self.reduction!r}"
        )
