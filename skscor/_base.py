"""The scikit-learn contract and the fit transaction shared by every estimator."""

from __future__ import annotations

import copy
import inspect
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer_names
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_y,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from . import _encoding as enc
from . import _persistence
from ._inference import _PredictMixin
from ._net import _SkNet
from ._preprocessing import TabularEncoder
from ._reports import _ReportsMixin
from ._training import _TrainingMixin
from .utils._torch import torch_threads

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


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


#: ``weight_decay='auto'``: the L2 strength where the rarest class has between
#: ``_AUTO_DECAY_ROWS`` training rows (bounds included) and is the only class
#: with that few (not a long tail of small classes), a stronger one there
#: when the largest class has ``_AUTO_DECAY_STRONG_RATIO`` times the rarest's
#: rows or more, and the strongest at that ratio when the rarest class of a
#: binary problem has at most ``_AUTO_DECAY_FEW_ROWS`` rows (an estimator's
#: ``_auto_decay_levels``; SCoR's penalty does the first level's work, so its
#: first level is 0).
#: Measured on natural tasks with the minority cut to 8, 12 and 20 rows, on 32
#: KEEL sets and 19 sets no suite used, and on the generated ratio-4,500 tasks
#: (benchmarks/README.md, "Stop 31" to "Stop 33"): with a few dozen heavily
#: weighted minority rows the members otherwise fit them exactly, the more so
#: the heavier their weights and the fewer the rows; from 50 rows on decay
#: cost quality and fit time, on classes of one to four rows it cost the worst
#: class, below a ratio of about 100 the stronger decay cost, and the
#: strongest lost on the generated tasks with 13 rows, tied at 20 and cost
#: balanced accuracy on a six-class task; on 16 multi-class tasks with
#: several classes under 50 rows (long tails) decay cost balanced accuracy
#: and lifted the worst class little if at all.
_AUTO_DECAY = 1e-2
_AUTO_DECAY_STRONG = 3e-2
_AUTO_DECAY_STRONGEST = 1e-1
_AUTO_DECAY_ROWS = (5, 49)
_AUTO_DECAY_STRONG_RATIO = 150
_AUTO_DECAY_FEW_ROWS = 12


def auto_weight_decay(
    class_counts,
    class_weight,
    levels=(_AUTO_DECAY, _AUTO_DECAY_STRONG, _AUTO_DECAY_STRONGEST),
) -> float:
    """The strength ``weight_decay='auto'`` resolves to.

    ``class_weight`` holds the per-class loss weights the fit trains with
    (DRW: its final phase's), or is None for unweighted training. The result
    is ``levels[0]`` where the rarest class has a few dozen rows, every other
    class more, and its rows weigh more than the largest class's;
    ``levels[1]`` there at an extreme imbalance ratio; ``levels[2]`` at that
    ratio when the problem has two classes and the rarer has at most
    ``_AUTO_DECAY_FEW_ROWS`` rows; 0 otherwise: the rule is for heavily
    weighted minority rows (unweighted training lost with decay).
    """
    # The rarest class trained on: a class not seen yet (partial_fit with
    # ``classes``) has no rows to memorise.
    counts = np.asarray(class_counts, dtype=float)
    present = np.flatnonzero(counts > 0)
    rarest = present[np.argmin(counts[present])]
    largest = present[np.argmax(counts[present])]
    low, high = _AUTO_DECAY_ROWS
    # The second smallest class: decay is for one heavily weighted minority;
    # where several classes are small (a long tail) it cost balanced accuracy
    # and lifted the worst class little if at all.
    runner_up = np.sort(counts[present])[1] if present.size > 1 else np.inf
    if (
        class_weight is None
        or not class_weight[rarest] > class_weight[largest]
        or not low <= counts[rarest] <= high
        or runner_up <= high
    ):
        return 0.0
    if counts[largest] < _AUTO_DECAY_STRONG_RATIO * counts[rarest]:
        return levels[0]
    # The strongest level for two classes only: on a six-class task it cost
    # every estimator balanced accuracy.
    few = counts[rarest] <= _AUTO_DECAY_FEW_ROWS and counts.size == 2
    return levels[2] if few else levels[1]


