"""skorch glue: the network object behind every estimator's ``net_``, and its loop.

skorch's ``NeuralNet`` holds the module, optimizer, criterion and history (what
users inspect as ``net_.module_``, ``net_.history``). The training loop is our
own: skorch's default data path fetches rows one at a time through a DataLoader
(about 2.2x a hand-written loop on 100k x 50 rows), and its per-batch
notifications and history records, ``loss.item()`` and a ``float(loss)``
divergence check are a host synchronisation per step. Here the data is one
tensor per array on the training device, batches are slices of it, and the
loss sum and its finiteness are read once per epoch.
"""

from __future__ import annotations

import math
import time

import torch
from skorch import NeuralNet

from .exceptions import DivergenceError
from .losses import BatchContext
from .modules import last_linear
from .optim import disable_running_stats, enable_running_stats
from .utils._torch import eval_mode

# Rows per forward pass when scoring the validation split.
_EVAL_BATCH = 8192
# A training loss this many times the loss at the run's initial weights is
# reported as divergence (Adam at learning_rate_init=1e3 reaches about 1e13).
_EXPLOSION = 1e4


class _TensorData:
    """Features, encoded targets and sample weights as tensors on one device."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None):
        # w is None when every weight is one: the losses then take their fused
        # mean path and no weight column is gathered per batch.
        self.X, self.y, self.w = X, y, w

    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def device(self):
        return self.X.device

    def subset(self, idx):
        return _TensorData(*self.take(idx))

    def take(self, rows):
        """``(X, y, w)`` of ``rows`` (a slice or an index tensor)."""
        return self.X[rows], self.y[rows], None if self.w is None else self.w[rows]


class _RowView:
    """Rows ``index`` of a :class:`_TensorData`, gathered batch by batch.

    The members trained in lockstep (``skscor._lockstep``) read their
    training rows through views of one shared copy instead of a copy each.
    """

    def __init__(self, data: _TensorData, index):
        self.data = data
        self.index = torch.as_tensor(index, dtype=torch.int64, device=data.device)

    def __len__(self) -> int:
        return self.index.shape[0]

    @property
    def device(self):
        return self.data.device

    def take(self, rows):
        return self.data.take(self.index[rows])


class _Stopper:
    """scikit-learn's ``MLPClassifier`` stopping rule, phase-aware.

    Without a validation split: a plateau is ``n_iter_no_change`` + 1 epochs
    without the training loss improving by ``tol``; the best loss is reset at a
    phase switch, since a new class weighting changes the loss's scale. With a
    split: the same rule on the class-balanced validation cross-entropy (the
    mean over classes of each class's mean loss), and the weights of its best
    epoch are restored. Measured against stopping on the validation balanced
    accuracy (benchmarks/README.md, "Early stopping"): the loss is smooth
    where the balanced accuracy of a few minority rows jumps, so it neither
    stops at a flat start nor restores an epoch that was lucky on them.
    """

    def __init__(self, tol, n_iter_no_change, use_validation):
        self.tol = tol
        self.patience = n_iter_no_change
        self.use_validation = use_validation
        self.count = 0
        # Best training loss (this phase); the lowest validation loss and the
        # weights of its epoch.
        self.best_loss = self.best_vloss = self.best_state = None
        # History index (0-based) of the epoch whose weights best_state holds.
        self.best_epoch = None

    def new_phase(self):
        self.count = 0
        self.best_loss = None

    def update(self, net, train_loss, vloss=None, epoch=None):
        """Record one epoch; return whether the rule sees a plateau."""
        if self.use_validation:
            improved = self.best_vloss is None or vloss <= self.best_vloss - self.tol
            if self.best_vloss is None or vloss < self.best_vloss:
                self.best_vloss = vloss
                # A copy of each tensor, not a deepcopy of the state: a member
                # trained in lockstep holds views into the stacked weights,
                # whose whole storage a deepcopy would copy.
                self.best_state = {
                    k: v.detach().clone() for k, v in net.module_.state_dict().items()
                }
                self.best_epoch = epoch
        else:
            improved = self.best_loss is None or train_loss <= self.best_loss - self.tol
            if self.best_loss is None or train_loss < self.best_loss:
                self.best_loss = train_loss
        self.count = 0 if improved else self.count + 1
        return self.count > self.patience

    def restore_best(self, net):
        if self.best_state is not None:
            net.module_.load_state_dict(self.best_state)
            self.best_state = None


class _SkNet(NeuralNet):
    """NeuralNet with the fast data path and a lean, phase-aware epoch loop."""

    # Set for the duration of one run only: the context's generator does not
    # pickle and its features are per batch.
    _ctx = None
    _params = ()
    # The post-hoc logit adjustment validation applies (set by a hook).
    decision_shift = None

    def get_default_callbacks(self):
        # The loop below records history itself; skorch's callbacks are unused.
        return []

    # ------------------------------------------------------------ one step
    def _begin_epoch(self, device):
        """Reset per-epoch device accumulators (SAM adds its second pass)."""

    def _divergence(self, train_loss, epoch, reference=None):
        """The error message of a diverged epoch, or None.

        Diverged: a loss that is not finite, or that exploded to more than
        ``_EXPLOSION`` times the loss at the run's initial weights (at least
        1), which a finite float cannot tell from training that still works.
        """
        if not math.isfinite(train_loss):
            what = f"became {train_loss}"
        elif (
            reference is not None
            and math.isfinite(reference)
            and train_loss > _EXPLOSION * max(reference, 1.0)
        ):
            what = (
                f"exploded to {train_loss:.3g} ({train_loss / max(reference, 1.0):.3g}"
                f" times the loss {reference:.3g} at the initial weights)"
            )
        else:
            return None
        return (
            f"The training loss {what} in epoch {epoch}. Training diverged: lower "
            "learning_rate_init or check the input for extreme values; with "
            "preprocessing=None, scale the features (the default "
            "preprocessing='robust' does)."
        )

    def _step(self, X, y, w):
        """One optimizer step; returns the detached loss (no host sync)."""
        opt = self.optimizer_
        # What zero_grad(set_to_none=True) does, without its profiler record
        # and dynamo guard (about 80 us a step, 3% of a small step).
        for p in self._params:
            p.grad = None
        loss = self.criterion_(self.module_(X), y, sample_weight=w, context=self._ctx)
        loss.backward()
        opt.step()
        return loss.detach()

    # ------------------------------------------------------------ the loop
    def run(self, train, valid=None, **kwargs):
        """Train for up to ``epochs`` epochs; return ``(n_completed, interrupted)``.

        Drives :meth:`epochs` with this net's own optimizer step
        (:meth:`_step`); keyword arguments as there.
        """
        loop = self.epochs(train, valid, **kwargs)
        try:
            return self.drive(loop, train)
        finally:
            # An error in a step leaves the loop suspended: its cleanup
            # (the batch context, the feature hook) runs now, not at
            # garbage collection.
            loop.close()

    def drive(self, loop, train, rows=None):
        """Take this net's own steps for ``loop`` (:meth:`epochs`) to its end.

        ``rows``: the step the loop last yielded, when a driver before this
        one took its earlier steps (``skscor._lockstep``'s last member);
        None starts the loop. Returns the loop's ``(done, interrupted)``.
        """
        try:
            if rows is None:
                rows = next(loop)
            while True:
                try:
                    loss = self._step(*train.take(rows))
                except KeyboardInterrupt:
                    rows = loop.throw(KeyboardInterrupt())
                else:
                    rows = loop.send(loss)
        except StopIteration as result:
            return result.value

    def epochs(
        self,
        train,
        valid=None,
        *,
        epochs,
        rng,
        shuffle,
        plan,
        stopper=None,
        hooks=(),
        select=None,
        valid_weight=None,
    ):
        """The epoch loop as a generator of batches; returns ``(done, interrupted)``.

        It yields the rows of ``train`` of each optimizer step (a slice or an
        index tensor) and takes the step's detached loss back: the driver
        takes the step, this net's own (:meth:`run`) or one fused step of
        several members (:mod:`skscor._lockstep`), and a ``KeyboardInterrupt``
        thrown in ends training after the last completed epoch. Everything
        else of an epoch happens here, once for every driver.

        ``plan`` (a :class:`skscor._schedules.TrainingPlan`) gives each
        epoch's values (learning rate, rho, DRW) and decides on phase switches
        and stops; each of ``hooks`` (:class:`skscor._hooks.EpochHook`) is
        notified once per epoch, ``on_epoch_begin(net, values)`` and
        ``on_epoch_end(net, row, decision)``, and writes what it owns.
        Validation scores apply ``self.decision_shift`` (the post-hoc logit
        adjustment of the current phase, set by a hook). The stopping rule
        and the kept epoch follow ``valid_criterion`` (lower is better): the
        class-balanced validation loss, or ``-select(y, logits)`` when
        ``select`` (a score of the held-out labels and decision logits,
        higher is better, e.g. a scikit-learn scorer) is given; its value is
        recorded as ``valid_score``. ``valid_weight`` weighs the classes'
        mean validation losses (None: equally, the balanced log-loss).
        """
        module = self.module_
        device = train.device
        self._params = [p for g in self.optimizer_.param_groups for p in g["params"]]
        self._ctx = BatchContext(generator=rng, shuffled=bool(shuffle))
        hook = self._feature_hook()
        n, bs = len(train), int(self.batch_size)
        done, interrupted = 0, False
        epoch0 = len(self.history)
        # The loss at the run's initial weights (the first batch's, before its
        # step): the scale against which an exploding loss is judged.
        first = reference = None
        try:
            module.train()
            for e in range(epochs):
                # partial_fit's phases follow the total epoch count.
                t = e if plan.convergence else epoch0 + e
                values = plan.values(t)
                for h in hooks:
                    h.on_epoch_begin(self, values)
                t0 = time.perf_counter()
                total = torch.zeros((), dtype=torch.float64, device=device)
                self._begin_epoch(device)
                perm = (
                    torch.randperm(n, generator=rng, device=device) if shuffle else None
                )
                try:
                    for start in range(0, n, bs):
                        if perm is None:
                            sl = slice(start, start + bs)
                        else:
                            sl = perm[start : start + bs]
                        loss = yield sl
                        if first is None:
                            first = loss
                        total.add_(loss, alpha=min(bs, n - start))
                except KeyboardInterrupt:
                    interrupted = True
                    break
                # One host synchronisation per epoch: the loss sum (NaN or inf
                # if any step diverged).
                train_loss = float(total) / n
                if reference is None and first is not None:
                    reference = float(first)
                message = self._divergence(train_loss, epoch0 + e + 1, reference)
                if message is not None:
                    raise DivergenceError(message)
                row = {"epoch": epoch0 + e + 1, "train_loss": train_loss, **values}
                score = vloss = None
                if valid is not None:
                    score, vloss, logits = self.validation_scores(
                        valid, self.decision_shift, valid_weight
                    )
                    module.train()
                    row["valid_bacc"], row["valid_loss"] = score, vloss
                    row["valid_criterion"] = vloss
                    if select is not None:
                        chosen = float(select(logits))
                        row["valid_score"], row["valid_criterion"] = chosen, -chosen
                plateau = False
                if stopper is not None:
                    plateau = stopper.update(
                        self, train_loss, row.get("valid_criterion"), epoch0 + e
                    )
                decision = plan.after_epoch(t, plateau)
                if decision == "switch" and stopper is not None:
                    stopper.new_phase()
                row["dur"] = time.perf_counter() - t0
                self.history.new_epoch()
                for key, value in row.items():
                    self.history.record(key, value)
                done += 1
                for h in hooks:
                    h.on_epoch_end(self, row, decision)
                if decision == "stop":
                    break
        finally:
            self._ctx = None
            self._params = ()
            if hook is not None:
                hook.remove()
        return done, interrupted

    @torch.no_grad()
    def validation_scores(self, valid, shift=None, class_weight=None):
        """Balanced accuracy, class-balanced selection loss and the logits.

        The logits are the decision rule's (``decision_logits``, plus
        ``shift``: the post-hoc logit adjustment); the loss is the mean over
        the classes present of their rows' mean ``selection_loss`` (the
        criterion's: cross-entropy, so balanced log-loss, or the focal loss),
        weighted by ``class_weight`` when given.
        """
        crit, k = self.criterion_, None
        preds, losses, outs = [], [], []
        if shift is not None:
            shift = torch.as_tensor(shift, dtype=torch.float32, device=valid.X.device)
        with eval_mode(self.module_):
            for start in range(0, len(valid), _EVAL_BATCH):
                xb = valid.X[start : start + _EVAL_BATCH]
                yb = valid.y[start : start + _EVAL_BATCH]
                z = crit.decision_logits(self.module_(xb)).float()
                if shift is not None:
                    z = z + shift
                k = z.shape[1]
                outs.append(z)
                preds.append(z.argmax(1))
                losses.append(crit.selection_loss(z, yb))
        pred, true = torch.cat(preds), valid.y
        support = torch.bincount(true, minlength=k)
        hits = torch.bincount(true[pred == true], minlength=k)
        present = support > 0
        n = support[present].double()
        bacc = (hits[present].double() / n).mean()
        per_class = torch.zeros(k, dtype=torch.float64, device=true.device)
        per_class.index_add_(0, true, torch.cat(losses).double())
        mean_loss = per_class[present] / n
        if class_weight is None:
            vloss = mean_loss.mean()
        else:
            v = torch.as_tensor(class_weight, dtype=torch.float64, device=n.device)
            v = v[present]
            vloss = (v * mean_loss).sum() / v.sum()
        return float(bacc), float(vloss), torch.cat(outs)

    def _feature_hook(self):
        if not getattr(self.criterion_, "needs_features", False):
            return None
        layer = last_linear(self.module_)
        if layer is None:
            raise ValueError(
                "This loss needs the penultimate features: the module must end in "
                "a torch.nn.Linear layer, whose input is taken."
            )
        ctx_owner = self

        def keep_input(mod, inputs):
            if ctx_owner._ctx is not None:
                ctx_owner._ctx.features = inputs[0]

        return layer.register_forward_pre_hook(keep_input)

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("_ctx", "_params", "_perturbed_total", "decision_shift"):
            state.pop(key, None)
        return state


class _SAMNet(_SkNet):
    """Sharpness-aware minimization: two passes per step.

    The optimizer is :class:`skscor.optim.SAM`. The second pass replays the
    same batch and the same random SCoR split; BatchNorm statistics come from
    the first pass only. A non-finite loss at ``w + e`` reaches the epoch's
    loss sum (read once per epoch), so it is reported as divergence too.
    """

    def _begin_epoch(self, device):
        self._perturbed_total = torch.zeros((), dtype=torch.float64, device=device)

    def _divergence(self, train_loss, epoch, reference=None):
        perturbed = float(self._perturbed_total)
        if math.isfinite(train_loss) and not math.isfinite(perturbed):
            return (
                f"The training loss at the SAM-perturbed weights became {perturbed} "
                f"in epoch {epoch}. Training diverged: lower rho or "
                "learning_rate_init, or scale the features."
            )
        return super()._divergence(train_loss, epoch, reference)

    def _step(self, X, y, w):
        opt, module, crit, ctx = (
            self.optimizer_,
            self.module_,
            self.criterion_,
            self._ctx,
        )
        # Gradients cleared by hand, as in _SkNet._step (three zero_grad
        # calls a step were 5% of a small SAM step); the second step's are
        # cleared at the start of the next step.
        for p in self._params:
            p.grad = None
        rng = ctx.generator if ctx is not None else None
        # Only an unshuffled batch draws SCoR's permutation from the generator.
        replay = rng is not None and not ctx.shuffled
        rng_state = rng.get_state() if replay else None
        loss = crit(module(X), y, sample_weight=w, context=ctx)
        loss.backward()
        opt.first_step()
        for p in self._params:
            p.grad = None
        disable_running_stats(module)
        try:
            if rng_state is not None:
                rng.set_state(rng_state)
            perturbed = crit(module(X), y, sample_weight=w, context=ctx)
            perturbed.backward()
        except BaseException:
            # Ctrl-C or an error between the two half steps left the weights at
            # w + e and the optimizer refusing every later first_step.
            opt.undo_first_step()
            raise
        finally:
            enable_running_stats(module)
        opt.second_step()
        # Read once per epoch with the loss sum: a NaN at w + e is reported.
        self._perturbed_total.add_(perturbed.detach())
        return loss.detach()
