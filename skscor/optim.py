"""Sharpness-aware minimization (SAM, ASAM), BatchNorm helpers and rho schedules.

Pure torch: usable in a plain training loop. The two-pass update needs the
gradient at the perturbed weights, so a closure that zero-grads *first* (as
skorch's ``train_step`` builds) must not be handed to :meth:`SAM.step` blindly;
see :meth:`SAM.step` for the contract.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ._docs import fill_doc

__all__ = [
    "SAM",
    "RhoSchedule",
    "rho_schedule",
    "disable_running_stats",
    "enable_running_stats",
]

_EPS = 1e-12
_BACKUP_ATTR = "_skscor_track_running_stats"


def _check_rho(rho: object, name: str = "rho") -> float:
    if isinstance(rho, bool) or not isinstance(rho, Real):
        raise TypeError(f"{name} must be a real number, got {type(rho).__name__}.")
    rho = float(rho)
    if not math.isfinite(rho) or rho < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {rho}.")
    return rho


class SAM(torch.optim.Optimizer):
    r"""Sharpness-aware minimization wrapped around a base optimizer.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters (or parameter groups) to optimize, as for any torch
        optimizer. Groups may set their own ``rho`` and ``adaptive``.
    base_optimizer : type or callable
        Optimizer class (e.g. ``torch.optim.SGD``) or factory called as
        ``base_optimizer(param_groups, **base_kwargs)``; it must return a
        :class:`torch.optim.Optimizer`. The two share ``param_groups``, so
        learning-rate schedulers attached to the SAM object act on the base.
    rho : float, default=0.05
        Radius of the neighbourhood (``>= 0``). It can be changed between steps
        through ``param_groups[i]["rho"]`` or :meth:`set_rho`. ``rho=0`` gives
        exactly the base optimizer's step (at twice the cost).
    adaptive : bool, default=False
        Adaptive SAM (ASAM): scale the perturbation by the weights' magnitude.
    **base_kwargs
        Passed to ``base_optimizer`` (``lr``, ``momentum``, ...).

    Attributes
    ----------
    base_optimizer : torch.optim.Optimizer
        The wrapped optimizer; it holds the optimizer state (momentum, ...).

    See Also
    --------
    disable_running_stats, enable_running_stats : BatchNorm handling.
    rho_schedule : rho by epoch.

    Notes
    -----
    One update on a batch, with :math:`g = \nabla L(w)`:

    .. math::

        e = \rho\,\frac{T^2 g}{\|T g\|_2 + 10^{-12}}, \qquad
        w \leftarrow \mathrm{base\_step}\big(w,\ \nabla L(w + e)\big),

    with :math:`T = I` for SAM and :math:`T = \mathrm{diag}(|w|)` for ASAM (as
    in davda54/sam, without ASAM's :math:`\eta`). The norm runs over all
    parameters jointly. :meth:`first_step` computes :math:`e` and moves to
    :math:`w + e`; the caller recomputes the loss and its gradient there on
    the same batch; :meth:`second_step` restores :math:`w` and lets the base
    optimizer step with that gradient. Parameters without a gradient are left
    alone.

    ``state_dict`` / ``load_state_dict`` delegate to the base optimizer (its
    groups carry ``rho`` and ``adaptive``), and pickling keeps the base
    optimizer, so checkpoints keep momentum buffers.

    With BatchNorm, the second forward pass must not update the running
    statistics: wrap it in :func:`disable_running_stats` /
    :func:`enable_running_stats`.

    References
    ----------
    .. [1] P. Foret, A. Kleiner, H. Mobahi and B. Neyshabur,
       "Sharpness-Aware Minimization for Efficiently Improving
       Generalization", ICLR 2021.
    .. [2] J. Kwon, J. Kim, H. Park and I. K. Choi, "ASAM: Adaptive
       Sharpness-Aware Minimization for Scale-Invariant Learning of Deep
       Neural Networks", ICML 2021.
    .. [3] H. Rangwani, S. K. Aithal, M. Mishra and R. V. Babu, "Escaping
       Saddle Points for Effective Generalization on Class-Imbalanced Data",
       NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> from skscor.optim import SAM
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Linear(3, 2)
    >>> opt = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1)
    >>> X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    >>> loss_fn = torch.nn.functional.cross_entropy
    >>> loss_fn(model(X), y).backward()      # gradient at w
    >>> opt.first_step(zero_grad=True)       # w -> w + e
    >>> loss_fn(model(X), y).backward()      # gradient at w + e
    >>> opt.second_step(zero_grad=True)      # back to w, base step
    >>> def closure():                       # or both passes in one call
    ...     opt.zero_grad()
    ...     loss = loss_fn(model(X), y)
    ...     loss.backward()
    ...     return loss
    >>> loss = opt.step(closure)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        base_optimizer: Callable[..., torch.optim.Optimizer],
        rho: float = 0.05,
        adaptive: bool = False,
        **base_kwargs: Any,
    ) -> None:
        rho = _check_rho(rho)
        if not isinstance(adaptive, bool):
            raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}.")
        if isinstance(base_optimizer, torch.optim.Optimizer):
            raise TypeError(
                "base_optimizer must be an optimizer class or factory, not an "
                "instance: pass e.g. torch.optim.SGD and its arguments as keywords."
            )
        if not callable(base_optimizer):
            raise TypeError(
                "base_optimizer must be an optimizer class or factory, got "
                f"{type(base_optimizer).__name__}."
            )
        defaults = dict(rho=rho, adaptive=adaptive, **base_kwargs)
        super().__init__(params, defaults)
        for group in self.param_groups:
            group["rho"] = _check_rho(group["rho"], "param group rho")
        base = base_optimizer(self.param_groups, **base_kwargs)
        if not isinstance(base, torch.optim.Optimizer):
            raise TypeError(
                "base_optimizer must return a torch.optim.Optimizer, got "
                f"{type(base).__name__}."
            )
        self.base_optimizer = base
        # Share the group dicts: lr schedulers and rho changes reach both.
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        self._perturbed = False
        # (params, copies of w) per group while the weights sit at w + e.
        self._backup = None

    # -- the two half steps --------------------------------------------------
    def _with_grad(self, group) -> tuple[list[Tensor], list[Tensor]]:
        params = [p for p in group["params"] if p.grad is not None]
        return params, [p.grad for p in params]

    @torch.no_grad()
    def _grad_norm(self) -> Tensor:
        # Multi-tensor (foreach) kernels: one call per group instead of one
        # small op per parameter (benchmarks/README.md, "SAM").
        norms = []
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            if not params:
                continue
            if group["adaptive"]:
                grads = torch._foreach_mul(grads, torch._foreach_abs(params))
            norms.extend(torch._foreach_norm(grads))
        if not norms:
            return torch.zeros(())
        device = norms[0].device
        return torch.linalg.vector_norm(torch.stack([n.to(device) for n in norms]))

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Move the weights to ``w + e`` (the ascent step) using ``p.grad``.

        Parameters
        ----------
        zero_grad : bool, default=False
            Zero the gradients afterwards (ready for the second backward).
        """
        if self._perturbed:
            raise RuntimeError(
                "first_step called twice without second_step in between."
            )
        grad_norm = self._grad_norm()
        self._backup = []
        for group in self.param_groups:
            rho = _check_rho(group["rho"], "param group rho")
            params, grads = self._with_grad(group)
            if not params:
                continue
            scale = (rho / (grad_norm + _EPS)).to(params[0].device, params[0].dtype)
            e_w = torch._foreach_mul(grads, scale)
            if group["adaptive"]:
                torch._foreach_mul_(e_w, torch._foreach_mul(params, params))
            # w itself, not w + e - e: restoring by subtraction is not exact.
            self._backup.append((params, [p.detach().clone() for p in params]))
            torch._foreach_add_(params, e_w)
        self._perturbed = True
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        """Restore ``w`` and apply the base optimizer with the current gradient.

        Parameters
        ----------
        zero_grad : bool, default=False
            Zero the gradients afterwards.
        """
        if not self._perturbed:
            raise RuntimeError("second_step called without a preceding first_step.")
        self._restore_weights()
        self.base_optimizer.step()
        # What torch's LR schedulers check to tell that an optimizer step
        # happened (they wrap only ``step``); avoids a spurious warning when the
        # update is driven through first_step/second_step.
        self._opt_called = True
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def undo_first_step(self) -> None:
        """Put the weights back at ``w`` without a base step (abandon the step).

        For a training loop interrupted between the two passes (an error, a
        NaN loss at ``w + e``, Ctrl-C): the optimizer is ready for a new
        :meth:`first_step` afterwards and the gradients are zeroed. A no-op when
        the weights are not perturbed.
        """
        if self._perturbed:
            self._restore_weights()
        self.zero_grad()

    def _restore_weights(self) -> None:
        for params, old in self._backup or ():
            torch._foreach_copy_(params, old)
        self._backup = None
        self._perturbed = False

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor:
        """Full SAM update on one batch: two closure calls, two half steps.

        Parameters
        ----------
        closure : callable
            Re-evaluates the model on the batch and returns the loss. It must
            itself zero the gradients, then run forward and backward
            (``opt.zero_grad(); loss = f(); loss.backward(); return loss``):
            it is called once at ``w`` and once at ``w + e``.

        Returns
        -------
        loss : Tensor
            The loss at ``w`` (from the first call), as a plain step reports.

        Notes
        -----
        This does not touch BatchNorm statistics; with BatchNorm, call
        :meth:`first_step` and :meth:`second_step` yourself and wrap the second
        forward pass in :func:`disable_running_stats`.
        """
        if closure is None:
            raise ValueError(
                "closure is required: SAM evaluates the loss twice per step."
            )
        with torch.enable_grad():
            loss = closure()
        self.first_step()
        with torch.enable_grad():
            closure()
        self.second_step()
        return loss

    # -- conveniences and (de)serialization ------------------------------------
    def set_rho(self, rho: float) -> None:
        """Set ``rho`` in every parameter group (e.g. from a schedule)."""
        rho = _check_rho(rho)
        for group in self.param_groups:
            group["rho"] = rho

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        base = self.__dict__.get("base_optimizer")
        if base is None:  # called by Optimizer.__init__
            super().add_param_group(param_group)
            return
        param_group.setdefault("rho", self.defaults["rho"])
        param_group.setdefault("adaptive", self.defaults["adaptive"])
        _check_rho(param_group["rho"], "param group rho")
        base.add_param_group(param_group)
        self.param_groups = base.param_groups

    def state_dict(self) -> dict[str, Any]:
        return self.base_optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["base_optimizer"] = self.base_optimizer
        state["_perturbed"] = self._perturbed
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # pickle memoizes the shared group list, but re-share to be safe.
        self.param_groups = self.base_optimizer.param_groups

    def __repr__(self) -> str:
        return f"SAM({self.base_optimizer!r})"


# -- BatchNorm ---------------------------------------------------------------
def disable_running_stats(module: nn.Module) -> None:
    """Stop BatchNorm layers from updating their running statistics.

    Sets ``track_running_stats = False`` on every
    :class:`~torch.nn.modules.batchnorm._BatchNorm` submodule, remembering the
    previous value. In training mode such a layer normalizes with the batch
    statistics and leaves ``running_mean``, ``running_var`` and
    ``num_batches_tracked`` untouched, which is what SAM's second forward pass
    needs. Calling it twice is harmless; :func:`enable_running_stats` undoes it.

    Parameters
    ----------
    module : torch.nn.Module
        The network (searched recursively).

    Examples
    --------
    >>> import torch
    >>> from skscor.optim import disable_running_stats, enable_running_stats
    >>> bn = torch.nn.BatchNorm1d(2)
    >>> disable_running_stats(bn)
    >>> _ = bn(torch.randn(4, 2))
    >>> int(bn.num_batches_tracked)
    0
    >>> enable_running_stats(bn)
    >>> bn.track_running_stats
    True
    """
    for m in module.modules():
        if isinstance(m, _BatchNorm) and not hasattr(m, _BACKUP_ATTR):
            setattr(m, _BACKUP_ATTR, m.track_running_stats)
            m.track_running_stats = False


def enable_running_stats(module: nn.Module) -> None:
    """Undo :func:`disable_running_stats` (restore ``track_running_stats``).

    Layers not disabled by :func:`disable_running_stats` are left unchanged.

    Parameters
    ----------
    module : torch.nn.Module
        The network (searched recursively).
    """
    for m in module.modules():
        if isinstance(m, _BatchNorm) and hasattr(m, _BACKUP_ATTR):
            m.track_running_stats = getattr(m, _BACKUP_ATTR)
            delattr(m, _BACKUP_ATTR)


# -- rho schedules -------------------------------------------------------------
_KINDS = ("constant", "linear", "step")
# Paper's CIFAR step schedule (Rangwani et al., 200 epochs, 1-based):
# epochs <= 5: 0.05, 6-160: 0.1, 161-180: 0.5, > 180: 0.6. As multiples of
# rho=0.05 and boundaries as fractions of max_iter over 0-based epochs t:
# t < 0.025 T: 1x, t < 0.8 T: 2x, t < 0.9 T: 10x, else 12x. Boundaries are kept
# as integer ratios (per mille) so that t < 0.8 * 200 is decided exactly.
_STEP_BOUNDS_PER_MILLE = (25, 800, 900)
_STEP_FACTORS = (1.0, 2.0, 10.0, 12.0)


class RhoSchedule:
    r"""SAM's ``rho`` as a function of the epoch (picklable callable).

    Build it with :func:`rho_schedule`; ``schedule(epoch)`` returns ``rho``
    for the 0-based epoch ``epoch``. Epochs at or past ``max_iter`` (e.g. more
    ``partial_fit`` calls) keep the last value.

    Parameters
    ----------
    kind : {'constant', 'linear', 'step'}
        Shape of the schedule (see :func:`rho_schedule`).
    rho : float
        Base value (``>= 0``).
    rho_max : float
        Final value of the linear schedule (``>= 0``).
    max_iter : int
        Number of epochs (``>= 1``).
    """

    def __init__(self, kind: str, rho: float, rho_max: float, max_iter: int) -> None:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
        if isinstance(max_iter, bool) or not isinstance(max_iter, Integral):
            raise TypeError(f"max_iter must be an int, got {type(max_iter).__name__}.")
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}.")
        self.kind = kind
        self.rho = _check_rho(rho)
        self.rho_max = _check_rho(rho_max, "rho_max")
        self.max_iter = int(max_iter)

    def __call__(self, epoch: int) -> float:
        if isinstance(epoch, bool) or not isinstance(epoch, Integral):
            raise TypeError(f"epoch must be an int, got {type(epoch).__name__}.")
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}.")
        t = min(int(epoch), self.max_iter - 1)
        if self.kind == "constant":
            return self.rho
        if self.kind == "linear":
            if self.max_iter == 1:
                return self.rho
            frac = t / (self.max_iter - 1)
            return self.rho + (self.rho_max - self.rho) * frac
        factor = _STEP_FACTORS[-1]
        for bound, f in zip(_STEP_BOUNDS_PER_MILLE, _STEP_FACTORS, strict=False):
            if 1000 * t < bound * self.max_iter:
                factor = f
                break
        return self.rho * factor

    def __repr__(self) -> str:
        return (
            f"RhoSchedule(kind={self.kind!r}, rho={self.rho}, "
            f"rho_max={self.rho_max}, max_iter={self.max_iter})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RhoSchedule):
            return NotImplemented
        return (self.kind, self.rho, self.rho_max, self.max_iter) == (
            other.kind,
            other.rho,
            other.rho_max,
            other.max_iter,
        )

    __hash__ = None  # type: ignore[assignment]


@fill_doc
def rho_schedule(
    kind: str = "constant",
    *,
    rho: float = 0.05,
    rho_max: float = 0.8,
    max_iter: int,
) -> RhoSchedule:
    r"""Schedule for SAM's ``rho`` by epoch.

    Parameters
    ----------
    kind : {'constant', 'linear', 'step'}, default='constant'
        - ``'constant'``: ``rho`` at every epoch.
        - ``'linear'``: from ``rho`` at epoch 0 to ``rho_max`` at epoch
          ``max_iter - 1``, linearly.
        - ``'step'``: the paper's CIFAR schedule scaled by ``rho``: with
          ``T = max_iter`` and 0-based epoch ``t``, ``rho`` for
          ``t < 0.025 T``, ``2 rho`` for ``t < 0.8 T``, ``10 rho`` for
          ``t < 0.9 T`` and ``12 rho`` after. With ``rho=0.05`` and ``T=200``
          this is exactly 0.05 (epochs 1-5 in 1-based counting), 0.1 (6-160),
          0.5 (161-180), 0.6 (181-200).
    rho : float, default=0.05
        Base value (``>= 0``): the constant, the linear start, the step unit.
    rho_max : float, default=0.8
        End of the linear schedule (``>= 0``; ignored by the other kinds).
    max_iter : int
        Number of epochs of training.

    Returns
    -------
    schedule : RhoSchedule
        A picklable callable ``schedule(epoch) -> float``, ``epoch`` 0-based;
        epochs past the end keep the last value.

    %(ref_sam_imbalance)s

    Examples
    --------
    >>> from skscor.optim import rho_schedule
    >>> sched = rho_schedule("step", rho=0.05, max_iter=200)
    >>> [round(sched(t), 4) for t in (0, 4, 5, 159, 160, 179, 180, 199)]
    [0.05, 0.05, 0.1, 0.1, 0.5, 0.5, 0.6, 0.6]
    >>> rho_schedule("linear", rho=0.05, rho_max=0.8, max_iter=4)(3)
    0.8
    """
    return RhoSchedule(kind, rho, rho_max, max_iter)
