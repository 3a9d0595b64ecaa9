"""MR^2 loss: feature-statistics-driven logit margins and a representation term."""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import Tensor

from .._docs import fill_doc
from ._common import (
    _check_label_smoothing,
    _check_logits_target,
    _check_real,
    _check_sample_weight,
    _reduce,
)
from ._interface import BatchContext, Loss

__all__ = ["MR2Loss", "mr2_representation_term"]

# Lower bound on gamma_k: a class whose features have all been exactly zero has
# s_k = 0, and dividing its logits by c * 0 would give inf/NaN.
_GAMMA_MIN = 1e-3


def _check_n_classes(n_classes: object) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, Integral):
        raise TypeError(f"n_classes must be an int, got {type(n_classes).__name__}.")
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}.")
    return int(n_classes)


def _check_features(features: Tensor, target: Tensor) -> None:
    if not isinstance(features, Tensor):
        raise TypeError(f"features must be a Tensor, got {type(features).__name__}.")
    if features.ndim != 2 or not features.is_floating_point():
        raise ValueError(
            "features must be a 2-D floating point tensor (n_samples, n_features), "
            f"got shape {tuple(features.shape)} and dtype {features.dtype}."
        )
    if not isinstance(target, Tensor) or target.ndim != 1:
        raise ValueError("target must be a 1-D tensor of class indices.")
    if target.shape[0] != features.shape[0]:
        raise ValueError(
            f"features has {features.shape[0]} rows but target has "
            f"{target.shape[0]} entries."
        )
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got {target.dtype}.")


def _class_counts(target: Tensor, n_classes: int, dtype: torch.dtype) -> Tensor:
    # index_add instead of bincount: no host synchronization on accelerators.
    ones = torch.ones(target.shape[0], dtype=dtype, device=target.device)
    return torch.zeros(n_classes, dtype=dtype, device=target.device).index_add_(
        0, target, ones
    )


@fill_doc
def mr2_representation_term(
    features: Tensor,
    target: Tensor,
    s_bar: float | Tensor,
    n_classes: int,
) -> Tensor:
    r"""Representation term of MR^2 on one batch of penultimate features.

    Parameters
    ----------
    features : Tensor of shape (n_samples, n_features)
        Penultimate features :math:`h_i` of the batch.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    s_bar : float or 0-d Tensor
        Mean within-class variance :math:`\bar s` (``>= 0``); treated as a
        constant (no gradient flows into it).
    n_classes : int
        Number of classes :math:`K` of the problem (not only those in the batch).

    Returns
    -------
    rep : Tensor
        A scalar; zero when no class has two samples in the batch.

    Notes
    -----
    With :math:`D` the feature dimension and :math:`B_k` the samples of class
    :math:`k` in the batch,

    .. math::

        \mathrm{rep} = \frac{D}{10K} \sum_{k:\,|B_k| \ge 2}
        \frac{1}{|B_k|} \sum_{i \in B_k}
        \log\Big(1 + \sum_{j \in B_k,\, j \ne i}
        \exp\frac{\|h_i - h_j\|_2^2 - 2\bar s}{10 D}\Big).

    Classes with fewer than two samples in the batch are skipped. The squared
    distances come from the Gram matrix (clamped at zero), and
    :math:`\log(1 + \sum \exp)` is a ``logsumexp`` with the diagonal standing
    for the 1, so it is finite for identical features. Cost: on the CPU,
    :math:`O(\sum_k |B_k|^2 D)` time and :math:`O(\sum_k |B_k|^2)` memory
    (each class's pairs form one block; a binary batch at 65/35 has 55% of the
    :math:`N^2` pairs, ten even classes 10%); on an accelerator one masked
    :math:`N \times N` matrix, which spares the step a host synchronization.
    The gradient is written out (one matrix product instead of autograd's two);
    second derivatives, for Hessian-vector products, go through autograd. The
    term is defined in the MR2 paper (see :class:`MR2Loss` for the reference).

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import mr2_representation_term
    >>> h = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    >>> y = torch.tensor([0, 0, 1])
    >>> # class 0: two identical points, each gives log(1 + e^0); class 1 skipped
    >>> rep = mr2_representation_term(h, y, s_bar=0.0, n_classes=2)
    >>> round(float(rep), 4)  # (2 / 20) * log 2
    0.0693
    """
    _check_features(features, target)
    n_classes = _check_n_classes(n_classes)
    if isinstance(s_bar, Tensor):
        if s_bar.numel() != 1:
            raise ValueError("s_bar must be a scalar.")
        s_bar = s_bar.detach().reshape(()).to(features.dtype)
    else:
        s_bar = _check_real("s_bar", s_bar, low=0.0)
    target = target.long()
    sizes = None
    if features.device.type == "cpu":
        # On an accelerator one masked matrix keeps the step free of host
        # syncs; on the CPU the class sizes are at hand, and where it pays each
        # class's block of pairs is computed alone.
        sizes = torch.bincount(target, minlength=n_classes).tolist()
        if not _blocks_pay(sizes):
            sizes = None
    return _RepTerm.apply(features, target, s_bar, n_classes, sizes)


