"""Private validation and reduction helpers shared by the losses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import torch
from torch import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")


def _check_real(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value}.")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {value}.")
    return value


def _check_label_smoothing(value: object) -> float:
    """A label-smoothing strength, in ``[0, 1)``."""
    return _check_real(
        "label_smoothing", value, low=0.0, high=1.0, high_inclusive=False
    )


def _check_logits_target(input: Tensor, target: Tensor) -> None:
    """Shape and dtype checks (no value checks: they would force a device sync)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a Tensor, got {type(input).__name__}.")
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a Tensor, got {type(target).__name__}.")
    if input.ndim != 2:
        raise ValueError(
            f"input must be 2-D (n_samples, n_classes), got shape {tuple(input.shape)}."
        )
    if not input.is_floating_point():
        raise TypeError(f"input must be a floating point tensor, got {input.dtype}.")
    if target.ndim != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(
            "target must be 1-D with one entry per row of input: got shape "
            f"{tuple(target.shape)} for input of shape {tuple(input.shape)}."
        )
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got {target.dtype}.")


def _per_class_tensor(name: str, value: object, n_classes: int | None) -> Tensor:
    """Validate a 1-D, finite, non-negative per-class vector.

    ``n_classes=None`` accepts any non-zero length. A tensor keeps its dtype and
    device; anything else becomes a float64 CPU tensor.
    """
    if isinstance(value, Tensor):
        t = value.detach()
    elif isinstance(value, str | bytes) or not (
        isinstance(value, Sequence) or hasattr(value, "__array__")
    ):
        raise TypeError(
            f"{name} must be a 1-D tensor or sequence, got {type(value).__name__}."
        )
    else:
        try:
            t = torch.as_tensor(value, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a 1-D sequence of numbers.") from exc
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold real numbers, got {t.dtype}.")
    expected = "n_classes" if n_classes is None else str(n_classes)
    if (
        t.ndim != 1
        or t.shape[0] == 0
        or (n_classes is not None and t.shape[0] != n_classes)
    ):
        raise ValueError(
            f"{name} must be 1-D with one entry per class ({expected}), got shape "
            f"{tuple(t.shape)}."
        )
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"{name} must be finite and non-negative.")
    return t


def _check_sample_weight(sample_weight: object, n_samples: int) -> None:
    if not isinstance(sample_weight, Tensor):
        raise TypeError(
            f"sample_weight must be a Tensor, got {type(sample_weight).__name__}."
        )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            "sample_weight must have one entry per sample: got shape "
            f"{tuple(sample_weight.shape)} for {n_samples} samples."
        )


def _reduce(losses: Tensor, sample_weight: Tensor | None, reduction: str) -> Tensor:
    """Multiply per-sample losses by ``sample_weight``, then reduce.

    ``mean`` is ``(w * l).mean()``: weights are not renormalized per batch (the
    caller normalizes them to mean one over the whole data set).
    """
    if sample_weight is not None:
        _check_sample_weight(sample_weight, losses.shape[0])
        losses = losses * sample_weight.to(device=losses.device, dtype=losses.dtype)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses
