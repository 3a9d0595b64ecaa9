"""skorch glue: the network object behind every estimator's ``net_``.

skorch's default data path fetches rows one at a time through a DataLoader
(about 2.2x a hand-written loop on 100k x 50 rows). Here the data is one tensor
per array, kept on the training device, and batches are slices of it.
"""

from __future__ import annotations

import copy
import math
import time

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
from torch.utils.data import Dataset

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite.

    The estimator is left as it was before the call that diverged: unfitted
    after a first ``fit``, or with its previous weights after ``partial_fit``
    or a warm-started ``fit``.
    """


class _TensorData(Dataset):
    """Features, encoded targets and sample weights as tensors on one device.

    Batches are ``(X, (y, w))`` so that skorch forwards only ``X`` to the
    module (skorch passes extra fit arguments to ``module.forward``).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None):
        # w is None when every weight is one: the losses then take their fused
        # mean path and no weight column is gathered per batch.
        self.X, self.y, self.w = X, y, w

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], (self.y[i], None if self.w is None else self.w[i])


class _BatchIterator:
    """Yield slices (or shuffled index batches) of a :class:`_TensorData`."""

    def __init__(self, data, batch_size, shuffle, generator):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        d, bs, n = self.data, self.batch_size, len(self.data)
        if not self.shuffle:
            for start in range(0, n, bs):
                sl = slice(start, start + bs)
                yield d.X[sl], (d.y[sl], None if d.w is None else d.w[sl])
            return
        perm = torch.randperm(n, generator=self.generator, device=d.X.device)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            yield d.X[idx], (d.y[idx], None if d.w is None else d.w[idx])


class _FixedSplit:
    """``train_split`` that returns a validation set prepared by the estimator."""

    def __init__(self, valid):
        self.valid = valid

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid


class _SkNet(NeuralNet):
    """NeuralNet with the fast data path and a weighted, context-aware loss.

    Criteria follow one protocol: ``criterion(logits, y, sample_weight=w)``,
    plus ``generator=`` when the class sets ``needs_generator`` (SCoR's random
    split) and ``features=`` when it sets ``needs_features`` (MR²'s penultimate
    features, captured by a forward hook during training).
    """

    # Set by the estimator for the duration of one fit call only: generators
    # do not pickle and features are per batch.
    _rng = None
    _shuffle = True
    _features = None

    def get_default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]

    def get_iterator(self, dataset, training=False):
        shuffle = training and self._shuffle
        return _BatchIterator(dataset, self.batch_size, shuffle, self._rng)

    def train_step(self, batch, **fit_params):
        """One optimizer step, without skorch's closure machinery.

        skorch wraps each step in ``optimizer.step(closure)`` and notifies
        ``on_grad_computed`` with a generator over all parameters; no skscor
        callback uses either, and users cannot add callbacks. Train mode is
        set only when validation switched it off (``module.train()`` walks
        every submodule on each call).
        """
        if not self.module_.training:
            self._set_training(True)
        Xi, yi = batch
        opt = self.optimizer_
        opt.zero_grad()
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        opt.step()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w = y_true
        crit = self.criterion_
        kwargs = {}
        if getattr(crit, "needs_generator", False):
            kwargs["generator"] = self._rng
            # A shuffled training batch is already a uniformly random subset
            # in random order, so its halves are a fresh random split: skip
            # the permutation and two gathers per step (measured 94 vs 159 us).
            kwargs["permute"] = not (training and self._shuffle)
        if getattr(crit, "needs_features", False):
            kwargs["features"] = self._features
        return crit(y_pred, y, sample_weight=w, **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("_rng", "_features"):
            state.pop(key, None)
        return state


class _DivergenceCheck(Callback):
    """Stop at the first training batch whose loss is not finite."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if training and not math.isfinite(float(loss.detach())):
            epoch = len(net.history)
            raise DivergenceError(
                f"The training loss became {float(loss.detach())} in epoch {epoch}. "
                "Training diverged: lower learning_rate_init, scale the features "
                "(e.g. StandardScaler), or check the input for extreme values."
            )


class _ValidScore(Callback):
    """Balanced accuracy on the internal validation split, recorded per epoch."""

    def on_epoch_begin(self, net, **kwargs):
        self._pred, self._true = [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if not training:
            self._pred.append(y_pred.argmax(1))
            self._true.append(batch[1][0])

    def on_epoch_end(self, net, **kwargs):
        if not self._true:
            return
        pred, true = torch.cat(self._pred), torch.cat(self._true)
        classes = torch.unique(true)
        recalls = [(pred[true == c] == c).float().mean() for c in classes]
        net.history.record("valid_bacc", float(torch.stack(recalls).mean()))
        self._pred, self._true = [], []


class _Stopper(Callback):
    """scikit-learn's ``MLPClassifier`` stopping rule.

    Without a validation split: stop when the training loss has not improved by
    ``tol`` for more than ``n_iter_no_change`` epochs. With one: the same on
    the validation balanced accuracy, keeping and restoring the best weights.
    """

    def __init__(self, tol, n_iter_no_change, use_validation):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.use_validation = use_validation

    def on_train_begin(self, net, **kwargs):
        self.count_ = 0
        self.best_ = None
        self.best_state_ = None
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        if self.use_validation:
            score = net.history[-1, "valid_bacc"]
            improved = self.best_ is None or score >= self.best_ + self.tol
            if self.best_ is None or score > self.best_:
                self.best_ = score
                self.best_state_ = copy.deepcopy(net.module_.state_dict())
        else:
            loss = net.history[-1, "train_loss"]
            improved = self.best_ is None or loss <= self.best_ - self.tol
            if self.best_ is None or loss < self.best_:
                self.best_ = loss
        self.count_ = 0 if improved else self.count_ + 1
        if self.count_ > self.n_iter_no_change:
            self.stopped_ = True
            # skorch ends training on KeyboardInterrupt; the estimator tells
            # this apart from a user's Ctrl-C through ``stopped_``.
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        self.best_state_ = None


class _Progress(Callback):
    """One line per epoch: loss, validation score, time."""

    def on_epoch_begin(self, net, **kwargs):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        parts = [f"epoch {len(net.history):>4d}", f"loss {row['train_loss']:.5f}"]
        if "valid_bacc" in row:
            parts.append(f"valid balanced accuracy {row['valid_bacc']:.4f}")
        parts.append(f"{time.perf_counter() - self._t0:.2f}s")
        print(" | ".join(parts), flush=True)


class _SAMNet(_SkNet):
    """Sharpness-aware minimization as a skorch ``train_step``.

    skorch's closure zero-grads before every call, so handing a SAM optimizer
    to a plain net would silently mix gradients; here the two passes are
    explicit. The optimizer is :class:`skscor.optim.SAM`.
    """

    def train_step(self, batch, **fit_params):
        from .optim import disable_running_stats, enable_running_stats

        if not self.module_.training:
            self._set_training(True)
        Xi, yi = batch
        opt = self.optimizer_
        opt.zero_grad()
        # The second pass must see the same batch *and* the same random SCoR
        # split: replay the generator from its state before the first pass.
        rng_state = self._rng.get_state() if self._rng is not None else None
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        opt.first_step(zero_grad=True)
        # BatchNorm running statistics are updated by the first pass only.
        disable_running_stats(self.module_)
        try:
            if rng_state is not None:
                self._rng.set_state(rng_state)
            loss_perturbed = self.get_loss(
                self.infer(Xi, **fit_params), yi, X=Xi, training=True
            )
            # The divergence callback sees only the first pass's loss: a
            # non-finite loss at w + e would step with NaN gradients unseen.
            if not math.isfinite(float(loss_perturbed.detach())):
                raise DivergenceError(
                    f"The training loss at the SAM-perturbed weights became "
                    f"{float(loss_perturbed.detach())} in epoch "
                    f"{len(self.history)}. Training diverged: lower rho or "
                    "learning_rate_init, or scale the features."
                )
            loss_perturbed.backward()
        except BaseException:
            # Ctrl-C (which skorch swallows) or an error between the two half
            # steps left the weights at w + e and the optimizer refusing every
            # later first_step: put w back and re-arm it.
            opt.undo_first_step()
            raise
        finally:
            enable_running_stats(self.module_)
        opt.second_step(zero_grad=True)
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}


class _RhoCallback(Callback):
    """Set SAM's ``rho`` at the start of each epoch from a schedule."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, net, **kwargs):
        rho = self.schedule(len(net.history) - 1)
        for group in net.optimizer_.param_groups:
            group["rho"] = rho
        net.history.record("rho", rho)


class _DRWCallback(Callback):
    """Deferred re-weighting: set the criterion's class weights each epoch.

    Weights are ones before ``start * max_iter`` and effective-number weights
    after, scaled so that their mean over the training rows is one (the loss
    keeps its scale; the reference code's per-batch normalization of
    ``cross_entropy(weight=...)`` is biased on small batches).
    """

    def __init__(self, class_counts, max_iter, beta, start):
        self.class_counts = class_counts
        self.max_iter = max_iter
        self.beta = beta
        self.start = start

    def weights_at(self, epoch):
        from .losses import drw_weights

        counts = torch.as_tensor(self.class_counts, dtype=torch.float64)
        w = drw_weights(
            counts,
            epoch,
            max_iter=self.max_iter,
            beta=self.beta,
            start=self.start,
            dtype=torch.float64,
        )
        return w * counts.sum() / torch.clamp((w * counts).sum(), min=1e-12)

    def on_epoch_begin(self, net, **kwargs):
        weights = self.weights_at(len(net.history) - 1)
        buf = net.criterion_.class_weight
        buf.copy_(weights.to(dtype=buf.dtype, device=buf.device))