# What a class's block costs beyond its pairs (about 70 us of small operations
# on a CPU core), in pairs of the masked matrix (about 15 ns each at widths
# 16-256): measured with ``python -m benchmarks.probes.mr2_rep_term --micro``.
_PAIRS_PER_BLOCK = 5000


def _blocks_pay(sizes):
    """Whether one block per class beats one masked matrix: the cross-class
    pairs it skips (45% of a binary batch at 65/35, 90% of ten even classes)
    against its per-block overhead (a batch of 200 rows in 26 classes does
    better masked)."""
    n = sum(sizes)
    blocks = sum(size >= 2 for size in sizes)
    skipped = n * n - sum(size * size for size in sizes)
    return skipped > _PAIRS_PER_BLOCK * blocks


def _rep_autograd(features, target, s_bar, n_classes):
    """The term as plain autograd operations: the reference the fused version
    is tested against, and its path for double backward (Hessian products)."""
    dim = features.shape[1]
    # Few passes over the (n, n) matrix (it dominates the cost): with
    # c_i = (||h_i||^2 - s_bar) / (10 D), the score (||h_i - h_j||^2 - 2 s_bar)
    # / (10 D) is c_i + c_j - 2 h_i.h_j / (10 D), one addmm; clamping the
    # squared distance at zero (rounding) is clamping the score at its value
    # for a zero distance.
    inv = 1.0 / (10.0 * dim)
    c = (features.pow(2).sum(1) - s_bar) * inv
    scores = torch.addmm(c[:, None] + c[None, :], features, features.T, alpha=-2 * inv)
    floor = -2.0 * inv * s_bar
    scores = torch.clamp(scores, min=floor)
    scores = scores.masked_fill(target[:, None] != target[None, :], float("-inf"))
    # The diagonal (j == i, excluded from the sum) becomes exp(0) = the "1 +".
    scores.diagonal().zero_()
    per_sample = torch.logsumexp(scores, dim=1)
    counts = _class_counts(target, n_classes, features.dtype)[target]
    per_sample = torch.where(
        counts >= 2, per_sample / counts, torch.zeros_like(per_sample)
    )
    return per_sample.sum() * (dim / (10.0 * n_classes))


def _block_scores(h, s_bar, inv):
    """Pair scores of the rows ``h`` (clamped; the diagonal set to 0)."""
    c = (h.pow(2).sum(1) - s_bar) * inv
    scores = torch.addmm(c[:, None] + c[None, :], h, h.T, alpha=-2 * inv)
    scores.clamp_(min=-2.0 * inv * s_bar)
    return scores


