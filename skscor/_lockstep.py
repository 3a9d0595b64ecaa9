"""Ensemble members trained in lockstep: one fused step for several networks.

An ensemble's members are the same default MLP with different initial
weights, training rows and validation splits. Trained one after the other,
each step of each member pays the per-operation overhead of a small network
(on a CPU most of a small step's time). Here the members' parameters are
stacked along a new first dimension, one forward and backward pass computes
every member's step (:meth:`skscor.modules.MLP.forward_stacked`: one
batched product per layer) and one optimizer step updates them all.

Nothing else changes: each member keeps its own epoch loop
(:meth:`skscor._net._SkNet.epochs`: its rows, shuffling and random SCoR
halves from its own generator, its plan, hooks, validation, stopping rule
and history) and its own criterion (class weights, phases, MR2's moving
averages). The loop yields the rows of each step; the driver here gathers
every member's next batch, takes the fused step and sends each member its
loss. Each member's parameters are views into the stacked ones while
training, so its own module validates, is snapshotted and restored as
before; at the end they get their own storage back and their optimizer the
state of their slices (a warm start continues as after a sequential fit).

Members stop at different epochs: a member that stopped leaves the fused
forward pass (the others' slices are gathered), and the last member left
goes on alone with its own parameters and optimizer, as one trained alone.
What differs from training the members one after the other: float rounding
(batched products), dropout masks (drawn for the stacked batch), and a
member that stopped is still moved by the optimizer's momentum while two or
more others train (its kept epoch is restored from its snapshot, as always,
and its optimizer state is the one at its stop). With ``dropout=0`` the
members are the same networks up to rounding (tests/test_lockstep.py).

Used for the default MLP, elementwise optimizers (Adam, AdamW, SGD: their
step is linear in the learning rate, so members at different learning rates
share one step, rescaled per member) and criteria without parameters. SAM's
two passes run fused too: the ascent step is taken here, each member with
its own gradient norm and rho, and the stacked optimizer is SAM's base.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import torch

from .optim import _EPS, SAM


def run_lockstep(runs):
    """Train the networks of ``runs`` (:class:`skscor._training._Run`) together.

    Returns each run's ``(done, interrupted)``, as
    :meth:`skscor._net._SkNet.run` does for one.
    """
    return _Lockstep(runs).run()


class _Lockstep:
    def __init__(self, runs):
        self.runs = runs
        self.k = len(runs)
        nets = [r.net for r in runs]
        modules = [net.module_ for net in nets]
        self.device = runs[0].data.device
        with torch.no_grad():
            self.params = {
                name: torch.nn.Parameter(
                    torch.stack([dict(m.named_parameters())[name] for m in modules])
                )
                for name, _ in modules[0].named_parameters()
            }
        # The structure the fused forward pass follows (its parameters are
        # unused), in training mode for dropout.
        self.base = copy.deepcopy(modules[0]).train()
        # Each member's parameters become views of its slice: its own module
        # (validation, the stopping rule's snapshots) sees every step.
        for i, module in enumerate(modules):
            for name, p in module.named_parameters():
                p.data = self.params[name].data[i]
        # SAM: the stacked optimizer is its base optimizer (SAM's groups, which
        # it shares with its base, carry rho and adaptive); the ascent step
        # is taken here, per member (_perturb).
        first = nets[0].optimizer_
        self.sam = isinstance(first, SAM)
        base = first.base_optimizer if self.sam else first
        group = dict(base.param_groups[0])
        group["params"] = list(self.params.values())
        self.optimizer = type(base)([group])
        self.needs_features = bool(getattr(nets[0].criterion_, "needs_features", False))
        self.results = [None] * self.k
        self.states = [None] * self.k
        self.pending = {}
        self.released = False

    # ------------------------------------------------------------ driving
    def run(self):
        loops = [r.net.epochs(r.data, r.valid, **r.loop) for r in self.runs]
        try:
            for i, loop in enumerate(loops):
                self._advance(i, loop.send, None)
            while len(self.pending) > 1:
                try:
                    losses = self._step()
                except KeyboardInterrupt:
                    for i in sorted(self.pending):
                        self._advance(i, loops[i].throw, KeyboardInterrupt())
                    continue
                for i, loss in losses.items():
                    self._advance(i, loops[i].send, loss)
            if self.pending:
                # The last member left goes on alone, with its own parameters
                # and optimizer: a fused step of one would cost more.
                (i,) = self.pending
                self._release()
                run = self.runs[i]
                rows = self.pending.pop(i)
                self.results[i] = run.net.drive(loops[i], run.data, rows)
        finally:
            for loop in loops:
                loop.close()
            self._release()
        return self.results

    def _advance(self, i, method, arg):
        """Resume member ``i``'s loop; keep its next rows or its result."""
        try:
            self.pending[i] = method(arg)
        except StopIteration as stop:
            self.pending.pop(i, None)
            self.results[i] = stop.value
            self.states[i] = self._state_of(i)

    def _size(self, i, rows):
        if isinstance(rows, slice):
            start, stop, _ = rows.indices(len(self.runs[i].data))
            return max(0, stop - start)
        return int(rows.shape[0])

    def _step(self):
        """One fused step of every member with rows pending; their losses.

        SAM: the loss and its gradient at ``w``, each member's ascent to
        ``w + e`` (:meth:`_perturb`), the gradient there on the same batch
        (the same random SCoR halves), then back to ``w`` for the base step.
        """
        groups = defaultdict(list)
        for i in sorted(self.pending):
            groups[self._size(i, self.pending[i])].append(i)
        batches = {i: self.runs[i].data.take(self.pending[i]) for i in self.pending}
        replay = {}
        if self.sam:
            for i in self.pending:
                ctx = self.runs[i].net._ctx
                # only an unshuffled batch draws SCoR's halves from the generator
                if ctx.generator is not None and not ctx.shuffled:
                    replay[i] = ctx.generator.get_state()
        for p in self.params.values():
            p.grad = None
        total, losses = self._losses(groups, batches)
        total.backward()
        if self.sam:
            backup = self._perturb()
            try:
                for p in self.params.values():
                    p.grad = None
                for i, state in replay.items():
                    self.runs[i].net._ctx.generator.set_state(state)
                total, perturbed = self._losses(groups, batches)
                total.backward()
            finally:
                with torch.no_grad():
                    for p, w in zip(self.params.values(), backup, strict=True):
                        p.copy_(w)
            for i, loss in perturbed.items():
                # read once per epoch with the loss sum: a NaN at w + e is
                # reported as divergence
                self.runs[i].net._perturbed_total.add_(loss)
        self._optimizer_step()
        return losses

    def _losses(self, groups, batches):
        """The fused forward passes and each member's loss: their sum and the
        members' detached losses."""
        total, losses = None, {}
        for members in groups.values():
            if members == list(range(self.k)):
                params = self.params
            else:
                index = torch.tensor(members, device=self.device)
                params = {n: p.index_select(0, index) for n, p in self.params.items()}
            X = torch.stack([batches[i][0] for i in members])
            out, features = self.base.forward_stacked(params, X)
            for j, i in enumerate(members):
                net, (_, y, w) = self.runs[i].net, batches[i]
                ctx = net._ctx
                if self.needs_features:
                    ctx.features = features[j]
                loss = net.criterion_(out[j], y, sample_weight=w, context=ctx)
                total = loss if total is None else total + loss
                losses[i] = loss.detach()
        return total, losses

    @torch.no_grad()
    def _perturb(self):
        """SAM's ascent step of each member: ``w + e`` with ``e = rho T^2 g /
        ||T g||`` over the member's own parameters (``T = diag(|w|)`` for
        ASAM), as :meth:`skscor.optim.SAM.first_step` for one network.
        Returns the weights at ``w`` to restore."""
        group = self.optimizer.param_groups[0]
        adaptive = bool(group.get("adaptive", False))
        squares = torch.zeros(self.k, dtype=torch.float32, device=self.device)
        for p in self.params.values():
            if p.grad is None:
                continue
            g = p.grad * p.abs() if adaptive else p.grad
            squares += g.float().pow(2).flatten(1).sum(dim=1)
        rho = torch.tensor(
            [r.net.optimizer_.param_groups[0]["rho"] for r in self.runs],
            dtype=torch.float32,
            device=self.device,
        )
        scale = rho / (squares.sqrt() + _EPS)
        backup = [p.detach().clone() for p in self.params.values()]
        for p in self.params.values():
            if p.grad is None:
                continue
            e = p.grad * scale.view(-1, *([1] * (p.dim() - 1))).to(p.dtype)
            if adaptive:
                e = e * p * p
            p.add_(e)
        return backup

    def _optimizer_step(self):
        """One step of the stacked optimizer at each member's learning rate.

        Each member's learning rate is the one its hooks wrote into its own
        optimizer this epoch. The optimizers used here change a parameter by
        an amount linear in the learning rate, so when the members' rates
        differ one step at the largest is rescaled per member.
        """
        group = self.optimizer.param_groups[0]
        rates = [
            self.runs[i].net.optimizer_.param_groups[0]["lr"]
            for i in range(self.k)
            if i in self.pending
        ]
        if len(set(rates)) == 1:
            group["lr"] = rates[0]
            self.optimizer.step()
            return
        top = max(rates)
        scale = torch.zeros(self.k, device=self.device)
        for i in self.pending:
            scale[i] = self.runs[i].net.optimizer_.param_groups[0]["lr"] / top
        before = [p.detach().clone() for p in self.params.values()]
        group["lr"] = top
        self.optimizer.step()
        with torch.no_grad():
            for p, b in zip(self.params.values(), before, strict=True):
                s = scale.view(-1, *([1] * (p.dim() - 1)))
                p.copy_(b + s * (p - b))

    # ------------------------------------------------------------ state
    def _state_of(self, i):
        """Member ``i``'s slice of the optimizer state (at its last step)."""
        state = {}
        for name, p in self.params.items():
            state[name] = {
                key: (
                    value[i].clone()
                    if torch.is_tensor(value) and value.shape == p.shape
                    else copy.deepcopy(value)
                )
                for key, value in self.optimizer.state.get(p, {}).items()
            }
        return state

    def _release(self):
        """Give each member's parameters their own storage and optimizer state
        (a member still training: its slice's state now). Once."""
        if self.released:
            return
        self.released = True
        for i, run in enumerate(self.runs):
            state = self._state_of(i) if i in self.pending else self.states[i]
            optimizer = run.net.optimizer_
            # SAM keeps its state in its base optimizer
            optimizer = getattr(optimizer, "base_optimizer", optimizer)
            for name, p in run.net.module_.named_parameters():
                p.data = p.data.clone()
                if state is not None and state[name]:
                    optimizer.state[p] = state[name]
