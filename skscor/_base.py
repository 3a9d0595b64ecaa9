"""The scikit-learn contract and the fit transaction shared by every estimator."""

from __future__ import annotations

import copy
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _encoding as enc
from . import _persistence
from ._net import _SkNet, _Stopper, _TensorData
from ._reports import REPORT_ROWS, set_fitted_state, set_reports, warn_if_collapsed
from ._schedules import TrainingPlan
from .exceptions import DivergenceError
from .losses import ClassWeighted
from .modules import MLP
from .utils._torch import eval_mode, torch_threads

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
# Rows per forward pass at prediction time: bounds memory on large inputs.
_PREDICT_BATCH = 8192


def extends_base_signature(init):
    """Give a subclass ``__init__(self, own..., **base)`` the full signature.

    scikit-learn reads an estimator's parameters from ``inspect.signature`` of
    ``__init__``; this sets ``__signature__`` to the subclass's own parameters
    followed by the base's (keyword-only), so each estimator lists only what
    it adds instead of repeating twenty base parameters.
    """
    own = list(inspect.signature(init).parameters.values())[:-1]
    base = list(inspect.signature(_BaseNetClassifier.__init__).parameters.values())
    init.__signature__ = inspect.Signature(
        own + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in base[1:]]
    )
    return init


class _BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Base class: validation, encoding, the fit transaction and prediction.

    Subclasses add their hyperparameters (``__init__`` decorated with
    :func:`extends_base_signature`) and implement ``_make_loss(class_counts)``;
    they may override ``_head``, ``_net_class``, ``_static_class_weight``,
    ``_optimizer_spec`` and ``_plan_options``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity", "gelu"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant", "step", "cosine", "adaptive"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "logit_adjustment": [StrOptions({"loss", "post-hoc"}), None],
        "tau": [Interval(Real, 0, None, closed="left")],
        "module": [callable, None],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "n_threads": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # Output layer of the default MLP; LDAM needs a cosine head.
    _head = "linear"
    _net_class = _SkNet

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        dropout=0.0,
        optimizer="adam",
        learning_rate_init=1e-3,
        learning_rate="constant",
        warmup_epochs=0,
        weight_decay=0.0,
        momentum=0.9,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight="balanced",
        logit_adjustment=None,
        tau=1.0,
        module=None,
        device="auto",
        n_threads="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.logit_adjustment = logit_adjustment
        self.tau = tau
        self.module = module
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _validate_params(self):
        super()._validate_params()
        # The "array-like" constraint accepts any sequence; a width of 0 or less
        # would fail deep inside torch (RuntimeError) or build a layer without
        # units, and a float would be truncated silently.
        sizes = self.hidden_layer_sizes
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers, got "
                f"{sizes!r}."
            )

    # ----------------------------------------------------------------- hooks
    def _make_loss(self, class_counts: np.ndarray) -> torch.nn.Module:
        raise NotImplementedError

    def _static_class_weight(self):
        """Static per-class weights: 'balanced', a dict, or None."""
        return self.class_weight

    def _optimizer_spec(self):
        """The optimizer class and its keyword arguments (``lr`` aside)."""
        kwargs = {"weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            kwargs["momentum"] = self.momentum
        elif self.optimizer in ("adam", "adamw"):
            # Multi-tensor updates: measured faster on CPU (benchmarks/README.md).
            kwargs["foreach"] = True
        return _OPTIMIZERS[self.optimizer], kwargs

    def _plan_options(self) -> dict:
        """Method schedules for :class:`TrainingPlan` (SAM: rho and DRW)."""
        return {}

    # ------------------------------------------------------------ public API
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (dense; cast to float32, so values must lie
            within float32's range, about 3.4e38).
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights, normalized to mean one and
            multiplied with the class weights in the loss.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        DivergenceError
            If a training loss, the final weights or the final logits are not
            finite. As for any error, the estimator is left as before the
            call: unfitted, or (``warm_start=True``) with its previous weights.

        Warns
        -----
        RuntimeWarning
            If training is interrupted (KeyboardInterrupt): the estimator keeps
            the weights of the last completed batch; ``n_iter_`` and
            ``loss_curve_`` count completed epochs only.
        ConvergenceWarning
            If ``max_iter`` ends training before it converged, or a training
            phase (DRW, a learning-rate or rho schedule) could not run.
        CollapseWarning
            If the fitted network ignores classes on the training data.
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "net_")
        return self._fit(
            X, y, sample_weight, incremental=warm, classes=None, partial=False
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        Class counts accumulate over the calls (``class_counts_``): they give
        ``class_weight='balanced'`` and logit adjustment their frequencies and
        LDAM/VS their margins (fixed at the first call, whose network they
        shape). Schedules follow the total epoch count ``n_iter_`` (no stopping
        rule runs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Class labels; each must be one of ``classes``. One call may hold
            a single class.
        classes : array-like of shape (n_classes,), default=None
            All labels that can appear across calls, at least two. Required on
            the first call, ignored later.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        DivergenceError
            If the training loss, the weights or the logits become non-finite;
            the estimator keeps its previous weights (unfitted on a first call).
        """
        self._validate_params()
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "network's output size is fixed by the full set of labels."
            )
        return self._fit(
            X, y, sample_weight, incremental=not first, classes=classes, partial=True
        )

    def decision_function(self, X):
        """Decision scores: the logits of the decision rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, ``z_1 - z_0`` (the score of ``classes_[1]``, as in
            scikit-learn); otherwise the logits, float64. With
            ``logit_adjustment='post-hoc'`` they are adjusted.
        """
        z = self._logits(X)
        if z.shape[1] == 2:
            return z[:, 1] - z[:, 0]
        return z

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float64
        """
        z = self._logits(X)
        z -= z.max(axis=1, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
        return z

    def predict_proba(self, X):
        """Class probabilities: the softmax of the decision logits.

        With ``logit_adjustment='post-hoc'`` these are the probabilities
        under a uniform class prior (the training prior divided out, to the
        power ``tau``), so that :meth:`predict` stays their argmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Rows sum to one; columns follow ``classes_``.

        Raises
        ------
        ValueError
            If ``X`` is invalid, or the logits of some row are not finite
            (inputs far outside the training range overflow float32).
        """
        # In place: one (n_samples, n_classes) float64 buffer plus row sums.
        p = self._logits(X)
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict(self, X):
        """Predicted labels (from ``classes_``): the argmax of ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def save_weights(self, f):
        """Save the network weights and what is needed to rebuild the network.

        The file holds only tensors, numbers, strings and lists, so
        :meth:`load_weights` reads it with ``torch.load(weights_only=True)``.
        Hyperparameters are not saved; load into an estimator constructed with
        the same ones.

        Parameters
        ----------
        f : str, path-like or binary file object
            Destination.

        Examples
        --------
        >>> import io
        >>> from sklearn.datasets import load_iris
        >>> from skscor import SCoRClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = SCoRClassifier(hidden_layer_sizes=(8,), max_iter=5,
        ...                      random_state=0).fit(X, y)
        >>> buf = io.BytesIO(); clf.save_weights(buf); _ = buf.seek(0)
        >>> new = SCoRClassifier(hidden_layer_sizes=(8,)).load_weights(buf)
        >>> bool((new.predict(X) == clf.predict(X)).all())
        True
        """
        _persistence.save_weights(self, f)

    def load_weights(self, f):
        """Load weights saved by :meth:`save_weights` (safely: weights only).

        Parameters
        ----------
        f : str, path-like or binary file object
            Source.

        Returns
        -------
        self : object
            The estimator, fitted with the loaded weights.

        Raises
        ------
        ValueError
            If the file is not a skscor weights file, holds objects other than
            tensors and plain data (a tampered file is refused, not executed),
            or does not match this estimator's network.
        """
        return _persistence.load_weights(self, f)

    # ------------------------------------------------------- the transaction
    def _fit(self, X, y, sample_weight, *, incremental, classes, partial):
        first = not incremental
        previous = self._snapshot() if incremental else None
        # Validation is inside the try: validate_data(reset=True) sets
        # n_features_in_, which made an estimator whose first fit failed on its
        # y look fitted.
        try:
            X, y = validate_data(
                self, X, y, reset=first, dtype=[np.float32, np.float64]
            )
            enc.check_float32_range(X)
            check_classification_targets(y)
            if first and classes is None and np.unique(y).size < 2:
                raise ValueError(
                    "The classifier needs samples of at least 2 classes in the "
                    "data, but the data contains only one class: "
                    f"{np.unique(y).tolist()[0]!r}."
                )
            if not first and not partial:
                # A warm-started fit keeps the output layer, hence the classes.
                missing = np.setdiff1d(np.unique(y), self.classes_)
                if missing.size:
                    raise ValueError(
                        "warm_start=True keeps the fitted classes "
                        f"{self.classes_.tolist()}; y has new labels "
                        f"{missing.tolist()}. Refit with warm_start=False."
                    )
            y_enc = enc.encode_labels(self, y, classes, first)
            counts = np.bincount(y_enc, minlength=self.n_classes_).astype(float)
            if partial and not first:
                counts = counts + self.class_counts_
            self.class_counts_ = counts
            device = enc.resolve_device(self.device) if first else self.net_.device
            seed = enc.draw_seed(self.random_state)
            fork = (
                [torch.device(device).index or 0]
                if str(device).startswith("cuda")
                else []
            )
            with torch.random.fork_rng(devices=fork), self._threads():
                torch.manual_seed(seed)
                self._train(X, y_enc, sample_weight, device, seed, first, partial)
        except BaseException:
            # Never leave a half-fitted estimator (classes_ set, no net_) or
            # NaN weights behind: undo this call, then report.
            self._restore(previous)
            raise
        return self

    def _threads(self):
        return torch_threads(self.n_threads, self.hidden_layer_sizes)

    def _snapshot(self):
        net = self.net_
        return {
            "module": copy.deepcopy(net.module_.state_dict()),
            "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
            "criterion": copy.deepcopy(net.criterion_.state_dict()),
            "history": copy.deepcopy(net.history),
            "class_counts_": self.class_counts_.copy(),
        }

    def _restore(self, previous):
        if previous is None:
            for attr in [
                a for a in vars(self) if a.endswith("_") and not a.startswith("_")
            ]:
                delattr(self, attr)
            return
        net = self.net_
        net.module_.load_state_dict(previous["module"])
        net.optimizer_.load_state_dict(previous["optimizer"])
        net.criterion_.load_state_dict(previous["criterion"])
        net.history = previous["history"]
        self.class_counts_ = previous["class_counts_"]

    # ------------------------------------------------------------ training
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

    def _build_net(self, n_features, class_counts, device, batch_size):
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
        net.criterion_.set_class_weight(self._class_weights(class_counts))
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
        sw = enc.sample_weights(
            X,
            y_enc,
            sample_weight,
            enc.class_weight_vector(
                self.classes_, self._static_class_weight(), self.class_counts_
            ),
            self.classes_,
            partial=partial,
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
                X.shape[1], self.class_counts_, device, batch_size
            )
            self._check_module_output(data.X)
        elif partial:
            # New counts: 'balanced' weights follow the accumulated counts.
            self.net_.criterion_.set_class_weight(
                self._class_weights(self.class_counts_)
            )
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

    # ------------------------------------------------------------ inference
    def _check_finite(self, X):
        """Raise DivergenceError unless the trained state and its logits are finite.

        The per-epoch loss check cannot see weights so large that the logits
        overflow float32 while the loss stayed finite. Returns the logits of X.
        """
        net = self.net_
        for name, state in (
            ("weights", net.module_.state_dict()),
            ("loss state", net.criterion_.state_dict()),
        ):
            for key, value in state.items():
                if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                    raise DivergenceError(
                        f"Training diverged: the network's {name} ({key}) are not "
                        "finite after the last step. Lower learning_rate_init or "
                        "scale the features (e.g. StandardScaler)."
                    )
        logits = self._forward(X)
        if not np.isfinite(logits).all():
            raise DivergenceError(
                "Training diverged: the trained network's outputs (logits) on the "
                "training data are not finite. Lower learning_rate_init or scale "
                "the features (e.g. StandardScaler)."
            )
        return logits

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        enc.check_float32_range(X)
        with self._threads():
            z = self._forward(X)
        # Finite inputs far outside the training range can still overflow the
        # float32 forward pass; NaN probabilities must not pass silently.
        if not np.isfinite(z).all():
            raise ValueError(
                "The network's outputs (logits) are not finite for some rows of X: "
                "the inputs are probably far outside the range seen in training. "
                "Scale X as the training data was scaled."
            )
        return z

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """Decision logits of validated rows, in bounded-memory batches, float64."""
        net = self.net_
        module, crit = net.module_, net.criterion_
        out = np.empty((X.shape[0], self.n_classes_), dtype=np.float64)
        with eval_mode(module), torch.inference_mode():
            for start in range(0, X.shape[0], _PREDICT_BATCH):
                # torch.tensor copies: read-only or F-ordered inputs are fine.
                xb = torch.tensor(
                    X[start : start + _PREDICT_BATCH], dtype=torch.float32
                )
                z = crit.decision_logits(module(xb.to(net.device)))
                out[start : start + xb.shape[0]] = z.double().cpu().numpy()
        if self.logit_adjustment == "post-hoc" and self.tau > 0:
            out -= self.tau * np.log(self._prior())
        return out
