"""Class-count-aware losses: effective-number (DRW) weights, LDAM and VS losses.

Zero class counts (a class declared but absent from the data) are handled the
same way everywhere in this module: the class is treated as if it had the
smallest positive count, i.e. like the rarest observed class. Each formula is
monotone in the count, so this is the finite cap of the formula's limit (an
infinite weight or margin as the count goes to zero) and keeps every value
finite. Such a class never occurs as a target in the data the counts came from,
so the choice only matters if it appears later (``partial_fit``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import Tensor

from .._docs import fill_doc
from ._common import (
    _check_label_smoothing,
    _check_logits_target,
    _check_real,
    _check_reduction,
    _per_class_tensor,
    _reduce,
)
from ._interface import Loss

__all__ = [
    "effective_number_weights",
    "drw_weights",
    "ldam_margins",
    "ldam_loss",
    "LDAMLoss",
    "vs_loss",
    "VSLoss",
]

ArrayLike = Sequence[float] | Tensor


def _check_counts(class_counts: object) -> Tensor:
    """Validate class counts; return them as float64 with zeros filled.

    Zeros are replaced by the smallest positive count (see the module notes).
    """
    if isinstance(class_counts, Tensor):
        counts = class_counts.detach().to("cpu")
        if counts.dtype == torch.bool or counts.is_complex():
            raise TypeError(f"class_counts must hold real numbers, got {counts.dtype}.")
        counts = counts.to(torch.float64)
    elif isinstance(class_counts, str | bytes) or not (
        isinstance(class_counts, Sequence) or hasattr(class_counts, "__array__")
    ):
        raise TypeError(
            "class_counts must be a 1-D tensor or sequence, got "
            f"{type(class_counts).__name__}."
        )
    else:
        try:
            counts = torch.as_tensor(class_counts, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError("class_counts must be a 1-D sequence of numbers.") from exc
    if counts.ndim != 1 or counts.shape[0] == 0:
        raise ValueError(
            "class_counts must be 1-D with one entry per class, got shape "
            f"{tuple(counts.shape)}."
        )
    if not bool(torch.isfinite(counts).all()):
        raise ValueError("class_counts must be finite.")
    if bool((counts < 0).any()):
        raise ValueError(f"class_counts must be non-negative, got {counts.tolist()}.")
    positive = counts > 0
    if not bool(positive.any()):
        raise ValueError("class_counts must contain at least one positive count.")
    return torch.where(positive, counts, counts[positive].min())


def _check_n_classes(name: str, values: Tensor, input: Tensor) -> None:
    if values.shape[0] != input.shape[1]:
        raise ValueError(
            f"{name} has {values.shape[0]} classes but input has {input.shape[1]} "
            "columns."
        )


def _as_dtype(values: Tensor, dtype: torch.dtype | None) -> Tensor:
    return values.to(torch.get_default_dtype() if dtype is None else dtype)


def effective_number_weights(
    class_counts: ArrayLike,
    beta: float = 0.9999,
    *,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""Class weights from the effective number of samples (Cui et al., 2019).

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class (non-negative; may be
        fractional, e.g. sums of sample weights).
    beta : float, default=0.9999
        Hyperparameter in ``[0, 1)``. ``beta=0`` gives uniform weights;
        ``beta -> 1`` approaches inverse class frequency.
    dtype : torch.dtype, optional
        Dtype of the result; default ``torch.get_default_dtype()``.

    Returns
    -------
    weights : Tensor of shape (n_classes,)
        Non-negative weights summing to ``n_classes``.

    See Also
    --------
    drw_weights : The deferred re-weighting schedule built on these weights.

    Notes
    -----
    .. math::

        w_c = \frac{1 - \beta}{1 - \beta^{n_c}}, \qquad
        w_c \leftarrow C\,\frac{w_c}{\sum_j w_j} .

    :math:`1 - \beta^{n}` is computed as ``-expm1(n log beta)`` in float64.
    A zero count is treated as the smallest positive count (module notes), so
    such a class gets the largest weight instead of an infinite one.

    References
    ----------
    .. [1] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from skscor.losses import effective_number_weights
    >>> w = effective_number_weights([100, 10, 1], beta=0.9)
    >>> [round(v, 4) for v in w.tolist()]
    [0.2393, 0.3674, 2.3932]
    """
    counts = _check_counts(class_counts)
    beta = _check_real("beta", beta, low=0.0, high=1.0, high_inclusive=False)
    if beta == 0.0:
        weights = torch.ones_like(counts)
    else:
        weights = (1.0 - beta) / -torch.expm1(counts * math.log(beta))
    weights = weights / weights.sum() * counts.shape[0]
    return _as_dtype(weights, dtype)


