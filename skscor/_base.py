"""The scikit-learn contract shared by every skscor estimator."""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._net import (
    DivergenceError,
    _DivergenceCheck,
    _FixedSplit,
    _Progress,
    _SkNet,
    _Stopper,
    _TensorData,
    _ValidScore,
)
from .metrics import class_disparity
from .modules import MLP, last_linear
from .spectral import spectral_report

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
_WEIGHTS_FORMAT = "skscor-weights-1"
# Rows per forward pass at prediction time: bounds memory on large inputs.
_PREDICT_BATCH = 8192
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(X: np.ndarray) -> None:
    """Refuse values that become infinite in the network's float32.

    ``validate_data`` keeps float64 input as float64 and checks it for NaN and
    inf in float64; the cast at the torch boundary then turns ``|x| > 3.4e38``
    into inf, which gave NaN probabilities at predict time without an error.
    """
    if X.dtype == np.float64 and X.size:
        largest = max(X.max(), -X.min())
        if largest > _FLOAT32_MAX:
            raise ValueError(
                "Input X contains a value too large for dtype('float32'), the "
                f"precision the network computes in (largest magnitude {largest:.3g}"
                "); scale the features, e.g. with StandardScaler."
            )


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but CUDA is not available on this "
            "machine; use device='auto' or device='cpu'."
        )
    return device


