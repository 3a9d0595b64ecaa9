"""Training: the network built from the estimator, one run of it, what follows."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from . import _encoding as enc
from ._net import _Stopper, _TensorData
from ._reports import REPORT_ROWS, set_fitted_state, set_reports, warn_if_collapsed
from ._schedules import TrainingPlan
from .losses import ClassWeighted
from .modules import MLP
from .utils._torch import eval_mode


class _TrainingMixin:
    """Build the skorch net, run one ``fit``/``partial_fit`` call, warn, report.

    Reads the estimator's parameters and the hooks of
    :class:`skscor._base._BaseNetClassifier` (``_make_loss``,
    ``_optimizer_spec``, ``_plan_options``, ``_apply_values``, ``_net_class``).
    """

    def _class_weights(self, counts):
        """The per-class loss weights, scaled to mean one over the rows."""
        cw = enc.class_weight_vector(self.classes_, self._static_class_weight(), counts)
        if cw is None:
            return None
        total = float((cw * counts).sum())
        return cw * counts.sum() / total if total > 0 else cw

    def _prior(self, crit=None):
        """Class prior the loss trains under: frequencies times class weights."""
        crit = self.net_.criterion_ if crit is None else crit
        mass = self.class_counts_ * crit.class_weight.detach().cpu().double().numpy()
        mass = np.maximum(mass, 1e-12 * mass.max())
        return mass / mass.sum()

    def _posthoc_shift(self):
        """``-tau * log(prior)`` of the post-hoc logit adjustment, or None."""
        if self.logit_adjustment != "post-hoc" or self.tau == 0:
            return None
        return -self.tau * np.log(self._prior())

    def _build_net(self, n_features, class_counts, device, batch_size, class_weight):
        if self.module is None:
            module = MLP(
                n_features,
                self.n_classes_,
                hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                activation=self.activation,
                dropout=self.dropout,
                head=self._head,
            )
        else:
            module = self.module(n_features, self.n_classes_)
            if not isinstance(module, torch.nn.Module):
                raise TypeError(
                    "module must build a torch.nn.Module from (n_features, "
                    f"n_classes); it returned {type(module).__name__}."
                )
        optimizer, opt_kwargs = self._optimizer_spec()
        net = self._net_class(
            module=module,
            criterion=ClassWeighted(self._make_loss(class_counts), self.n_classes_),
            optimizer=optimizer,
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            device=device,
            verbose=0,
            **{f"optimizer__{k}": v for k, v in opt_kwargs.items()},
        )
        net.initialize()
        net.criterion_.set_class_weight(class_weight)
        if self.logit_adjustment == "loss" and self.tau > 0:
            prior = self._prior(net.criterion_)
            net.criterion_.set_logit_offset(self.tau * np.log(prior))
        return net

    def _check_module_output(self, X):
        with eval_mode(self.net_.module_), torch.no_grad():
            out = self.net_.module_(X[:2])
        if out.ndim != 2 or out.shape[1] != self.n_classes_:
            raise ValueError(
                f"module must return logits of shape (n_samples, {self.n_classes_}); "
                f"it returned shape {tuple(out.shape)}."
            )

    def _apply_values(self, net, values):
        """Apply one epoch's schedule values (overridden by SAM for rho, DRW)."""
        for group in net.optimizer_.param_groups:
            group["lr"] = values["lr"]

    def _train(self, X, y_enc, sample_weight, device, seed, first, partial):
        # The loss's per-class weights now, from the counts so far ('balanced'
        # follows the accumulated counts of partial_fit)...
        class_weight = self._class_weights(self.class_counts_)
        # ...and the ones asked for, validated up front (DRW defers them to its
        # final phase): they must leave two classes with positive weight.
        requested = enc.class_weight_vector(
            self.classes_, self._static_class_weight(), self.class_counts_
        )
        sw = enc.sample_weights(
            X, y_enc, sample_weight, requested, self.classes_, partial=partial
        )
        batch_size = enc.resolve_batch_size(self.batch_size, X.shape[0])
        Xt = torch.tensor(X, dtype=torch.float32, device=device)
        yt = torch.as_tensor(y_enc, dtype=torch.int64, device=device)
        wt = (
            None
            if sw is None
            else torch.as_tensor(sw, dtype=torch.float32, device=device)
        )
        data, valid = _TensorData(Xt, yt, wt), None
        use_validation = self.early_stopping and not partial
        eval_rows = None
        if use_validation:
            train_idx, valid_idx = enc.validation_split(
                y_enc, self.validation_fraction, seed
            )
            data, valid = data.subset(train_idx), data.subset(valid_idx)
            eval_rows = valid_idx
        if first:
            self.net_ = self._build_net(
                X.shape[1], self.class_counts_, device, batch_size, class_weight
            )
            self._check_module_output(data.X)
        elif partial:
            self.net_.criterion_.set_class_weight(class_weight)
        net = self.net_
        net.batch_size = batch_size
        epochs = 1 if partial else self.max_iter
        plan = TrainingPlan(
            max_iter=self.max_iter,
            # net_.lr: learning_rate_init at build time, or a later
            # net_.set_params(lr=...) on a fitted estimator.
            lr=net.lr,
            learning_rate=self.learning_rate,
            warmup_epochs=self.warmup_epochs,
            convergence=not partial,
            **self._plan_options(),
        )
        stopper = (
            None
            if partial
            else _Stopper(self.tol, self.n_iter_no_change, use_validation)
        )
        epochs_before = len(net.history)
        rng = torch.Generator(device=device).manual_seed(seed)
        done, interrupted = net.run(
            data,
            valid,
            epochs=epochs,
            rng=rng,
            shuffle=self.shuffle,
            plan=plan,
            stopper=stopper,
            apply_values=self._apply_values,
            on_epoch=self._progress if self.verbose else None,
            # A callable: the prior moves when DRW changes the class weights.
            valid_shift=self._posthoc_shift,
        )
        if stopper is not None:
            stopper.restore_best(net)
        if eval_rows is None:
            eval_rows = self._report_rows(len(y_enc), seed)
        logits = self._check_finite(X[eval_rows])
        set_fitted_state(
            self,
            net,
            use_validation=use_validation,
            partial=partial,
            since=epochs_before,
        )
        self.switch_epoch_ = (
            None
            if plan.switch_epoch is None or plan.switch_epoch >= done
            else epochs_before + plan.switch_epoch
        )
        self.stop_reason_ = self._stop_reason(plan, done, epochs, interrupted)
        set_reports(self, y_enc[eval_rows], logits)
        self._warn_after_fit(
            plan, done, epochs, interrupted, partial, y_enc, eval_rows, logits
        )

    def _report_rows(self, n, seed):
        if n <= REPORT_ROWS:
            return np.arange(n)
        return np.sort(
            np.random.default_rng(seed).choice(n, REPORT_ROWS, replace=False)
        )

    @staticmethod
    def _stop_reason(plan, done, epochs, interrupted):
        if interrupted:
            return "interrupted"
        if plan.stop_reason is not None:
            return plan.stop_reason
        return "max_iter" if done == epochs else "interrupted"

    def _warn_after_fit(
        self, plan, done, epochs, interrupted, partial, y_enc, rows, logits
    ):
        name = type(self).__name__
        if interrupted:
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {done} of "
                f"{epochs} epochs; the estimator keeps the weights of the last "
                "completed batch.",
                RuntimeWarning,
                stacklevel=5,
            )
            return
        if partial:
            return
        phase = plan.phase_warning(done)
        if phase is not None:
            warnings.warn(f"{name}: {phase}", ConvergenceWarning, stacklevel=5)
        elif self.stop_reason_ == "max_iter":
            warnings.warn(
                f"{name}: maximum iterations ({epochs}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=5,
            )
        warn_if_collapsed(self, y_enc[rows], logits)

    def _progress(self, row, decision):
        parts = [f"epoch {row['epoch']:>4d}", f"loss {row['train_loss']:.5f}"]
        if "valid_bacc" in row:
            parts.append(f"valid balanced accuracy {row['valid_bacc']:.4f}")
            parts.append(f"valid loss {row['valid_loss']:.4f}")
        parts.append(f"lr {row['lr']:.3g}")
        if "rho" in row:
            parts.append(f"rho {row['rho']:.3g}")
        if row.get("drw"):
            parts.append("DRW on")
        parts.append(f"{row['dur']:.2f}s")
        print(" | ".join(parts), flush=True)
        if decision == "switch":
            print("final phase starts next epoch (plateau or schedule)", flush=True)
        elif decision == "stop":
            print(
                "training stopped: the stopping rule saw no improvement by tol "
                f"for {self.n_iter_no_change} epochs",
                flush=True,
            )
        elif row["epoch"] == self.max_iter:
            print(f"training stopped: max_iter={self.max_iter} reached", flush=True)