def _check_numeric_frame(X):
    """With ``preprocessing=None`` a frame must be numeric: name the columns
    that are not, instead of the conversion error of whichever library meets
    them first (its wording changes with the pandas and numpy versions)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = {
        str(col): str(dtype)
        for col, dtype in dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    }
    if bad:
        listed = ", ".join(f"{col!r} ({dtype})" for col, dtype in bad.items())
        raise ValueError(
            f"preprocessing=None takes numeric columns only; not numeric: {listed}. "
            "Encode them before the estimator, or keep the default "
            "preprocessing='robust', which encodes categorical columns itself."
        )


def _is_missing(value) -> bool:
    """None, a float NaN or pandas' NA (without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ == "NAType"


def _check_labels_present(y):
    """Labels that are not numbers, with a missing one (None, pandas' NA, or
    NaN among strings): name the rows, instead of numpy's "'<' not supported
    between 'NoneType' and 'str'" or pandas' "boolean value of NA is
    ambiguous" from deep inside a check (numeric labels with NaN get
    scikit-learn's own error)."""
    kind = getattr(getattr(y, "dtype", None), "kind", None)
    if kind in ("b", "i", "u", "f", "c", "U", "S"):
        return  # numbers (NaN: scikit-learn's check) and numpy strings
    labels = np.asarray(y, dtype=object).ravel()
    missing = np.flatnonzero([_is_missing(v) for v in labels])
    if missing.size:
        rows = ", ".join(str(i) for i in missing[:5])
        more = f" and {missing.size - 5} more" if missing.size > 5 else ""
        where = "row" if missing.size == 1 else "rows"
        raise ValueError(
            f"Input y contains missing labels (None, NA or NaN) at {where} "
            f"{rows}{more}: drop those rows, or give them a label."
        )


