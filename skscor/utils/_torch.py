"""Small torch helpers shared across modules."""

from __future__ import annotations

import contextlib
import threading

import torch


@contextlib.contextmanager
def eval_mode(*modules: torch.nn.Module):
    """Put ``modules`` in eval mode for the block, then restore their training flags.

    Examples
    --------
    >>> import torch
    >>> from skscor.utils._torch import eval_mode
    >>> m = torch.nn.Dropout()
    >>> with eval_mode(m):
    ...     m.training
    False
    >>> m.training
    True
    """
    # Every submodule's own flag: a model in train mode with a frozen (eval)
    # submodule must come back exactly as it was.
    flags = [(m, m.training) for module in modules for m in module.modules()]
    for module in modules:
        module.eval()
    try:
        yield modules[0] if len(modules) == 1 else modules
    finally:
        for m, flag in flags:
            m.training = flag


# Widest hidden layer up to which 'auto' trains on one thread. Small networks
# gain nothing from intra-op threads, and torch's spinning threads collapse on
# a shared CPU (benchmarks/README.md, "Thread policy").
_AUTO_ONE_THREAD_WIDTH = 512


# torch's thread count is one setting per process: overlapping scopes (two
# fits in two Python threads) share one saved value, restored by the last
# scope to leave, so that none restores another's temporary setting.
_SCOPE_LOCK = threading.Lock()
_scopes = {"depth": 0, "saved": None}


@contextlib.contextmanager
def torch_threads(n_threads, widths=()):
    """Set torch's intra-op thread count for the block, then restore it.

    ``n_threads``: an int; ``None`` leaves torch's setting alone; ``'auto'``
    uses one thread for networks whose widest hidden layer (``widths``) has at
    most 512 units (and otherwise leaves torch's setting, which joblib and
    dask workers already set to one). Scopes entered by several Python threads
    at once restore torch's setting from before the first of them.

    Examples
    --------
    >>> import torch
    >>> from skscor.utils._torch import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    with _SCOPE_LOCK:
        if _scopes["depth"] == 0:
            _scopes["saved"] = torch.get_num_threads()
        _scopes["depth"] += 1
        original = _scopes["saved"]
        if n_threads == "auto":
            widest = max((int(w) for w in widths), default=0)
            target = 1 if widest <= _AUTO_ONE_THREAD_WIDTH else original
        else:
            target = int(n_threads)
        if target != torch.get_num_threads():
            torch.set_num_threads(target)
    try:
        yield
    finally:
        with _SCOPE_LOCK:
            _scopes["depth"] -= 1
            if _scopes["depth"] == 0 and torch.get_num_threads() != _scopes["saved"]:
                torch.set_num_threads(_scopes["saved"])


def optimizer_kernels(kwargs: dict, device) -> dict:
    """Optimizer keyword arguments with the fastest update kernels for ``device``.

    ``kwargs`` asks for multi-tensor updates with ``foreach=True``; where torch
    has fused kernels for the device (CPU from torch 2.4, CUDA, MPS), they
    replace it: one kernel per parameter tensor for the whole Adam update,
    which took 4% (MR2) to 11% (SCoR) off small networks' fits on one CPU
    thread (benchmarks/README.md, "Stop 37"). Elsewhere, and on torch
    versions without them, ``foreach`` stays. Other arguments pass through.

    Examples
    --------
    >>> from skscor.utils._torch import optimizer_kernels
    >>> optimizer_kernels({"weight_decay": 0.0}, "cpu")
    {'weight_decay': 0.0}
    >>> sorted(optimizer_kernels({"foreach": True}, "meta"))
    ['foreach']
    """
    if not kwargs.get("foreach"):
        return dict(kwargs)
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # torch without fused optimizer kernels
        return dict(kwargs)
    kind = torch.device("cpu" if device is None else device).type
    if kind not in _get_fused_kernels_supported_devices():
        return dict(kwargs)
    out = {k: v for k, v in kwargs.items() if k != "foreach"}
    out["fused"] = True
    return out
