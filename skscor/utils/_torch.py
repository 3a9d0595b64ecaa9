"""Small torch helpers shared across modules."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module):
    """Put ``module`` in eval mode for the block, then restore its training flag.

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
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, flag in flags:
            m.training = flag


# Widest hidden layer up to which 'auto' trains on one thread. Small networks
# gain nothing from intra-op threads, and torch's spinning threads collapse on
# a shared CPU (benchmarks/README.md, "Thread policy").
_AUTO_ONE_THREAD_WIDTH = 512


@contextlib.contextmanager
def torch_threads(n_threads, hidden_layer_sizes=()):
    """Set torch's intra-op thread count for the block, then restore it.

    ``n_threads``: an int; ``None`` leaves torch's setting alone; ``'auto'``
    uses one thread for networks no wider than 512 units (and otherwise
    leaves torch's setting, which joblib and dask workers already set to one).
    """
    current = torch.get_num_threads()
    if n_threads == "auto":
        widths = [int(w) for w in hidden_layer_sizes] or [0]
        target = 1 if max(widths) <= _AUTO_ONE_THREAD_WIDTH else current
    elif n_threads is None:
        target = current
    else:
        target = int(n_threads)
    if target == current:
        yield
        return
    torch.set_num_threads(target)
    try:
        yield
    finally:
        torch.set_num_threads(current)