class _BaseNetClassifier(
    _TrainingMixin, _PredictMixin, _ReportsMixin, ClassifierMixin, BaseEstimator
):
    """Base class: parameters, their validation and the fit transaction.

    Training lives in :class:`skscor._training._TrainingMixin`, prediction in
    :class:`skscor._inference._PredictMixin`.

    Subclasses add their hyperparameters (``__init__`` decorated with
    :func:`extends_base_signature`) and implement ``_make_loss(class_counts)``;
    they may override ``_head``, ``_net_class``, ``_auto_decay_levels``,
    ``_check_rules``, ``_class_weight_request``, ``_optimizer_spec`` and
    ``_plan_options``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity", "gelu"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant", "step", "cosine", "adaptive"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"refit"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "logit_adjustment": [StrOptions({"loss", "post-hoc"}), None],
        "tau": [Interval(Real, 0, None, closed="left")],
        "output_prior": [StrOptions({"balanced", "training"}), None],
        "decision_offsets": [StrOptions({"auto"}), None],
        "output_temperature": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
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
        "preprocessing": [StrOptions({"robust", "quantile"}), None],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric_embedding": [StrOptions({"periodic", "auto"}), None],
    }

    # weight_decay='auto''s three strengths (see auto_weight_decay).
    _auto_decay_levels = (_AUTO_DECAY, _AUTO_DECAY_STRONG, _AUTO_DECAY_STRONGEST)
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
        learning_rate_init=3e-3,
        learning_rate="constant",
        warmup_epochs=0,
        weight_decay="auto",
        momentum=0.9,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=True,
        validation_fraction=0.2,
        n_members=5,
        scoring=None,
        class_weight="balanced",
        logit_adjustment=None,
        tau=1.0,
        output_prior=None,
        decision_offsets="auto",
        output_temperature="auto",
        module=None,
        device="auto",
        n_threads="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        preprocessing="robust",
        categorical_features="from_dtype",
        numeric_embedding="auto",
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
        self.n_members = n_members
        self.scoring = scoring
        self.class_weight = class_weight
        self.logit_adjustment = logit_adjustment
        self.tau = tau
        self.output_prior = output_prior
        self.decision_offsets = decision_offsets
        self.output_temperature = output_temperature
        self.module = module
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.preprocessing = preprocessing
        self.categorical_features = categorical_features
        self.numeric_embedding = numeric_embedding

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The input conditioning imputes NaN, types categorical columns and
        # takes sparse matrices (densified within a size limit).
        conditioned = self.preprocessing is not None
        tags.input_tags.allow_nan = conditioned
        tags.input_tags.categorical = conditioned
        tags.input_tags.sparse = conditioned
        return tags

    def _validate_params(self):
        """The one validation entry: every parameter and every rule between them.

        Runs first in every ``fit``, ``partial_fit`` and ``load_weights``
        call, before any data is looked at (as scikit-learn's
        ``_fit_context``), so that ``set_params`` between calls is checked too.
        """
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
        if self.numeric_embedding == "periodic" and self.module is not None:
            # 'auto' chooses among the embeddings the network can have: with
            # a custom module, none.
            raise ValueError(
                "numeric_embedding='periodic' shapes the default MLP; a custom "
                "module builds its own input layer. Set numeric_embedding=None "
                "(or 'auto') with module."
            )
        self._check_rules()

    # ----------------------------------------------------------------- hooks
    def _check_rules(self):
        """Rules between parameters (subclasses add theirs); raise ValueError."""

    def _make_loss(self, class_counts: np.ndarray) -> torch.nn.Module:
        raise NotImplementedError

    def _class_weight_request(self, counts):
        """The requested per-class weights: ``(weight, final_weight, deferred)``.

        ``weight`` is a vector or None (from ``class_weight``); subclasses
        with a deferred schedule (SAM's DRW) return the final phase's weights
        and ``deferred=True``. :mod:`skscor._balance` resolves them.
        """
        return (
            enc.class_weight_vector(self.classes_, self.class_weight, counts),
            None,
            False,
        )

    def _optimizer_spec(self):
        """The optimizer class and its keyword arguments (``lr`` aside)."""
        # resolved once per call, with the class counts (_fit, load_weights)
        kwargs = {"weight_decay": self.weight_decay_}
        if self.optimizer == "sgd":
            kwargs["momentum"] = self.momentum
        elif self.optimizer in ("adam", "adamw"):
            # Multi-tensor updates, measured faster on CPU (benchmarks/README.md);
            # fused kernels instead where the device has them (optimizer_kernels).
            kwargs["foreach"] = True
        return _OPTIMIZERS[self.optimizer], kwargs

    def _weight_decay(self) -> float:
        """``weight_decay`` resolved on the class counts seen so far and the
        class weights they give (``weight_decay_``)."""
        if self.weight_decay != "auto":
            return float(self.weight_decay)
        weight, final, deferred = self._class_weight_request(self.class_counts_)
        return auto_weight_decay(
            self.class_counts_, final if deferred else weight, self._auto_decay_levels
        )

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
        >>> from sklearn.preprocessing import StandardScaler
        >>> X, y = load_iris(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> clf = SCoRClassifier(hidden_layer_sizes=(8,), learning_rate_init=1e-2,
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
            X, y = self._validated(
                X, y, reset=first, conditioned=self.preprocessing is not None
            )
            if first:
                self.preprocessor_ = self._make_preprocessor(X)
            X = self._encoded(X)
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
            self.weight_decay_ = self._weight_decay()
            device = enc.resolve_device(self.device) if first else self.net_.device
            seed = enc.draw_seed(self.random_state)
            fork = (
                [torch.device(device).index or 0]
                if str(device).startswith("cuda")
                else []
            )
            with torch.random.fork_rng(devices=fork):
                torch.manual_seed(seed)
                self._train_members(
                    X, y_enc, sample_weight, device, seed, first, partial
                )
        except BaseException:
            # Never leave a half-fitted estimator (classes_ set, no net_) or
            # NaN weights behind: undo this call, then report.
            self._restore(previous)
            raise
        return self

    # ------------------------------------------------------------ the input
    def _validated(self, X, y=None, *, reset, conditioned):
        """scikit-learn's checks of ``X`` (and ``y``), before any encoding.

        Without input conditioning, ``validate_data`` as before. With it,
        numeric arrays and sparse matrices are checked by ``validate_data``
        (NaN allowed: it imputes); a DataFrame or an object array keeps its
        columns as they are (the preprocessing types them), with feature
        names and the number of columns checked. ``conditioned`` follows
        ``preprocessing`` when fitting and ``preprocessor_`` afterwards.
        """
        with_y = y is not None
        if with_y:
            _check_labels_present(y)
        if not conditioned:
            _check_numeric_frame(X)
            out = validate_data(
                self,
                X,
                y if with_y else "no_validation",
                reset=reset,
                dtype=[np.float32, np.float64],
            )
            return out if with_y else (out, None)
        # Frames and arrays of objects or strings keep their columns as they
        # are: the preprocessing types them (and names the column it refuses).
        kind = getattr(getattr(X, "dtype", None), "kind", None)
        tabular = hasattr(X, "dtypes") or kind in ("O", "U", "S")
        if tabular:
            validate_data(
                self,
                X,
                y if with_y else "no_validation",
                reset=reset,
                skip_check_array=True,
            )
            if not with_y:
                return X, None
            y = _check_y(y, estimator=self)
            check_consistent_length(X, y)
            return X, y
        out = validate_data(
            self,
            X,
            y if with_y else "no_validation",
            reset=reset,
            accept_sparse=("csr", "csc"),
            # NaN is imputed, and infinity is refused by the preprocessing,
            # whose error names the column (scikit-learn's does not).
            ensure_all_finite=False,
            dtype=[np.float32, np.float64],
        )
        return out if with_y else (out, None)

    def _make_preprocessor(self, X):
        """The input conditioning of a first fit (None: ``preprocessing=None``)."""
        if self.preprocessing is None:
            return None
        return TabularEncoder(
            categorical_features=self.categorical_features,
            numeric=self.preprocessing,
        ).fit(X, caller=type(self).__name__)

    def _encoded(self, X):
        """The network's float32 input from validated rows."""
        pre = getattr(self, "preprocessor_", None)
        if pre is not None:
            X = pre.transform(X, caller=type(self).__name__)
        enc.check_float32_range(X)
        return X

    def _network_input(self, X):
        """Validate and encode ``X`` as at prediction (also for the analyses)."""
        check_is_fitted(self)
        conditioned = getattr(self, "preprocessor_", None) is not None
        X, _ = self._validated(X, reset=False, conditioned=conditioned)
        return self._encoded(X)

    def _threads(self):
        """The fit-scoped thread policy, sized by the network actually built."""
        net = self.__dict__.get("net_")
        if net is not None and getattr(net, "initialized_", False):
            widths = [
                m.out_features
                for m in net.module_.modules()
                if isinstance(m, torch.nn.Linear)
            ][:-1]
        elif self.module is None:
            widths = list(self.hidden_layer_sizes)
        else:
            widths = []
        return torch_threads(self.n_threads, widths)

    def _snapshot(self):
        nets = self.__dict__.get("members_") or [self.net_]
        return {
            "nets": [
                {
                    "net": net,
                    "module": copy.deepcopy(net.module_.state_dict()),
                    "optimizer_obj": net.optimizer_,
                    "optimizer": copy.deepcopy(net.optimizer_.state_dict()),
                    "inner": net.criterion_.inner,
                    "criterion": copy.deepcopy(net.criterion_.state_dict()),
                    "history": copy.deepcopy(net.history),
                }
                for net in nets
            ],
            # Fitted attributes are replaced, never mutated, by a call: a
            # shallow copy restores them.
            "fitted": {k: v for k, v in vars(self).items() if _is_fitted_attr(k)},
        }

    def _restore(self, previous):
        for attr in [a for a in vars(self) if _is_fitted_attr(a)]:
            delattr(self, attr)
        if previous is None:
            return
        vars(self).update(previous["fitted"])
        for saved in previous["nets"]:
            net = saved["net"]
            net.module_.load_state_dict(saved["module"])
            net.optimizer_ = saved["optimizer_obj"]
            net.optimizer_.load_state_dict(saved["optimizer"])
            net.criterion_.inner = saved["inner"]
            net.criterion_.load_state_dict(saved["criterion"])
            net.history = saved["history"]


def _is_fitted_attr(name):
    """Public fitted attributes (``classes_``) and the private fitted state."""
    if name.startswith("__"):
        return False
    return name.endswith("_") or name.startswith("_report")