@fill_doc
def drw_weights(
    class_counts: ArrayLike,
    epoch: int,
    *,
    max_iter: int,
    beta: float = 0.9999,
    start: float = 0.8,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""Deferred re-weighting (DRW): ones, then effective-number weights.

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    epoch : int
        0-based index of the epoch about to be trained.
    max_iter : int
        Total number of epochs.
    beta : float, default=0.9999
        See :func:`effective_number_weights`.
    start : float, default=0.8
        Fraction of ``max_iter`` after which the weights switch on: epochs
        ``epoch >= ceil(start * max_iter)`` are re-weighted. The default is the
        paper's epoch 160 of 200 (0-based).
    dtype : torch.dtype, optional
        Dtype of the result; default ``torch.get_default_dtype()``.

    Returns
    -------
    weights : Tensor of shape (n_classes,)
        All ones before the switch, :func:`effective_number_weights` after.

    %(ref_ldam)s

    Examples
    --------
    >>> from skscor.losses import drw_weights
    >>> drw_weights([100, 1], epoch=159, max_iter=200).tolist()
    [1.0, 1.0]
    >>> [round(v, 4) for v in drw_weights([100, 1], epoch=160, max_iter=200).tolist()]
    [0.0199, 1.9801]
    """
    for name, value in (("epoch", epoch), ("max_iter", max_iter)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}.")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}.")
    start = _check_real("start", start, low=0.0, high=1.0)
    weights = effective_number_weights(class_counts, beta, dtype=dtype)
    # round() absorbs binary representation error (0.8 * 200 must be 160).
    if int(epoch) < math.ceil(round(start * int(max_iter), 9)):
        return torch.ones_like(weights)
    return weights


@fill_doc
def ldam_margins(
    class_counts: ArrayLike,
    max_margin: float = 0.5,
    *,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""Label-distribution-aware margins :math:`m_c \propto n_c^{-1/4}`.

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    max_margin : float, default=0.5
        Margin of the rarest class (``>= 0``).
    dtype : torch.dtype, optional
        Dtype of the result; default ``torch.get_default_dtype()``.

    Returns
    -------
    margins : Tensor of shape (n_classes,)

    Notes
    -----
    .. math::

        m_c = \texttt{max\_margin}\;\frac{n_c^{-1/4}}{\max_j n_j^{-1/4}} .

    A zero count gets ``max_margin`` (module notes).

    %(ref_ldam)s

    Examples
    --------
    >>> from skscor.losses import ldam_margins
    >>> [round(v, 4) for v in ldam_margins([10000, 16, 1]).tolist()]
    [0.05, 0.25, 0.5]
    """
    counts = _check_counts(class_counts)
    max_margin = _check_real("max_margin", max_margin, low=0.0)
    margins = counts.pow(-0.25)
    margins = margins * (max_margin / margins.max())
    return _as_dtype(margins, dtype)


def _vs_adjustment(
    class_counts: ArrayLike, gamma: float, tau: float, dtype: torch.dtype | None
) -> tuple[Tensor, Tensor]:
    """Multiplicative ``(n_c / n_max)^gamma`` and additive ``tau log pi_c``."""
    counts = _check_counts(class_counts)
    scale = (counts / counts.max()).pow(gamma)
    offset = tau * torch.log(counts / counts.sum())
    return _as_dtype(scale, dtype), _as_dtype(offset, dtype)


def _check_weight(weight: object, n_classes: int | None) -> Tensor | None:
    if weight is None:
        return None
    return _per_class_tensor("weight", weight, n_classes)


def _weighted_ce(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
    label_smoothing: float = 0.0,
) -> Tensor:
    losses = F.cross_entropy(
        logits, target, reduction="none", label_smoothing=label_smoothing
    )
    if weight is not None:
        _check_n_classes("weight", weight, logits)
        losses = losses * weight.to(device=losses.device, dtype=losses.dtype)[target]
    return _reduce(losses, sample_weight, reduction)


def _ldam(
    input: Tensor,
    target: Tensor,
    margins: Tensor,
    scale: float,
    weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
    label_smoothing: float = 0.0,
) -> Tensor:
    _check_logits_target(input, target)
    _check_n_classes("class_counts", margins, input)
    target = target.long()
    margins = margins.to(device=input.device, dtype=input.dtype)
    shift = torch.zeros_like(input).scatter_(1, target[:, None], margins[target, None])
    return _weighted_ce(
        scale * (input - shift),
        target,
        weight,
        sample_weight,
        reduction,
        label_smoothing,
    )


def _vs(
    input: Tensor,
    target: Tensor,
    logit_scale: Tensor,
    logit_offset: Tensor,
    weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
    label_smoothing: float = 0.0,
) -> Tensor:
    _check_logits_target(input, target)
    _check_n_classes("class_counts", logit_scale, input)
    logit_scale = logit_scale.to(device=input.device, dtype=input.dtype)
    logit_offset = logit_offset.to(device=input.device, dtype=input.dtype)
    adjusted = input * logit_scale + logit_offset
    return _weighted_ce(
        adjusted, target.long(), weight, sample_weight, reduction, label_smoothing
    )


@fill_doc
def ldam_loss(
    input: Tensor,
    target: Tensor,
    class_counts: ArrayLike,
    *,
    max_margin: float = 0.5,
    scale: float = 30.0,
    weight: ArrayLike | None = None,
    sample_weight: Tensor | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""LDAM loss: cross-entropy with a class-dependent margin on the target.

    Parameters
    ----------
    input : Tensor of shape (n_samples, n_classes)
        Outputs of a cosine (normalized) classifier head, in ``[-1, 1]``.
    target : Tensor of shape (n_samples,)
        Integer class indices.
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    max_margin : float, default=0.5
        Margin of the rarest class (see :func:`ldam_margins`).
    scale : float, default=30.0
        Logit scale :math:`s > 0` applied after the margin.
    label_smoothing : float, default=0.0
        Smoothing of the cross-entropy's target, as in
        :func:`torch.nn.functional.cross_entropy` (the paper's loss: 0).
    %(loss_class_weight)s

    See Also
    --------
    LDAMLoss : Module form (margins computed once, weight updatable).

    Notes
    -----
    With margins :math:`m_c` from :func:`ldam_margins`,

    .. math::

        \ell(z, y) = -\log \frac{e^{s (z_y - m_y)}}
        {e^{s (z_y - m_y)} + \sum_{j \ne y} e^{s z_j}} \cdot w_y .

    The inputs are not checked to lie in ``[-1, 1]`` (that would cost a device
    synchronization); with an unnormalized head the margins are meaningless.

    %(ref_ldam)s

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import ldam_loss
    >>> cos = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    >>> target = torch.tensor([0, 1])
    >>> loss = ldam_loss(cos, target, [100, 1], reduction="none")
    >>> bool(loss[1] > loss[0] > torch.log(torch.tensor(2.0)))  # rare: larger
    True
    """
    _check_reduction(reduction)
    scale = _check_real("scale", scale, low=0.0, low_inclusive=False)
    label_smoothing = _check_label_smoothing(label_smoothing)
    margins = ldam_margins(class_counts, max_margin, dtype=torch.float64)
    weight_t = _check_weight(weight, None)
    return _ldam(
        input,
        target,
        margins,
        scale,
        weight_t,
        sample_weight,
        reduction,
        label_smoothing,
    )


@fill_doc
def vs_loss(
    input: Tensor,
    target: Tensor,
    class_counts: ArrayLike,
    *,
    gamma: float = 0.3,
    tau: float = 1.0,
    weight: ArrayLike | None = None,
    sample_weight: Tensor | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Vector-scaling (VS) loss: per-class logit scale and offset, then CE.

    Parameters
    ----------
    %(loss_input_target)s
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    gamma : float, default=0.3
        Exponent of the multiplicative adjustment (``>= 0``).
    tau : float, default=1.0
        Strength of the additive (logit-adjustment) term (``>= 0``).
    label_smoothing : float, default=0.0
        Smoothing of the cross-entropy's target, as in
        :func:`torch.nn.functional.cross_entropy` (the paper's loss: 0).
    %(loss_class_weight)s

    See Also
    --------
    VSLoss : Module form (adjustments computed once, weight updatable).

    Notes
    -----
    With :math:`\Delta_c = (n_c / n_{\max})^\gamma` and
    :math:`\iota_c = \tau \log \pi_c`, :math:`\pi_c = n_c / \sum_j n_j`,

    .. math::

        \ell(z, y) = \mathrm{CE}(\Delta \odot z + \iota,\; y) \cdot w_y .

    A zero count is treated as the smallest positive count (module notes), so
    the offsets stay finite.

    %(ref_vs)s

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import vs_loss
    >>> logits, target = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> # zero logits: only the offsets tau * log(pi) = log(0.5), log(0.5) act
    >>> round(float(vs_loss(logits, target, [1, 1])), 4)
    0.6931
    """
    _check_reduction(reduction)
    gamma = _check_real("gamma", gamma, low=0.0)
    tau = _check_real("tau", tau, low=0.0)
    label_smoothing = _check_label_smoothing(label_smoothing)
    logit_scale, logit_offset = _vs_adjustment(class_counts, gamma, tau, torch.float64)
    weight_t = _check_weight(weight, None)
    return _vs(
        input,
        target,
        logit_scale,
        logit_offset,
        weight_t,
        sample_weight,
        reduction,
        label_smoothing,
    )


@fill_doc
class LDAMLoss(Loss):
    r"""Module form of :func:`ldam_loss`.

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    max_margin : float, default=0.5
        Margin of the rarest class.
    scale : float, default=30.0
        Logit scale applied after the margin.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction over the samples.
    label_smoothing : float, default=0.0
        Smoothing of the cross-entropy's target, as in
        :func:`torch.nn.functional.cross_entropy` (the paper's loss: 0).

    Attributes
    ----------
    margins : Tensor of shape (n_classes,)
        Buffer with the margins :math:`m_c`.

    %(ref_ldam)s

    Examples
    --------
    Per-class weights (DRW) go through the one per-class door of skscor's
    losses, :class:`ClassWeighted`:

    >>> import torch
    >>> from skscor.losses import ClassWeighted, LDAMLoss, drw_weights
    >>> crit = ClassWeighted(LDAMLoss([100, 10, 1]), n_classes=3)
    >>> cos = torch.tensor([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    >>> target = torch.tensor([0, 2])
    >>> before = crit(cos, target)
    >>> crit.set_class_weight(drw_weights([100, 10, 1], epoch=9, max_iter=10))
    >>> bool(crit(cos, target) > before)  # the rare sample now weighs more
    True
    """

    margins: Tensor

    def __init__(
        self,
        class_counts: ArrayLike,
        *,
        max_margin: float = 0.5,
        scale: float = 30.0,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        self.scale = _check_real("scale", scale, low=0.0, low_inclusive=False)
        self.max_margin = _check_real("max_margin", max_margin, low=0.0)
        margins = ldam_margins(class_counts, self.max_margin)
        self.register_buffer("margins", margins)

    def forward(self, input: Tensor, target: Tensor, sample_weight=None, context=None):
        return _ldam(
            input,
            target,
            self.margins,
            self.scale,
            None,
            sample_weight,
            self.reduction,
            self.label_smoothing,
        )

    def decision_logits(self, logits: Tensor) -> Tensor:
        """Cosines times ``scale``: the logits the loss trains (margin aside)."""
        return logits * self.scale

    def extra_repr(self) -> str:
        return (
            f"n_classes={self.margins.shape[0]}, max_margin={self.max_margin}, "
            f"scale={self.scale}, label_smoothing={self.label_smoothing}, "
            f"reduction={self.reduction!r}"
        )


@fill_doc
class VSLoss(Loss):
    r"""Module form of :func:`vs_loss`.

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (n_classes,)
        Number of training samples of each class.
    gamma : float, default=0.3
        Exponent of the multiplicative adjustment.
    tau : float, default=1.0
        Strength of the additive adjustment.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction over the samples.
    label_smoothing : float, default=0.0
        Smoothing of the cross-entropy's target, as in
        :func:`torch.nn.functional.cross_entropy` (the paper's loss: 0).

    Attributes
    ----------
    logit_scale : Tensor of shape (n_classes,)
        Buffer with :math:`\Delta_c = (n_c / n_{\max})^\gamma`.
    logit_offset : Tensor of shape (n_classes,)
        Buffer with :math:`\iota_c = \tau \log \pi_c`.

    %(ref_vs)s

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import VSLoss
    >>> logits, target = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> crit = VSLoss([90, 10], reduction="none")
    >>> [round(v, 4) for v in crit(logits, target).tolist()]
    [0.1054, 2.3026]
    """

    logit_scale: Tensor
    logit_offset: Tensor

    def __init__(
        self,
        class_counts: ArrayLike,
        *,
        gamma: float = 0.3,
        tau: float = 1.0,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        self.gamma = _check_real("gamma", gamma, low=0.0)
        self.tau = _check_real("tau", tau, low=0.0)
        logit_scale, logit_offset = _vs_adjustment(
            class_counts, self.gamma, self.tau, None
        )
        self.register_buffer("logit_scale", logit_scale)
        self.register_buffer("logit_offset", logit_offset)

    def forward(self, input: Tensor, target: Tensor, sample_weight=None, context=None):
        return _vs(
            input,
            target,
            self.logit_scale,
            self.logit_offset,
            None,
            sample_weight,
            self.reduction,
            self.label_smoothing,
        )

    def extra_repr(self) -> str:
        return (
            f"n_classes={self.logit_scale.shape[0]}, gamma={self.gamma}, "
            f"tau={self.tau}, label_smoothing={self.label_smoothing}, "
            f"reduction={self.reduction!r}"
        )
