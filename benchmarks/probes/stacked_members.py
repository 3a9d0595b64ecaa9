"""Probe: what training the ensemble's members in one stacked pass would save.

Issue 19 asks for the members to train vectorised (k members in one forward
pass). Before that is built into every loss, this measures its ceiling on the
machine at hand with hand-written torch loops and nothing of skscor: ``k``
separate one-hidden-layer networks (``Linear``, ReLU, ``Linear``), each with its
own Adam and its own batch of rows, against the same ``k`` networks as stacked
weights (``baddbmm``) under one Adam, one step each. Plain cross-entropy, the
cheapest loss, so the ratio is the most the stacking could gain per step; a
stacked ensemble also keeps training members that have already stopped until
the last one stops, which this does not charge. Rounds alternate, and the best
and median of ``--rounds`` are printed, with the ratio separate / stacked.

    python -m benchmarks.probes.stacked_members --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F


def _separate(X, y, k, hidden, n_classes, batch):
    nets = [
        nn.Sequential(
            nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )
        for _ in range(k)
    ]
    opts = [torch.optim.Adam(n.parameters(), 1e-3) for n in nets]

    def step():
        for net, opt in zip(nets, opts, strict=True):
            idx = torch.randint(0, X.shape[0], (batch,))
            loss = F.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return step


def _stacked(X, y, k, hidden, n_classes, batch):
    d = X.shape[1]
    w1 = nn.Parameter(torch.randn(k, d, hidden) * d**-0.5)
    b1 = nn.Parameter(torch.zeros(k, 1, hidden))
    w2 = nn.Parameter(torch.randn(k, hidden, n_classes) * hidden**-0.5)
    b2 = nn.Parameter(torch.zeros(k, 1, n_classes))
    opt = torch.optim.Adam([w1, b1, w2, b2], 1e-3)

    def step():
        idx = torch.randint(0, X.shape[0], (k, batch))
        z = torch.baddbmm(b2, torch.relu(torch.baddbmm(b1, X[idx], w1)), w2)
        # the sum of the members' mean losses: each member's gradient is its own
        loss = F.cross_entropy(z.reshape(-1, n_classes), y[idx].reshape(-1)) * k
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"{args.members} members, one hidden layer of {args.hidden}, Adam, "
        f"{args.threads} thread(s); ms per step of all members, best / median "
        f"of {args.rounds} alternated rounds of {args.steps} steps"
    )
    print("| features | batch | separate | stacked | separate / stacked |")
    print("|---|---|---|---|---|")
    for d, batch in ((10, 200), (40, 200), (40, 512), (40, 1024), (200, 512)):
        X = torch.randn(20_000, d)
        y = torch.randint(0, 2, (20_000,))
        steps = {
            name: make(X, y, args.members, args.hidden, 2, batch)
            for name, make in (("separate", _separate), ("stacked", _stacked))
        }
        times = {name: [] for name in steps}
        for step in steps.values():
            for _ in range(10):  # warm-up
                step()
        for _ in range(args.rounds):
            for name, step in steps.items():
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    step()
                times[name].append((time.perf_counter() - t0) / args.steps * 1e3)
        sep, stk = times["separate"], times["stacked"]
        print(
            f"| {d} | {batch} | {min(sep):.2f} / {statistics.median(sep):.2f} | "
            f"{min(stk):.2f} / {statistics.median(stk):.2f} | "
            f"{min(sep) / min(stk):.2f}x / "
            f"{statistics.median(sep) / statistics.median(stk):.2f}x |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