class _RepTerm(torch.autograd.Function):
    r"""The representation term with its gradient written out.

    With :math:`P` the row-wise softmax of the scores (over a row's own class,
    the diagonal standing for the "1 +") and :math:`G_{ij} = a_i P_{ij}` off
    the diagonal (:math:`a_i` the row's weight), the gradient is
    :math:`\partial/\partial h = \tfrac{2}{10D}\,(\mathrm{diag}(M 1) h - M h)`
    with :math:`M = G + G^T`: one matrix product where autograd takes two,
    and no stored copies of the clamped and masked intermediates. A clamped
    score (a zero distance, up to rounding) has :math:`h_i = h_j`, so its
    term vanishes in the formula as in autograd. Double backward (Hessian
    products) goes through :func:`_rep_autograd`.
    """

    @staticmethod
    def forward(ctx, features, target, s_bar, n_classes, sizes):
        # sizes: the rows of each class (one block per class), or None (one
        # masked matrix)
        dim = features.shape[1]
        inv = 1.0 / (10.0 * dim)
        scale = dim / (10.0 * n_classes)
        by_class = sizes is not None
        ctx.args = (s_bar, n_classes, inv, scale, by_class)
        if by_class:
            # rows sorted by class: each class's rows are one contiguous block
            order = torch.argsort(target, stable=True)
            h = features[order]
            total, saved, spans, start = features.new_zeros(()), [], [], 0
            for size in sizes:
                if size >= 2:
                    scores = _block_scores(h[start : start + size], s_bar, inv)
                    scores.diagonal().zero_()
                    lse = torch.logsumexp(scores, dim=1)
                    total += lse.sum() * (scale / size)
                    saved += [scores, lse]
                    spans.append((start, start + size))
                start += size
            ctx.spans = spans
            ctx.save_for_backward(features, target, order, *saved)
            return total
        scores = _block_scores(features, s_bar, inv)
        scores.masked_fill_(target[:, None] != target[None, :], float("-inf"))
        scores.diagonal().zero_()
        lse = torch.logsumexp(scores, dim=1)
        counts = _class_counts(target, n_classes, features.dtype)[target]
        weight = torch.where(counts >= 2, scale / counts, torch.zeros_like(counts))
        ctx.save_for_backward(features, target, scores, lse, weight)
        return (lse * weight).sum()

    @staticmethod
    def backward(ctx, grad_output):
        s_bar, n_classes, inv, scale, by_class = ctx.args
        features, target, *saved = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph: a differentiable gradient, through autograd
            with torch.enable_grad():
                rep = _rep_autograd(features, target, s_bar, n_classes)
                (grad,) = torch.autograd.grad(
                    rep, features, grad_output, create_graph=True
                )
            return grad, None, None, None, None
        if not by_class:
            scores, lse, weight = saved
            grad = _block_grad(features, scores, lse, weight * grad_output, inv)
            return grad, None, None, None, None
        order, *blocks = saved
        h = features[order]
        # rows of classes with fewer than two rows get no gradient
        grad_sorted = torch.zeros_like(features)
        for (start, stop), scores, lse in zip(
            ctx.spans, blocks[0::2], blocks[1::2], strict=True
        ):
            weight = grad_output * (scale / (stop - start))
            grad_sorted[start:stop] = _block_grad(
                h[start:stop], scores, lse, weight, inv
            )
        grad = torch.empty_like(features)
        grad[order] = grad_sorted
        return grad, None, None, None, None


def _block_grad(h, scores, lse, weight, inv):
    """Gradient of ``sum_i weight_i * lse_i`` with respect to the rows ``h``."""
    if weight.ndim == 1:
        weight = weight[:, None]
    # out of place: a retained graph may run this backward again
    g = torch.exp(scores - lse[:, None]).mul_(weight)
    g.diagonal().zero_()
    m = g + g.T
    return (m.sum(1)[:, None] * h - m @ h).mul_(2.0 * inv)


