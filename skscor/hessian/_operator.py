"""The Hessian-vector-product operator of a mean loss, and module handling."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ..utils._validation import check_paired


class _HVP:
    """Hessian-vector products of the mean loss over ``(X, y)``.

    With a single chunk the gradient graph is built once and reused
    (``retain_graph``); with several chunks each product recomputes the
    forward and backward pass chunk by chunk, so memory stays that of one
    chunk.
    """

    def __init__(self, module, params, X, y, loss_fn, batch_size):
        self.module, self.params, self.X, self.y = module, params, X, y
        self.loss_fn = loss_fn
        n = len(X)
        self.chunks = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
        self.sizes = [p.numel() for p in params]
        self.n_params = sum(self.sizes)
        self.device = params[0].device
        self.n_calls = 0
        self._grads = self._gradient(*self.chunks[0]) if len(self.chunks) == 1 else None

    def _gradient(self, start, stop):
        out = self.module(self.X[start:stop])
        if isinstance(out, tuple | list):
            out = out[0]  # skorch's convention: the first output is the prediction
        weight = (stop - start) / len(self.X)
        loss = self.loss_fn(out, self.y[start:stop]) * weight
        grads = torch.autograd.grad(
            loss, self.params, create_graph=True, allow_unused=True
        )
        return [
            g if g is not None else torch.zeros_like(p)
            for g, p in zip(grads, self.params, strict=True)
        ]

    def _product(self, grads, vecs, retain):
        keep = [i for i, g in enumerate(grads) if g.requires_grad]
        out = [torch.zeros_like(p) for p in self.params]
        if keep:
            hv = torch.autograd.grad(
                [grads[i] for i in keep],
                self.params,
                grad_outputs=[vecs[i] for i in keep],
                retain_graph=retain,
                allow_unused=True,
            )
            out = [h if h is not None else o for h, o in zip(hv, out, strict=True)]
        return out

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.n_calls += 1
        flat = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).ravel())
        vecs = [
            part.reshape(p.shape).to(device=self.device, dtype=p.dtype)
            for part, p in zip(torch.split(flat, self.sizes), self.params, strict=True)
        ]
        if self._grads is not None:
            hv = self._product(self._grads, vecs, retain=True)
        else:
            hv = [torch.zeros_like(p) for p in self.params]
            for start, stop in self.chunks:
                part = self._product(self._gradient(start, stop), vecs, retain=False)
                hv = [a + b for a, b in zip(hv, part, strict=True)]
        return torch.cat([h.reshape(-1) for h in hv]).to("cpu", torch.float64).numpy()


def _trainable(module: nn.Module) -> list[nn.Parameter]:
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ValueError("module has no parameters with requires_grad=True")
    return params


def _as_tensors(X, y, dtype, device):
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, Tensor) else X)
    X = X.to(device=device, dtype=dtype)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, Tensor) else y)
    y = y.to(device=device, dtype=torch.long)
    check_paired(X=X, y=y)
    return X, y


class _EvalMode:
    """Put every submodule in eval mode; restore each one's own flag on exit.

    Not ``utils._torch.eval_mode``: that restores the root's flag with
    ``train(flag)``, which overwrites submodules that were in another mode
    (a frozen BatchNorm in eval inside a model in train mode).
    """

    def __init__(self, module: nn.Module):
        self.flags = [(m, m.training) for m in module.modules()]

    def __enter__(self):
        for m, _ in self.flags:
            m.training = False

    def __exit__(self, *exc):
        for m, flag in self.flags:
            m.training = flag