class _BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Base class: validation, label encoding, seeding, training and prediction.

    Subclasses set their own hyperparameters in ``__init__`` (after calling
    nothing: scikit-learn reads the signature) and implement
    ``_make_criterion(class_counts)``; they may override ``_head`` and
    ``_net_class``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity", "gelu"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
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
        "module": [callable, None],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
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
        weight_decay=0.0,
        momentum=0.9,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        module=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
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
        self.module = module
        self.device = device
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
    def _make_criterion(self, class_counts: np.ndarray) -> torch.nn.Module:
        raise NotImplementedError

    def _class_weight_dict(self):
        """Static per-class weights: 'balanced', a dict, or None."""
        return self.class_weight

    def _optimizer_spec(self):
        """The optimizer class and its keyword arguments (``lr`` aside)."""
        kwargs = {"weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            kwargs["momentum"] = self.momentum
        return _OPTIMIZERS[self.optimizer], kwargs

    def _on_epoch_callbacks(self, class_counts: np.ndarray) -> list:
        """Extra skorch callbacks of a method (e.g. schedules); none by default."""
        return []

    # ------------------------------------------------------------ public API
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features (dense; ints and floats are cast to float32, so
            values must lie within float32's range, about 3.4e38).
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights, multiplied with ``class_weight``
            and normalized to mean one.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        DivergenceError
            If a training loss, the final weights or the final logits on the
            training data are not finite. As for any error, the estimator is
            left as before the call: unfitted, or (``warm_start=True``) with
            its previous weights.

        Warns
        -----
        RuntimeWarning
            If training is interrupted (KeyboardInterrupt). The estimator
            stays usable with the weights of the last completed batch;
            ``n_iter_`` and ``loss_curve_`` count completed epochs only
            (``best_loss_`` is None if none completed).
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "net_")
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=warm,
            classes=None,
            epochs=self.max_iter,
            partial=False,
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Class labels; each must be one of ``classes``. One call may hold
            a single class.
        classes : array-like of shape (n_classes,), default=None
            All labels that can appear across calls, at least two. Required on
            the first call (as for scikit-learn's incremental estimators),
            ignored later.
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

        Warns
        -----
        RuntimeWarning
            If the epoch is interrupted (KeyboardInterrupt): the weights of its
            completed batches are kept, ``n_iter_`` is not increased.
        """
        self._validate_params()
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "network's output size is fixed by the full set of labels."
            )
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one "
                "call's labels do not give the class frequencies. Compute them "
                "with sklearn.utils.class_weight.compute_class_weight on the "
                "full data and pass class_weight as a dict."
            )
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=not first,
            classes=classes,
            epochs=1,
            partial=True,
        )

    def decision_function(self, X):
        """Raw network outputs (logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, ``z_1 - z_0`` (the score of ``classes_[1]``, as in
            scikit-learn); otherwise the logits, float64.
        """
        z = self._logits(X)
        if z.shape[1] == 2:
            return z[:, 1] - z[:, 0]
        return z

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, from ``log_softmax`` of the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float64
        """
        return log_softmax(self._logits(X), axis=1)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the logits.

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
            (inputs far outside the training range overflow float32): never
            NaN probabilities. The other prediction methods raise alike.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Predicted labels (from ``classes_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    # ----------------------------------------------------------- persistence
    def save_weights(self, f):
        """Save the network weights and what is needed to rebuild the network.

        The file holds only tensors, numbers, strings and lists, so
        :meth:`load_weights` reads it with ``torch.load(weights_only=True)``:
        loading a weights file cannot execute code, unlike unpickling a
        fitted estimator. Hyperparameters are not saved; load into an
        estimator constructed with the same ones.

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
        check_is_fitted(self)
        net = self.net_

        def cpu_state(mod):
            return {k: v.detach().cpu() for k, v in mod.state_dict().items()}

        payload = {
            "format": _WEIGHTS_FORMAT,
            "estimator": type(self).__name__,
            "classes": self.classes_.tolist(),
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": (
                self.feature_names_in_.tolist()
                if hasattr(self, "feature_names_in_")
                else None
            ),
            "class_counts": [float(c) for c in self._class_counts],
            "module": cpu_state(net.module_),
            "criterion": cpu_state(net.criterion_),
            "loss_curve": list(self.loss_curve_),
        }
        torch.save(payload, f)

    def load_weights(self, f):
        """Rebuild the network from :meth:`save_weights` output.

        Parameters
        ----------
        f : str, path-like or binary file object
            A file written by :meth:`save_weights`.

        Returns
        -------
        self : object
            Fitted: predicts like the saved estimator. ``disparity_report_``
            is ``None`` (it needs the training data).

        Raises
        ------
        ValueError
            If the file is not a skscor weights file, holds objects other than
            tensors and plain data (a tampered file is refused, not executed),
            or does not match this estimator's network.
        """
        self._validate_params()
        try:
            payload = torch.load(f, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ValueError(
                "Could not read a skscor weights file: it is not one, or it holds "
                "objects other than tensors and plain data, which are refused "
                f"(torch.load with weights_only=True): {err}"
            ) from err
        if not isinstance(payload, dict) or payload.get("format") != _WEIGHTS_FORMAT:
            raise ValueError("Not a skscor weights file (missing format marker).")
        if payload.get("estimator") != type(self).__name__:
            raise ValueError(
                f"The weights were saved from a {payload.get('estimator')}; load "
                f"them into that estimator, not a {type(self).__name__}."
            )
        # A file that does not load leaves the estimator as it was: fitted
        # state is set below before the network is built, and a mismatch used
        # to delete a previous fit, or (other errors) leave it half-replaced.
        before = dict(vars(self))
        try:
            self.classes_ = np.asarray(payload["classes"])
            self.n_classes_ = len(self.classes_)
            self.n_features_in_ = payload["n_features_in"]
            self.__dict__.pop("feature_names_in_", None)
            if payload["feature_names_in"] is not None:
                self.feature_names_in_ = np.asarray(
                    payload["feature_names_in"], dtype=object
                )
            counts = np.asarray(payload["class_counts"])
            self._class_counts = counts
            device = _resolve_device(self.device)
            batch_size = 200 if self.batch_size == "auto" else self.batch_size
            try:
                net = self._build_net(self.n_features_in_, counts, device, batch_size)
                net.module_.load_state_dict(payload["module"])
                net.criterion_.load_state_dict(payload["criterion"])
            except (RuntimeError, KeyError) as err:
                raise ValueError(
                    "The saved weights do not match this estimator's network; "
                    "construct it with the hyperparameters it was trained with. "
                    f"({err})"
                ) from err
            loss_curve = [float(v) for v in payload["loss_curve"]]
        except BaseException as err:
            self.__dict__.clear()
            self.__dict__.update(before)
            if isinstance(err, KeyError):
                raise ValueError(
                    f"Not a complete skscor weights file (missing {err})."
                ) from err
            raise
        # Replay the loss curve into the history: further training (partial_fit,
        # warm_start) then extends n_iter_ and loss_curve_ instead of restarting.
        for epoch, loss in enumerate(loss_curve, start=1):
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("train_loss", loss)
        self.net_ = net
        self.loss_curve_ = loss_curve
        self.n_iter_ = len(self.loss_curve_)
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else None
        self.validation_scores_ = None
        self.best_validation_score_ = None
        self.spectral_report_ = spectral_report(net.module_)
        self.disparity_report_ = None
        return self

    # ------------------------------------------------------------- internals
    def _validate_X_predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        _check_float32_range(X)
        return X

    def _logits(self, X) -> np.ndarray:
        z = self._forward(self._validate_X_predict(X))
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
        """Logits of validated rows, in bounded-memory batches, as float64."""
        net = self.net_
        module = net.module_
        was_training = module.training
        module.eval()
        out = np.empty((X.shape[0], self.n_classes_), dtype=np.float64)
        try:
            with torch.inference_mode():
                for start in range(0, X.shape[0], _PREDICT_BATCH):
                    # torch.tensor copies: read-only or F-ordered inputs are fine.
                    xb = torch.tensor(
                        X[start : start + _PREDICT_BATCH], dtype=torch.float32
                    ).to(net.device)
                    out[start : start + xb.shape[0]] = module(xb).double().cpu().numpy()
        finally:
            module.train(was_training)
        return out

    def _seed(self) -> int:
        return int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )

    def _encode_y(self, y, classes, first):
        if first:
            if classes is None:
                classes = np.unique(y)
            else:
                classes = np.unique(np.asarray(classes))
                # partial_fit accepts single-class chunks, so the declared
                # labels must make a classification problem on their own.
                if classes.size < 2:
                    raise ValueError(
                        f"classes must hold at least 2 labels, got {classes.tolist()}."
                    )
            self.classes_ = classes
            self.n_classes_ = len(classes)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y)

    def _sample_weights(self, X, y_enc, sample_weight, *, partial=False) -> np.ndarray:
        sw = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        class_weight = self._class_weight_dict()
        if class_weight is not None:
            present = np.unique(y_enc)
            if class_weight == "balanced":
                cw = compute_class_weight("balanced", classes=present, y=y_enc)
                per_class = np.zeros(self.n_classes_)
                per_class[present] = cw
            else:
                per_class = np.ones(self.n_classes_)
                unknown = set(class_weight) - set(self.classes_.tolist())
                if unknown:
                    raise ValueError(
                        f"class_weight has keys {sorted(unknown, key=str)} that are "
                        f"not class labels {self.classes_.tolist()}."
                    )
                for label, weight in class_weight.items():
                    # NaN passes a "< 0" test (and was reported as weights that
                    # sum to zero); inf makes the normalized weights NaN; a
                    # string failed with a bare TypeError from the comparison.
                    if (
                        not isinstance(weight, Real)
                        or not np.isfinite(weight)
                        or weight < 0
                    ):
                        raise ValueError(
                            "class_weight must be finite and non-negative, got "
                            f"{weight!r} for class {label!r}."
                        )
                    per_class[np.searchsorted(self.classes_, label)] = weight
            sw = sw * per_class[y_enc]
        total = sw.sum()
        if not total > 0:
            raise ValueError("sample_weight (times class_weight) sums to zero.")
        positive = np.unique(y_enc[sw > 0])
        # partial_fit chunks may hold a single class (classes is declared up
        # front, as for scikit-learn's incremental estimators); fit may not.
        if positive.size < 2 and not partial:
            raise ValueError(
                "The classifier needs samples of at least 2 classes with positive "
                f"weight; only class {self.classes_[positive].tolist()} has any."
            )
        return sw * (len(sw) / total)

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
            criterion=self._make_criterion(class_counts),
            optimizer=optimizer,
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            callbacks=[],
            device=device,
            verbose=0,
            **{f"optimizer__{k}": v for k, v in opt_kwargs.items()},
        )
        net.initialize()
        return net

    def _check_module_output(self, net, X):
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            out = module(X[:2])
        module.train(was_training)
        if out.ndim != 2 or out.shape[1] != self.n_classes_:
            raise ValueError(
                f"module must return logits of shape (n_samples, {self.n_classes_}); "
                f"it returned shape {tuple(out.shape)}."
            )

    def _fit(self, X, y, sample_weight, *, incremental, classes, epochs, partial):
        first = not incremental
        previous = self._snapshot() if incremental else None
        # Validation is inside the try: validate_data(reset=True) sets
        # n_features_in_ (and feature_names_in_), which made an estimator whose
        # first fit failed on its y look fitted (predict then raised
        # AttributeError instead of NotFittedError).
        try:
            X, y = validate_data(
                self, X, y, reset=first, dtype=[np.float32, np.float64]
            )
            _check_float32_range(X)
            check_classification_targets(y)
            if first:
                n_labels = np.unique(y).size if classes is None else None
                if n_labels is not None and n_labels < 2:
                    raise ValueError(
                        "The classifier needs samples of at least 2 classes in the "
                        "data, but the data contains only one class: "
                        f"{np.unique(y).tolist()[0]!r}."
                    )
            elif not partial:
                # A warm-started fit keeps the output layer, hence the classes.
                missing = np.setdiff1d(np.unique(y), self.classes_)
                if missing.size:
                    raise ValueError(
                        "warm_start=True keeps the fitted classes "
                        f"{self.classes_.tolist()}; y has new labels "
                        f"{missing.tolist()}. Refit with warm_start=False."
                    )
            y_enc = self._encode_y(y, classes, first)
            sw = self._sample_weights(X, y_enc, sample_weight, partial=partial)
            counts = np.bincount(y_enc, minlength=self.n_classes_)
            if first:
                # Class counts of the first fit define LDAM/VS margins and DRW.
                self._class_counts = counts
            device = _resolve_device(self.device) if first else self.net_.device
            seed = self._seed()
            cuda = str(device).startswith("cuda")
            fork_devices = [torch.device(device).index or 0] if cuda else []
            with torch.random.fork_rng(devices=fork_devices):
                torch.manual_seed(seed)
                self._train(X, y_enc, sw, counts, device, seed, first, epochs, partial)
        except BaseException:
            # Never leave a half-fitted estimator (classes_ set, no net_) or
            # NaN weights behind: undo this call, then report. BaseException:
            # a Ctrl-C outside skorch's epoch loop (which handles it itself)
            # must not leave a half-fitted estimator either.
            self._restore(previous)
            raise
        return self

    def _snapshot(self):
        net = self.net_
        return {
            "module": copy.deepcopy(net.module_.state_dict()),
            "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
            "criterion": copy.deepcopy(net.criterion_.state_dict()),
            "history": copy.deepcopy(net.history),
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

    def _train(self, X, y_enc, sw, counts, device, seed, first, epochs, partial):
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else self.batch_size
        Xt = torch.tensor(X, dtype=torch.float32, device=device)
        yt = torch.as_tensor(y_enc, dtype=torch.int64, device=device)
        unit = bool(np.all(sw == 1.0))
        wt = None if unit else torch.as_tensor(sw, dtype=torch.float32, device=device)

        valid = None
        use_validation = self.early_stopping and not partial
        eval_X, eval_y = X, y_enc
        if use_validation:
            train_idx, valid_idx = self._split(y_enc, seed)
            eval_X, eval_y = X[valid_idx], y_enc[valid_idx]
            valid = _TensorData(
                Xt[valid_idx], yt[valid_idx], None if unit else wt[valid_idx]
            )
            Xt, yt = Xt[train_idx], yt[train_idx]
            wt = None if unit else wt[train_idx]
        if first:
            self.net_ = self._build_net(X.shape[1], counts, device, batch_size)
            self._check_module_output(self.net_, Xt)
        net = self.net_
        net.batch_size = batch_size

        callbacks = [_DivergenceCheck()]
        if use_validation:
            callbacks.append(_ValidScore())
        stopper = None
        if not partial:
            stopper = _Stopper(self.tol, self.n_iter_no_change, use_validation)
            callbacks.append(stopper)
        callbacks += self._on_epoch_callbacks(counts)
        if self.verbose:
            callbacks.append(_Progress())
        net.callbacks_ = net.get_default_callbacks() + [
            (f"skscor_{i}", cb) for i, cb in enumerate(callbacks)
        ]
        for _, cb in net.callbacks_:
            cb.initialize()

        net._rng = torch.Generator(device=device).manual_seed(seed)
        net._shuffle = self.shuffle
        net.train_split = _FixedSplit(valid) if valid is not None else None
        hook = self._register_feature_hook(net)
        epochs_before = len(net.history)
        try:
            net.partial_fit(_TensorData(Xt, yt, wt), None, epochs=epochs)
        finally:
            net._rng = None
            net._features = None
            net.train_split = None
            if hook is not None:
                hook.remove()
        logits = self._check_finite(net, eval_X)
        self._after_train(net, stopper, epochs, epochs_before, use_validation, partial)
        self._set_reports(eval_y, logits)

    def _check_finite(self, net, X):
        """Raise DivergenceError unless the trained state and its logits are finite.

        The per-batch loss check cannot see the last optimizer step of a call
        (nothing is evaluated after it), nor weights so large that the logits
        overflow float32 while the loss stayed finite: both left an estimator
        that looked fitted but predicted NaN. Returns the logits of ``X``.
        """
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

    def _set_reports(self, y_enc, logits):
        """Fitted diagnostics: weight spectra and per-class recall disparity."""
        self.spectral_report_ = spectral_report(self.net_.module_)
        with warnings.catch_warnings():
            # A class absent from this data is listed in the report's
            # absent_labels; the warning would repeat on every partial_fit.
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            self.disparity_report_ = class_disparity(
                self.classes_[y_enc],
                self.classes_[np.argmax(logits, axis=1)],
                labels=self.classes_,
            )

    def _register_feature_hook(self, net):
        if not getattr(net.criterion_, "needs_features", False):
            return None
        layer = last_linear(net.module_)
        if layer is None:
            raise ValueError(
                f"{type(self).__name__} needs the penultimate features: the module "
                "must end in a torch.nn.Linear layer, whose input is taken."
            )

        def keep_input(mod, inputs):
            net._features = inputs[0]

        return layer.register_forward_pre_hook(keep_input)

    def _after_train(
        self, net, stopper, epochs, epochs_before, use_validation, partial
    ):
        history = net.history
        # skorch ends training quietly on KeyboardInterrupt; mid-epoch, that
        # epoch's history row has no train_loss. Drop it, so that n_iter_ and
        # loss_curve_ count completed epochs (an interrupt in the first epoch
        # raised KeyError and lost the fit); the weights keep its batches.
        if len(history) > epochs_before and "train_loss" not in history[-1]:
            history.pop()
        trained = len(history) - epochs_before
        stopped = stopper is not None and stopper.stopped_
        # partial_fit (no stopper) is interrupted just the same.
        if not stopped and trained < epochs:
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {trained} of "
                f"{epochs} epochs; the estimator keeps the weights of the last "
                "completed batch.",
                RuntimeWarning,
                stacklevel=5,
            )
        self.n_iter_ = len(history)
        self.loss_curve_ = []
        if len(history):
            self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else None
        if use_validation:
            self.validation_scores_ = []
            if trained:
                self.validation_scores_ = [
                    float(v) for v in history[epochs_before:, "valid_bacc"]
                ]
            self.best_validation_score_ = (
                max(self.validation_scores_) if self.validation_scores_ else None
            )
        elif not partial:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if (
            stopper is not None
            and not stopper.stopped_
            and trained == epochs
            and not partial
        ):
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({epochs}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _split(self, y_enc, seed):
        n = y_enc.shape[0]
        kw = {
            "n_splits": 1,
            "test_size": self.validation_fraction,
            "random_state": seed,
        }
        try:
            train_idx, valid_idx = next(
                StratifiedShuffleSplit(**kw).split(np.zeros(n), y_enc)
            )
        except ValueError:
            # Too few members in some class to stratify: fall back to a plain split.
            train_idx, valid_idx = next(ShuffleSplit(**kw).split(np.zeros(n)))
        if len(train_idx) == 0 or len(valid_idx) == 0:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves an empty split of {n} samples."
            )
        return train_idx, valid_idx