@fill_doc
class MR2Loss(Loss):
    r"""MR^2 loss: margin-scaled cross-entropy plus a representation term.

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`K`.
    lambda_rep : float, default=0.1
        Weight of the representation term (``>= 0``; 0 switches it off).
    ema_decay : float, default=0.9
        Decay :math:`d \in [0, 1)` of the exponential moving averages.
    margin_scale : float, default=1.0
        Constant :math:`c > 0` of the per-sample temperature :math:`c\gamma_y`.
    label_smoothing : float, default=0.0
        Smoothing :math:`\varepsilon \in [0, 1)` of the cross-entropy term's
        target, as in :func:`torch.nn.functional.cross_entropy` (the paper's
        loss: 0).
    rep_batch_size : int or None, default=None
        Largest set of rows the representation term compares pairwise. A
        batch of ``n`` rows above it is cut, in order, into
        ``ceil(n / rep_batch_size)`` consecutive parts whose sizes differ by
        at most one row (the first ones larger, as
        :func:`torch.tensor_split`), and the term is the mean of the parts'
        terms: every row still
        contributes, at the cost of a batch of ``rep_batch_size`` per part
        (the term's cost grows with the square of the rows it compares).
        ``None``: the whole batch, as the paper defines it.

    Attributes
    ----------
    needs_features : bool
        Class attribute, ``True``: :meth:`forward` takes the penultimate
        features as third argument.
    ema_m, ema_v : Tensor of shape (n_classes,)
        Buffers with the moving averages of :math:`m_k` and :math:`v_k`.
    n_updates_m, n_updates_v : Tensor of shape (n_classes,), int64
        Buffers counting the batches that updated each average (0: never seen).

    See Also
    --------
    mr2_representation_term : The representation term alone.

    Notes
    -----
    For each class :math:`k` in a training batch, with :math:`\mu_k` the mean of
    its features :math:`h` (the input of the network's last linear layer),

    .. math::

        m_k = \|\mu_k\|_2^2, \qquad
        v_k = \frac{1}{|B_k|}\sum_{i \in B_k} \|h_i - \mu_k\|_2^2 ,

    and the buffers follow :math:`\bar m_k \leftarrow d\,\bar m_k + (1-d)\,m_k`
    (same for :math:`v`). Then :math:`s_k = (\bar m_k + \bar v_k)^{1/3}`,
    :math:`\gamma_k = K s_k / \sum_j s_j`, and

    .. math::

        L = \frac{1}{N}\sum_i w_i\,\mathrm{CE}\Big(\frac{z_i}{c\,\gamma_{y_i}},
        y_i\Big) + \lambda_{\mathrm{rep}}\,
        \mathrm{rep}(h, y, \bar s), \qquad \bar s = \mathrm{mean}_k \bar v_k ,

    with rep from :func:`mr2_representation_term`. Implementation choices:

    - **Order.** In training mode the averages are updated from the batch
      *before* :math:`\gamma` and :math:`\bar s` are computed, so every target
      class of the batch has data-based statistics.
    - **Initialization.** The first observation of a class sets its average
      (no decay from zero); ``n_updates_*`` record whether a class was seen.
    - **Single sample.** A class with one sample in the batch updates
      :math:`\bar m_k` only: one point carries no information on the spread,
      so :math:`\bar v_k` is left as is (0 until the class first appears with
      two or more samples). It is skipped in the representation term.
    - **Unseen classes** (:math:`\bar m_k` never set) get :math:`\gamma_k = 1`;
      the others are normalized among themselves,
      :math:`\gamma_k = K' s_k / \sum_{j \text{ seen}} s_j` with :math:`K'` the
      number of seen classes, so the mean over all classes stays 1. If every
      :math:`s_k` is zero all :math:`\gamma_k` are 1; :math:`\gamma_k` is
      clipped below at 1e-3 so that zero features cannot produce inf/NaN.
      :math:`\bar s` is the mean of :math:`\bar v_k` over the classes whose
      :math:`\bar v_k` was set (0 if none).
    - The statistics are computed from detached features in the dtype of the
      features and are constants for autograd. ``sample_weight`` weighs the
      cross-entropy terms only; the statistics and the representation term
      are unweighted.
    - The result is always the mean over the batch (the representation term is
      a batch-level quantity added once), as for ``SCoRLoss``.
    - In ``eval()`` mode the averages are not updated; the stored ones are
      used. Keep one loss object for the whole training: the averages persist
      across epochs (they are buffers, so they pickle, move with ``.to()`` and
      appear in ``state_dict``).

    Reference-code bugs not copied: the constant :math:`c` is defined,
    :math:`\bar s` is not overwritten by 0, norms are squared L2 (not p=5), and
    the averages are not reset each epoch.

    %(ref_mr2)s

    Examples
    --------
    >>> import torch
    >>> from skscor.losses import MR2Loss
    >>> crit = MR2Loss(n_classes=2)
    >>> h = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    >>> logits, y = torch.randn(3, 2), torch.tensor([0, 0, 1])
    >>> loss = crit(logits, y, h)  # training mode: updates the averages first
    >>> crit.ema_m.tolist(), crit.ema_v.tolist()
    ([4.0, 1.0], [1.0, 0.0])
    >>> [round(g, 4) for g in crit.class_gamma().tolist()]  # s = (5, 1)^(1/3)
    [1.262, 0.738]
    """

    applies_logit_offset = True

    needs_features = True

    ema_m: Tensor
    ema_v: Tensor
    n_updates_m: Tensor
    n_updates_v: Tensor

    def __init__(
        self,
        n_classes: int,
        *,
        lambda_rep: float = 0.1,
        ema_decay: float = 0.9,
        margin_scale: float = 1.0,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        rep_batch_size: int | None = None,
    ) -> None:
        super().__init__(reduction)
        self.n_classes = _check_n_classes(n_classes)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        self.lambda_rep = _check_real("lambda_rep", lambda_rep, low=0.0)
        self.ema_decay = _check_real(
            "ema_decay", ema_decay, low=0.0, high=1.0, high_inclusive=False
        )
        self.margin_scale = _check_real(
            "margin_scale", margin_scale, low=0.0, low_inclusive=False
        )
        if rep_batch_size is not None and (
            isinstance(rep_batch_size, bool)
            or not isinstance(rep_batch_size, Integral)
            or rep_batch_size < 2
        ):
            raise ValueError(
                "rep_batch_size must be None or an integer of at least 2, got "
                f"{rep_batch_size!r}."
            )
        self.rep_batch_size = None if rep_batch_size is None else int(rep_batch_size)
        dtype = torch.get_default_dtype()
        self.register_buffer("ema_m", torch.zeros(self.n_classes, dtype=dtype))
        self.register_buffer("ema_v", torch.zeros(self.n_classes, dtype=dtype))
        self.register_buffer(
            "n_updates_m", torch.zeros(self.n_classes, dtype=torch.long)
        )
        self.register_buffer(
            "n_updates_v", torch.zeros(self.n_classes, dtype=torch.long)
        )

    @torch.no_grad()
    def reset_statistics(self) -> None:
        """Forget the moving averages (every class becomes unseen)."""
        for buf in (self.ema_m, self.ema_v, self.n_updates_m, self.n_updates_v):
            buf.zero_()

    @torch.no_grad()
    def update_statistics(self, features: Tensor, target: Tensor) -> None:
        """Update the moving averages from one batch (called by ``forward``).

        Parameters
        ----------
        features : Tensor of shape (n_samples, n_features)
            Penultimate features; used detached.
        target : Tensor of shape (n_samples,)
            Integer class indices.
        """
        _check_features(features, target)
        # At least the buffers' precision (half-precision sums could overflow).
        h = features.detach().to(torch.promote_types(features.dtype, self.ema_m.dtype))
        target = target.long().to(h.device)
        k, d = self.n_classes, self.ema_decay
        counts = _class_counts(target, k, h.dtype)
        sums = torch.zeros(k, h.shape[1], dtype=h.dtype, device=h.device)
        sums.index_add_(0, target, h)
        means = sums / counts.clamp(min=1.0)[:, None]
        m_batch = means.pow(2).sum(1)
        sq_dev = (h - means[target]).pow(2).sum(1)
        v_batch = torch.zeros_like(counts).index_add_(0, target, sq_dev)
        v_batch = v_batch / counts.clamp(min=1.0)

        for ema, n_upd, value, mask in (
            (self.ema_m, self.n_updates_m, m_batch, counts >= 1),
            (self.ema_v, self.n_updates_v, v_batch, counts >= 2),
        ):
            value = value.to(ema.dtype)
            blended = torch.where(n_upd > 0, d * ema + (1.0 - d) * value, value)
            ema.copy_(torch.where(mask, blended, ema))
            n_upd.add_(mask.long())

    @torch.no_grad()
    def class_gamma(self) -> Tensor:
        r"""Current per-class margins :math:`\gamma_k` (shape ``(n_classes,)``)."""
        seen = self.n_updates_m > 0
        s = (self.ema_m + self.ema_v).clamp(min=0.0).pow(1.0 / 3.0)
        s = torch.where(seen, s, torch.zeros_like(s))
        total = s.sum()
        gamma = seen.sum().to(s.dtype) * s / total.clamp(min=torch.finfo(s.dtype).tiny)
        gamma = torch.where(seen & (total > 0), gamma, torch.ones_like(gamma))
        return gamma.clamp(min=_GAMMA_MIN)

    @torch.no_grad()
    def s_bar(self) -> Tensor:
        r"""Current :math:`\bar s`: mean of :math:`\bar v_k` over classes with one."""
        has_v = self.n_updates_v > 0
        n = has_v.sum().to(self.ema_v.dtype)
        total = torch.where(has_v, self.ema_v, torch.zeros_like(self.ema_v)).sum()
        return total / n.clamp(min=1.0)

    @fill_doc
    def forward(
        self,
        input: Tensor,
        target: Tensor,
        features: Tensor | None = None,
        sample_weight: Tensor | None = None,
        context: BatchContext | None = None,
    ) -> Tensor:
        """Compute the loss (and, in training mode, first update the averages).

        Parameters
        ----------
        %(loss_input_target)s
        features : Tensor of shape (n_samples, n_features), optional
            Penultimate features (the input of the last linear layer); taken
            from ``context.features`` when not given.
        sample_weight : Tensor of shape (n_samples,), optional
            Per-sample weights of the cross-entropy terms; the mean is
            ``(w * l).mean()``, not renormalized per batch.
        context : BatchContext, optional
            The per-batch context (its ``features`` are used when
            ``features`` is not given).

        Returns
        -------
        loss : Tensor
            A scalar.
        """
        if features is None:
            features = context.features if context is not None else None
            if features is None:
                raise ValueError(
                    "MR2Loss needs the penultimate features: pass features= or a "
                    "BatchContext with features."
                )
        _check_logits_target(input, target)
        _check_features(features, target)
        if input.shape[1] != self.n_classes:
            raise ValueError(
                f"input has {input.shape[1]} columns but n_classes={self.n_classes}."
            )
        if sample_weight is not None:
            _check_sample_weight(sample_weight, input.shape[0])
        target = target.long()
        if self.training:
            self.update_statistics(features, target)
        gamma = self.class_gamma().to(device=input.device, dtype=input.dtype)
        temperature = self.margin_scale * gamma[target]
        z = input / temperature[:, None]
        if context is not None and context.logit_offset is not None:
            # Logit adjustment shifts the logits the cross-entropy sees, after
            # the per-sample temperature (not divided by it).
            z = z + context.logit_offset
        ce = F.cross_entropy(
            z, target, reduction="none", label_smoothing=self.label_smoothing
        )
        loss = _reduce(ce, sample_weight, self.reduction)
        if self.lambda_rep == 0.0:
            return loss
        s_bar = self.s_bar().to(device=features.device, dtype=features.dtype)
        rep = self._representation(features, target, s_bar)
        if self.reduction == "none":
            # The representation term belongs to the batch: spread it evenly so
            # that the per-sample losses average to the 'mean' reduction.
            rep = rep / input.shape[0]
        return loss + self.lambda_rep * rep

    def _representation(self, features: Tensor, target: Tensor, s_bar: Tensor):
        """The representation term, over parts of ``rep_batch_size`` rows."""
        n, cap = features.shape[0], self.rep_batch_size
        if cap is None or n <= cap:
            return mr2_representation_term(features, target, s_bar, self.n_classes)
        # Consecutive parts of a shuffled batch are random parts; sizes that
        # differ by at most one row (not cap, cap, ..., remainder), so that no
        # part is a handful of rows.
        n_parts = -(-n // cap)
        terms = [
            mr2_representation_term(h, y, s_bar, self.n_classes)
            for h, y in zip(
                torch.tensor_split(features, n_parts),
                torch.tensor_split(target, n_parts),
                strict=True,
            )
        ]
        return torch.stack(terms).mean()

    def extra_repr(self) -> str:
        return (
            f"n_classes={self.n_classes}, lambda_rep={self.lambda_rep}, "
            f"ema_decay={self.ema_decay}, margin_scale={self.margin_scale}, "
            f"label_smoothing={self.label_smoothing}, "
            f"rep_batch_size={self.rep_batch_size}"
        )
