"""The public estimators: each adds its own hyperparameters and loss."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from . import _docs
from ._base import (
    _AUTO_DECAY_STRONG,
    _AUTO_DECAY_STRONGEST,
    _BaseNetClassifier,
    extends_base_signature,
)
from ._net import _SAMNet
from .losses import (
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    MR2Loss,
    SCoRLoss,
    VSLoss,
    effective_number_weights,
)
from .optim import SAM

__all__ = ["SCoRClassifier", "FocalClassifier", "SAMClassifier", "MR2Classifier"]


def _ls_note(**measured):
    # indented for the class docstrings' Notes sections
    text = _docs.LABEL_SMOOTHING_NOTE.format(**measured)
    return text.replace("\n", "\n    ")


# label_smoothing=0.1 against 0 (benchmarks/README.md, "Stop 34")
_FOCAL_LS_NOTE = _ls_note(
    quality="+0.007 / +0.022",
    natural="+0.001 / -0.002",
    cut="-0.001 / +0.010",
    letter="0.749 / 0.340 -> 0.787 / 0.380",
)
_SAM_LS_NOTE = _ls_note(
    quality="+0.006 / +0.019",
    natural="+0.001 / +0.004",
    cut="+0.001 / +0.014",
    letter="0.760 / 0.369 -> 0.797 / 0.404",
)
_MR2_LS_NOTE = _ls_note(
    quality="+0.005 / +0.014",
    natural="+0.000 / +0.001",
    cut="+0.004 / +0.015",
    letter="0.772 / 0.388 -> 0.809 / 0.429",
)


@_docs.fill_doc
class SCoRClassifier(_BaseNetClassifier):
    __doc__ = f"""Neural classifier trained with the SCoR loss.

    Cross-entropy plus a stochastic covariance regularizer on the batch logits,
    ``alpha * ||A^T B||_F``, with ``A`` and ``B`` a fresh random split of the
    batch into halves. It needs no class counts and no class-dependent
    hyperparameters.

    Parameters
    ----------
    alpha : float, default=1e-3
        Strength of the covariance penalty; ``0`` gives plain cross-entropy.
        The paper's setting is ``1e-4``; ``1e-3`` measured better on the
        benchmarks (see Notes).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy term (SCoR+LS uses 0.1).
    {_docs.SCOR_BASE_PARAMS}

    Attributes
    ----------
    {_docs.ATTRIBUTES}

    See Also
    --------
    skscor.losses.scor_loss : The loss, as a torch function.

    Notes
    -----
    **Defaults and the paper's setting.** The defaults weigh the classes
    (``class_weight='balanced'``), measured to lift worst-class recall over
    plain cross-entropy on most of the 26 benchmark tasks; the paper's
    setting is ``SCoRClassifier(alpha=1e-4, class_weight=None)`` (unweighted
    cross-entropy plus the penalty at the paper's strength).

    **The penalty's strength.** ``alpha=1e-3``, ten times the paper's, was
    chosen on the project's benchmarks (26 small tasks, 13 large natural ones
    and natural tasks whose minority was cut to 8-50 training rows; 3 seeds):
    it lifts worst-class recall where the rarest class has a few rows, and
    ties elsewhere. Stronger penalties (``1e-2``) did better still where a
    minority of 8-20 rows sits among thousands of noisy rows, but cost
    balanced accuracy on the small tasks and on generated data with a
    well-separated minority; tune ``alpha`` on a log grid for such data.

    Per batch of logits :math:`Z \\in R^{{B\\times C}}`:

    .. math::

        L = \\frac{{1}}{{B}} \\sum_i w_i\\,\\mathrm{{CE}}(z_i, y_i)
            + \\alpha\\,\\|A^\\top B\\|_F

    where a fresh random split of the batch gives the halves :math:`A, B`;
    an odd batch uses
    :math:`\\|Z^\\top Z\\|_F`. The norm is not squared and not divided by the
    batch size. The split comes from the estimator's seeded generator: with
    ``shuffle=True`` each batch is already a uniformly random subset in random
    order (drawn from that generator), so its two halves are the split; with
    ``shuffle=False`` a permutation is drawn per batch.

    %(ref_scor)s

    Examples
    --------
    A 95:5 problem; the network trains on standardized features.

    >>> from sklearn.datasets import make_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skscor import SCoRClassifier
    >>> X, y = make_classification(n_samples=1000, weights=[0.95], random_state=0)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     SCoRClassifier(hidden_layer_sizes=(32,), learning_rate_init=1e-2,
    ...                    random_state=0),
    ... ).fit(X, y)
    >>> clf[-1].class_counts_
    array([946.,  54.])

    Five early-stopped members; each row's out-of-fold prediction (by the
    member that did not train on it) scores the ensemble honestly:

    >>> len(clf[-1].members_)
    5
    >>> bool(clf[-1].disparity_report_.worst_class_recall > 0.85)
    True
    """

    _parameter_constraints = {
        **_BaseNetClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    @extends_base_signature
    def __init__(
        self,
        alpha=1e-3,
        label_smoothing=0.0,
        **base_params,
    ):
        super().__init__(**base_params)
        self.alpha = alpha
        self.label_smoothing = label_smoothing

    # weight_decay='auto': no decay where the rarest class merely has a few
    # dozen rows (the covariance penalty keeps the members from fitting them,
    # and decay cost SCoR there), 3e-2 and 1e-1 at extreme ratios, where they
    # gained (benchmarks/README.md, "Stop 31" to "Stop 33").
    _auto_decay_levels = (0.0, _AUTO_DECAY_STRONG, _AUTO_DECAY_STRONGEST)

    def _make_loss(self, class_counts):
        return SCoRLoss(alpha=self.alpha, label_smoothing=self.label_smoothing)


@_docs.fill_doc
class FocalClassifier(_BaseNetClassifier):
    __doc__ = f"""Neural classifier trained with the focal loss.

    ``FL = -alpha_t (1 - p_t)^gamma log p_t`` down-weights well-classified
    samples so that training concentrates on hard (often minority) ones.

    Parameters
    ----------
    gamma : float, default=1.0
        Focusing parameter; ``0`` gives cross-entropy. The default is the
        SAM paper's (the focal paper's is 2.0; see Notes).
    alpha : float, array-like of shape (n_classes,) or None, default=None
        The paper's class-balance weight. For two classes a float in (0, 1)
        weighs ``classes_[1]`` by ``alpha`` and ``classes_[0]`` by
        ``1 - alpha``; an array gives one weight per class (in ``classes_``
        order). It is the same concept as ``class_weight``, so the two cannot
        both be set: ``alpha`` is applied as class weights, which are
        normalized with the sample weights to mean one.
    label_smoothing : float, default=0.1
        Smoothing of the target distribution, each class's term modulated by
        its own probability (see :func:`skscor.losses.focal_loss`); ``0`` is
        the paper's loss.
    {_docs.BASE_PARAMS}

    Attributes
    ----------
    {_docs.ATTRIBUTES}

    See Also
    --------
    skscor.losses.focal_loss : The loss, as a torch function.

    Notes
    -----
    **Defaults and the paper's setting.** The defaults weigh the classes
    (``class_weight='balanced'``); the paper's setting is
    ``FocalClassifier(gamma=2.0, class_weight=None, label_smoothing=0)``,
    optionally with its ``alpha``. ``gamma=1`` is the default because it
    measured better than 2 and than 0.5 beside the balanced weights and the
    early-stopped members:
    on 26 small tasks (3 seeds) worst-class recall +0.007 and balanced
    accuracy +0.002 over ``gamma=2`` (higher on 18 and 21 tasks, lower on
    3), and on 13 natural tasks +0.004 / +0.001; the focal term down-weights
    the rows a network already fits, which left a class of one to four rows
    least learned (benchmarks/README.md, "Focal's gamma"). With a minority
    of a few rows among tens of thousands (imbalance ratio 4,500) ``gamma=2``
    measured better (balanced accuracy +0.03, two standard errors).

    {_FOCAL_LS_NOTE}

    .. math::

        \\mathrm{{FL}}(p_t) = -\\alpha_t (1 - p_t)^\\gamma \\log p_t

    computed from ``log_softmax`` of the logits. The SCoR paper's baseline
    uses ``gamma=2``, the SAM paper's ``gamma=1``.

    %(ref_focal)s

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skscor import FocalClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     FocalClassifier(gamma=2.0, hidden_layer_sizes=(32,),
    ...                     learning_rate_init=1e-2, random_state=0),
    ... ).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _parameter_constraints = {
        **_BaseNetClassifier._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither"), "array-like", None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    @extends_base_signature
    def __init__(
        self,
        gamma=1.0,
        alpha=None,
        label_smoothing=0.1,
        **base_params,
    ):
        super().__init__(**base_params)
        self.gamma = gamma
        self.alpha = alpha
        self.label_smoothing = label_smoothing

    def _check_rules(self):
        if self.alpha is not None and self.class_weight is not None:
            raise ValueError(
                "alpha and class_weight are the same concept (per-class loss "
                "weights); set only one of them (class_weight=None with alpha)."
            )

    def _class_weight_request(self, counts):
        # alpha is the focal paper's way to spell class weights (for two
        # classes, label-free: alpha for classes_[1], 1 - alpha for
        # classes_[0]); it goes through the same resolver as class_weight.
        if self.alpha is None:
            return super()._class_weight_request(counts)
        return self._alpha_weights(), None, False

    def _alpha_weights(self):
        if np.isscalar(self.alpha):
            if self.n_classes_ != 2:
                raise ValueError(
                    "A float alpha weighs the positive class of a binary problem; "
                    f"with {self.n_classes_} classes pass one weight per class."
                )
            return np.array([1.0 - self.alpha, self.alpha])
        weights = np.asarray(self.alpha, dtype=float)
        if weights.shape != (self.n_classes_,) or not np.all(
            np.isfinite(weights) & (weights >= 0)
        ):
            raise ValueError(
                f"alpha must hold {self.n_classes_} non-negative weights (one "
                f"per class), got {self.alpha!r}."
            )
        return weights

    def _make_loss(self, class_counts):
        return FocalLoss(gamma=self.gamma, label_smoothing=self.label_smoothing)


class SAMClassifier(_BaseNetClassifier):
    __doc__ = f"""Neural classifier trained with sharpness-aware minimization (SAM).

    Each step takes the gradient at ``w``, moves to ``w + e`` with
    ``e = rho g / ||g||`` (ASAM: scaled by ``|w|``), takes the gradient there
    on the same batch and applies it at ``w`` with the base ``optimizer``:
    about twice the cost of a plain step. With the imbalance recipe of
    Rangwani et al. (2022): deferred re-weighting (DRW), LDAM or VS losses and
    rho schedules, SAM helps minority classes escape saddle points.

    Parameters
    ----------
    rho : float, default=0.05
        Neighbourhood size (the start of the linear schedule, the unit of
        the step schedule). ``0`` reduces to the base optimizer.
    rho_schedule : {{'constant', 'linear', 'step'}}, default='constant'
        ``rho`` by epoch: constant; linear from ``rho`` to ``rho_max``; or the
        paper's step shape as fractions of ``max_iter`` (``rho`` for the first
        2.5%, ``2 rho`` to 80%, ``10 rho`` to 90%, ``12 rho`` after; 0.05 /
        0.1 / 0.5 / 0.6 at the default ``rho``).
    rho_max : float, default=0.8
        End point of the linear schedule.
    adaptive : bool, default=False
        ASAM: perturbation scaled element-wise by ``|w|``.
    loss : {{'ce', 'focal', 'ldam', 'vs', 'scor'}}, default='ce'
        Training loss. 'ldam' uses a cosine classifier head in the default
        MLP (with a custom ``module``, end it in
        :class:`skscor.modules.CosineLinear`); 'scor' adds SCoR's covariance
        penalty to cross-entropy, a combination no published code offers.
    loss_params : dict or None, default=None
        Overrides of the loss's own parameters: 'focal' ``gamma`` (1.0);
        'ldam' ``max_margin`` (0.5), ``scale`` (30.0); 'vs' ``gamma`` (0.3),
        ``tau`` (1.0); 'scor' ``alpha`` (1e-4).
    reweighting : {{'drw'}} or None, default=None
        When ``class_weight`` applies. ``None`` (default) applies it from the
        start: with the default early-stopped members, DRW's late switch let
        members keep an unweighted epoch from before it (on four natural
        tasks, worst-class recall 0.43-0.80 with DRW against 0.52-0.80
        without; benchmarks/README.md). 'drw' (deferred re-weighting) defers it
        to the final training phase: none before, and from the switch on the
        effective-number weights ``(1 - beta) / (1 - beta^n_c)`` when
        ``class_weight='balanced'`` (the paper's DRW; close to 'balanced'
        for classes well under ``1 / (1 - beta)`` samples) or the given dict.
        The switch comes
        when the loss first plateaus or at ``drw_start * max_iter``, and the
        final phase runs at least ``(1 - drw_start) * max_iter`` epochs (see
        the user guide, "Training phases"); ``switch_epoch_`` records it.
    drw_start : float, default=0.8
        Fraction of ``max_iter`` at which the final phase (DRW, the
        learning-rate decay and the rho increase of the schedules) starts at
        the latest.
    drw_beta : float, default=0.9999
        ``beta`` of the effective number of samples.
    label_smoothing : float, default=0.1
        Smoothing of the training loss's target distribution, for every
        ``loss`` (for 'focal' as in :func:`skscor.losses.focal_loss`); ``0``
        is the paper's.
    {_docs.BASE_PARAMS}

    Attributes
    ----------
    {_docs.ATTRIBUTES}

    See Also
    --------
    skscor.optim.SAM : The optimizer, usable in plain torch.

    Notes
    -----
    **Defaults and the paper's setting.** The defaults are static balanced
    class weights with Adam and a constant ``rho`` (``reweighting=None``,
    ``class_weight='balanced'``), in the defaults' early-stopped members;
    the paper's CIFAR-LT recipe is
    ``SAMClassifier(loss='ldam', rho_schedule='step', optimizer='sgd',
    learning_rate_init=0.1, weight_decay=2e-4, learning_rate='step',
    warmup_epochs=5)`` (its step decay is x0.1 then x0.01 here, where the
    paper's x0.01 then x0.0001 is for 200 CIFAR epochs; with
    ``label_smoothing=0``), and plain SAM is
    ``SAMClassifier(class_weight=None, label_smoothing=0)``.

    {_SAM_LS_NOTE}

    With class weights :math:`w_c \\propto (1-\\beta)/(1-\\beta^{{n_c}})`,
    DRW weights are scaled so that their mean over the training rows is one
    (the reference code's ``cross_entropy(weight=...)`` normalizes per batch
    instead, which biases small batches). LDAM margins
    :math:`m_c \\propto n_c^{{-1/4}}` (largest ``max_margin``) are subtracted
    from the target cosine logit before scaling by ``scale``; VS uses
    :math:`z_c (n_c / n_{{max}})^\\gamma + \\tau \\log \\pi_c`.

    References
    ----------
    .. [1] P. Foret, A. Kleiner, H. Mobahi and B. Neyshabur, "Sharpness-Aware
       Minimization for Efficiently Improving Generalization", ICLR 2021.
    .. [2] H. Rangwani, S. K. Aithal, M. Mishra and R. V. Babu, "Escaping
       Saddle Points for Effective Generalization on Class-Imbalanced Data",
       NeurIPS 2022.
    .. [3] K. Cao et al., "Learning Imbalanced Datasets with
       Label-Distribution-Aware Margin Loss", NeurIPS 2019.
    .. [4] G. R. Kini et al., "Label-Imbalanced and Group-Sensitive
       Classification under Overparameterization", NeurIPS 2021.

    Examples
    --------
    With ``reweighting='drw'``, DRW switches on for the final phase even when
    the loss plateaus early (``switch_epoch_``); the history records rho per
    epoch. One network on every row, as in the paper:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skscor import SAMClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = SAMClassifier(rho=0.05, reweighting="drw", hidden_layer_sizes=(32,),
    ...                     learning_rate_init=1e-2, n_members=1,
    ...                     early_stopping=False, random_state=0).fit(X, y)
    >>> clf.switch_epoch_ is not None and clf.switch_epoch_ < clf.n_iter_
    True
    >>> clf.net_.history[-1, "rho"], clf.net_.history[-1, "drw"]
    (0.05, True)
    """

    _parameter_constraints = {
        **_BaseNetClassifier._parameter_constraints,
        "rho": [Interval(Real, 0, None, closed="left")],
        "rho_schedule": [StrOptions({"constant", "linear", "step"})],
        "rho_max": [Interval(Real, 0, None, closed="left")],
        "adaptive": ["boolean"],
        "loss": [StrOptions({"ce", "focal", "ldam", "vs", "scor"})],
        "loss_params": [dict, None],
        "reweighting": [StrOptions({"drw"}), None],
        "drw_start": [Interval(Real, 0, 1, closed="both")],
        "drw_beta": [Interval(Real, 0, 1, closed="neither")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    _net_class = _SAMNet
    _LOSS_DEFAULTS = {
        "ce": {},
        "focal": {"gamma": 1.0},
        "ldam": {"max_margin": 0.5, "scale": 30.0},
        "vs": {"gamma": 0.3, "tau": 1.0},
        "scor": {"alpha": 1e-4},
    }

    @extends_base_signature
    def __init__(
        self,
        rho=0.05,
        rho_schedule="constant",
        *,
        rho_max=0.8,
        adaptive=False,
        loss="ce",
        loss_params=None,
        reweighting=None,
        drw_start=0.8,
        drw_beta=0.9999,
        label_smoothing=0.1,
        **base_params,
    ):
        super().__init__(**base_params)
        self.label_smoothing = label_smoothing
        self.rho = rho
        self.rho_schedule = rho_schedule
        self.rho_max = rho_max
        self.adaptive = adaptive
        self.loss = loss
        self.loss_params = loss_params
        self.reweighting = reweighting
        self.drw_start = drw_start
        self.drw_beta = drw_beta

    @property
    def _head(self):
        return "cosine" if self.loss == "ldam" else "linear"

    def _loss_kwargs(self):
        defaults = self._LOSS_DEFAULTS[self.loss]
        given = dict(self.loss_params or {})
        unknown = set(given) - set(defaults)
        if "label_smoothing" in unknown:
            raise ValueError(
                "label_smoothing is a parameter of SAMClassifier itself (for every "
                "loss), not of loss_params: pass label_smoothing=... instead."
            )
        if unknown:
            raise ValueError(
                f"loss_params has keys {sorted(unknown)} that loss={self.loss!r} does "
                f"not take; it takes {sorted(defaults) or 'none'}."
            )
        return {**defaults, **given}

    def _check_rules(self):
        if self.reweighting == "drw" and self.class_weight is None:
            raise ValueError(
                "reweighting='drw' defers class_weight to the final phase; with "
                "class_weight=None there is nothing to defer. Use "
                "class_weight='balanced' (the paper's effective-number weights) "
                "or a dict."
            )
        if self.logit_adjustment == "loss" and self.loss in ("ldam", "vs"):
            raise ValueError(
                f"logit_adjustment='loss' does not combine with loss={self.loss!r}: "
                "LDAM and VS already adjust the logits per class (VS's tau is the "
                "same offset). Use loss='ce' or logit_adjustment=None."
            )
        self._loss_kwargs()

    def _make_loss(self, class_counts):
        kwargs = {**self._loss_kwargs(), "label_smoothing": self.label_smoothing}
        counts = torch.as_tensor(class_counts, dtype=torch.float32)
        return {
            "ce": lambda: CrossEntropyLoss(**kwargs),
            "focal": lambda: FocalLoss(**kwargs),
            "ldam": lambda: LDAMLoss(counts, **kwargs),
            "vs": lambda: VSLoss(counts, **kwargs),
            "scor": lambda: SCoRLoss(**kwargs),
        }[self.loss]()

    def _class_weight_request(self, counts):
        weight, _, _ = super()._class_weight_request(counts)
        if self.reweighting != "drw":
            return weight, None, False
        # DRW: none until the final phase, then the effective-number weights
        # ('balanced') or the dict's.
        if self.class_weight == "balanced":
            final = effective_number_weights(
                torch.as_tensor(counts, dtype=torch.float64), beta=self.drw_beta
            ).numpy()
            final = np.where(counts > 0, final, 0.0)
        else:
            final = weight
        return weight, final, True

    def _optimizer_spec(self):
        base, kwargs = super()._optimizer_spec()
        return SAM, {
            "base_optimizer": base,
            "rho": self.rho,
            "adaptive": self.adaptive,
            **kwargs,
        }

    def _plan_options(self):
        return {
            "rho": self.rho,
            "rho_kind": self.rho_schedule,
            "rho_max": self.rho_max,
            "drw": self.reweighting == "drw",
            "switch": self.drw_start,
        }


class MR2Classifier(_BaseNetClassifier):
    __doc__ = f"""Neural classifier trained with MR² margin regularization.

    Per-class logit margins grow with the spread of the class's penultimate
    features, and a representation term penalizes intra-class spread. The
    features are the input of the module's last ``nn.Linear`` layer (taken by
    a forward hook), so any user module with a linear head works.

    Parameters
    ----------
    lambda_rep : float, default=0.1
        Weight of the representation-margin term.
    ema_decay : float, default=0.9
        Decay of the per-class moving averages of feature statistics.
    margin_scale : float, default=1.0
        The constant ``c`` of the per-sample temperature ``c * gamma_y``.
    label_smoothing : float, default=0.1
        Smoothing of the cross-entropy term's target; ``0`` is the paper's
        loss.
    rep_batch_size : int or None, default=256
        Largest set of rows the representation term compares pairwise: a
        larger batch (``batch_size='auto'`` passes 256 rows above about 8,200
        training rows, and stops at 1,024) is cut into random parts of at
        most this many rows, of sizes within one row of each other, and the
        term is their mean. The term's cost grows with the square of the
        rows it compares: on 60,000 rows (batches of 1,024) a fit took
        2.4-2.9x less time. Batches of 256 rows or fewer are unchanged.
        ``None``: the whole batch, however large.
    {_docs.BASE_PARAMS}

    Attributes
    ----------
    {_docs.ATTRIBUTES}

    See Also
    --------
    skscor.losses.MR2Loss : The loss; its EMA state is ``net_.criterion_``'s
        buffers, which pickle with the estimator and survive ``partial_fit``.

    Notes
    -----
    **Defaults and the paper's setting.** The defaults weigh the classes
    (``class_weight='balanced'``); the paper's setting is
    ``MR2Classifier(class_weight=None, label_smoothing=0)`` (its batches, of
    128 images, are below ``rep_batch_size``).

    {_MR2_LS_NOTE}

    Per class :math:`k`, moving averages of :math:`m_k = \\|\\bar h_k\\|^2`
    and :math:`v_k = E\\|h - \\bar h_k\\|^2` over training batches give
    :math:`s_k = (m_k + v_k)^{{1/3}}` and
    :math:`\\gamma_k = K s_k / \\sum_j s_j`; the logits of a sample of class
    :math:`y` are divided by :math:`c\\,\\gamma_y` in the cross-entropy, and
    ``lambda_rep`` times the representation term is added.

    References
    ----------
    .. [1] MR²: margin regularization from per-class representation
       statistics for class-imbalanced learning, ICLR 2026.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skscor import MR2Classifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MR2Classifier(hidden_layer_sizes=(32,), learning_rate_init=1e-2,
    ...                     random_state=0).fit(X, y)
    >>> clf.net_.criterion_.class_gamma().shape
    torch.Size([3])
    >>> bool(clf.disparity_report_.balanced_accuracy > 0.9)
    True
    """

    _parameter_constraints = {
        **_BaseNetClassifier._parameter_constraints,
        "lambda_rep": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left")],
        "margin_scale": [Interval(Real, 0, None, closed="neither")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "rep_batch_size": [Interval(Integral, 2, None, closed="left"), None],
    }

    @extends_base_signature
    def __init__(
        self,
        lambda_rep=0.1,
        ema_decay=0.9,
        margin_scale=1.0,
        label_smoothing=0.1,
        rep_batch_size=256,
        **base_params,
    ):
        super().__init__(**base_params)
        self.lambda_rep = lambda_rep
        self.ema_decay = ema_decay
        self.margin_scale = margin_scale
        self.label_smoothing = label_smoothing
        self.rep_batch_size = rep_batch_size

    def _make_loss(self, class_counts):
        return MR2Loss(
            len(class_counts),
            lambda_rep=self.lambda_rep,
            ema_decay=self.ema_decay,
            margin_scale=self.margin_scale,
            label_smoothing=self.label_smoothing,
            rep_batch_size=self.rep_batch_size,
        )
