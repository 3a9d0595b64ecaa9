"""Probe: mixup of the training batches (Zhang et al., 2018).

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
Each training step draws ``lam ~ Beta(alpha, alpha)``, takes
``lam = max(lam, 1 - lam)`` (each mixed row stays closest to its own row) and a
random pairing ``j(i)`` of the batch's rows, and trains on
``lam x_i + (1 - lam) x_j`` (the conditioned float columns; categorical codes
are those of row ``i``) with the loss ``lam L(y_i) + (1 - lam) L(y_j)``, each
term class-weighted as at the defaults. Validation, the kept epoch, the
offsets and prediction see the rows as they are. The question it asks: does
training between the rows, which keeps the network from memorising the few
minority rows one by one, help the noisy natural tasks without costing the
others? Then the natural benchmark runs the method at its defaults with it
(members trained one by one; the plain step only, so not for SAM).

    python -m benchmarks.probes.mixup --alpha 0.2 --method scor --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

import torch

from skscor import _net

from . import members_one_by_one, probe_parser, run_natural_as


def mixed_step(alpha: float):
    """``_SkNet._step`` training on mixed pairs of the batch's rows."""
    beta = torch.distributions.Beta(float(alpha), float(alpha))

    def step(self, X, y, w):
        opt = self.optimizer_
        for p in self._params:
            p.grad = None
        gen = self._ctx.generator
        lam = float(beta.sample())
        lam = max(lam, 1.0 - lam)
        perm = torch.randperm(X.shape[0], generator=gen, device=X.device)
        n_dense = getattr(self.module_, "n_dense", X.shape[1])
        mixed = X.clone()
        mixed[:, :n_dense] = lam * X[:, :n_dense] + (1.0 - lam) * X[perm, :n_dense]
        out = self.module_(mixed)
        crit, ctx = self.criterion_, self._ctx
        loss = lam * crit(out, y, sample_weight=w, context=ctx) + (1.0 - lam) * crit(
            out, y[perm], sample_weight=None if w is None else w[perm], context=ctx
        )
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--alpha", type=float, default=0.2)
    args = parser.parse_args(argv)
    if "sam" in args.method.split(",") or "mr2" in args.method.split(","):
        parser.error("mixup patches the plain step: SCoR and Focal only")
    members_one_by_one()
    _net._SkNet._step = mixed_step(args.alpha)
    run_natural_as(f"mixup{args.alpha:g}", args)


if __name__ == "__main__":
    main(sys.argv[1:])
