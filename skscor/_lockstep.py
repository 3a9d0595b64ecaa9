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
share one step, rescaled per member) and criteria without parameters; SAM's
two-pass step (one gradient norm per network) trains its members one after
the other.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import torch


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
        group = dict(nets[0].optimizer_.param_groups[0])
        group["params"] = list(self.params.values())
        self.optimizer = type(nets[0].optimizer_)([group])
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
                self.results[i] = self._alone(i, loops[i])
        finally:
            for loop in loops:
                loop.close()
            self._release()
        return self.results

    def _alone(self, i, loop):
        """Drive member ``i``'s loop with its own step, as ``_SkNet.run`` does."""
        net, data = self.runs[i].net, self.runs[i].data
        rows = self.pending.pop(i)
        try:
            while True:
                try:
                    loss = net._step(*data.take(rows))
                except KeyboardInterrupt:
                    rows = loop.throw(KeyboardInterrupt())
                else:
                    rows = loop.send(loss)
        except StopIteration as stop:
            return stop.value

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
        """One fused step of every member with rows pending; their losses."""
        groups = defaultdict(list)
        for i in sorted(self.pending):
            groups[self._size(i, self.pending[i])].append(i)
        for p in self.params.values():
            p.grad = None
        total, losses = None, {}
        for members in groups.values():
            if members == list(range(self.k)):
                params = self.params
            else:
                index = torch.tensor(members, device=self.device)
                params = {n: p.index_select(0, index) for n, p in self.params.items()}
            batches = [self.runs[i].data.take(self.pending[i]) for i in members]
            X = torch.stack([b[0] for b in batches])
            out, features = self.base.forward_stacked(params, X)
            for j, i in enumerate(members):
                net, (_, y, w) = self.runs[i].net, batches[j]
                ctx = net._ctx
                if self.needs_features:
                    ctx.features = features[j]
                loss = net.criterion_(out[j], y, sample_weight=w, context=ctx)
                total = loss if total is None else total + loss
                losses[i] = loss.detach()
        total.backward()
        self._optimizer_step()
        return losses

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
            for name, p in run.net.module_.named_parameters():
                p.data = p.data.clone()
                if state is not None and state[name]:
                    optimizer.state[p] = state[name]
