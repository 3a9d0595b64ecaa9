"""The registry of named estimator variants and their fast test settings.

One ordered registry, :data:`VARIANTS`, names every configuration that the
tests, the ``python -m skscor demo`` command and the benchmarks compare. Each
consumer selects the names it needs; nothing else keeps a hand-written list of
estimators. Not public API.

Naming: a bare name is an estimator at its defaults (``'scor'``) or plain
cross-entropy (``'ce'``); ``+x`` adds one modification to those defaults
(``'scor+ls'``, ``'ce+balanced'``); a hyphenated name is a published recipe taken
as a whole (``'sam-ldam-drw'``).

Adding a variant is one entry in :data:`VARIANTS`, for example::

    "ce+la": Variant(SCoRClassifier, {"alpha": 0.0, "class_weight": None,
        "logit_adjustment": "loss"}, "cross-entropy, logit-adjusted", "baseline"),

Its parameter names are checked against the estimator's signature when this
module is imported, so a typo fails at once instead of in a benchmark.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._classifiers import (
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)

#: What a variant is for. ``'recommended'``: a setting to start from (an
#: estimator at its defaults, or with one modification). ``'paper'``: a
#: published recipe reproduced as closely as tabular scale allows.
#: ``'baseline'``: a reference to compare against.
KINDS = ("recommended", "paper", "baseline")


@dataclass(frozen=True)
class Variant:
    """One named configuration of a skscor estimator.

    Parameters
    ----------
    estimator : type
        The estimator class.
    params : mapping
        Constructor parameters that differ from the estimator's defaults.
    description : str
        One line: what this variant is.
    kind : {'recommended', 'paper', 'baseline'}
        See :data:`KINDS`.
    """

    estimator: type
    params: Any
    description: str
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")
        accepted = inspect.signature(self.estimator).parameters
        unknown = sorted(set(self.params) - set(accepted))
        if unknown:
            raise TypeError(f"{self.estimator.__name__} has no parameter(s) {unknown}.")
        # read-only, so that no consumer can change the registry by accident
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def build(self, **overrides):
        """A new estimator: the variant's parameters, then ``overrides``."""
        return self.estimator(**{**self.params, **overrides})

    @property
    def spec(self) -> str:
        """The constructor call as text, e.g. ``SCoRClassifier(alpha=0.0)``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.estimator.__name__}({args})"


#: The training of 0.2's defaults: one network, no held-out split, the last
#: epoch of the training-loss stopping rule, no weight decay, no label
#: smoothing.
SINGLE = MappingProxyType(
    {
        "n_members": 1,
        "early_stopping": False,
        "learning_rate_init": 1e-3,
        "weight_decay": 0.0,
        "label_smoothing": 0.0,
    }
)

# fmt: off
VARIANTS: dict[str, Variant] = {
    # class_weight spelled out where the name says which weighting ('ce' is
    # unweighted whatever the estimators' default)
    "ce": Variant(
        SCoRClassifier, {"alpha": 0.0, "class_weight": None, "weight_decay": 0.0},
        "plain cross-entropy: no penalty, unweighted", "baseline"),
    "ce+ls": Variant(
        SCoRClassifier,
        {"alpha": 0.0, "class_weight": None, "label_smoothing": 0.1,
         "weight_decay": 0.0},
        "unweighted cross-entropy with label smoothing 0.1", "baseline"),
    "ce+balanced": Variant(
        SCoRClassifier, {"alpha": 0.0, "class_weight": "balanced", "weight_decay": 0.0},
        "cross-entropy with static class weights n / (K n_c), no penalty",
        "baseline"),
    "focal": Variant(
        FocalClassifier, {},
        "focal loss at its defaults", "recommended"),
    "focal+wide": Variant(
        FocalClassifier, {"hidden_layer_sizes": (256, 256)},
        "focal loss with two hidden layers of 256 units", "recommended"),
    "focal+single": Variant(
        FocalClassifier, {**SINGLE, "gamma": 2.0},
        "focal loss as 0.2 shipped it: one network, the last epoch of "
        "the training-loss stopping rule", "baseline"),
    "focal-paper": Variant(
        FocalClassifier,
        {"gamma": 2.0, "class_weight": None, "weight_decay": 0.0,
         "label_smoothing": 0.0},
        "focal loss as in its paper: gamma=2, no class weights (the paper's "
        "alpha=0.25 weighs the foreground of its binary sigmoid form; for two "
        "classes it is alpha=0.25 here)", "paper"),
    "scor": Variant(
        SCoRClassifier, {},
        "SCoR at its defaults", "recommended"),
    "scor-paper": Variant(
        SCoRClassifier, {"alpha": 1e-4, "class_weight": None, "weight_decay": 0.0},
        "SCoR as in its paper: unweighted cross-entropy plus the penalty at "
        "alpha=1e-4", "paper"),
    "scor+la": Variant(
        SCoRClassifier, {"class_weight": None, "logit_adjustment": "loss"},
        "SCoR with the loss form of logit adjustment (balanced softmax) "
        "instead of class weights", "recommended"),
    "scor+la-post-hoc": Variant(
        SCoRClassifier, {"class_weight": None, "logit_adjustment": "post-hoc"},
        "SCoR unweighted, with the post-hoc logit adjustment of its decisions",
        "recommended"),
    "scor+single": Variant(
        SCoRClassifier, {**SINGLE, "alpha": 1e-4},
        "SCoR as 0.2 shipped it: one network, no held-out split, the last "
        "epoch of the training-loss stopping rule (learning rate 1e-3)",
        "baseline"),
    "scor+es": Variant(
        SCoRClassifier, {"n_members": 1, "validation_fraction": 0.1},
        "SCoR with one early-stopped network on a 10% validation split",
        "recommended"),
    "scor+refit": Variant(
        SCoRClassifier,
        {"n_members": 1, "early_stopping": "refit", "validation_fraction": 0.1},
        "SCoR with one network; the epoch count chosen on a 10% validation "
        "split, then a refit on every row", "recommended"),
    "scor+3members": Variant(
        SCoRClassifier, {"n_members": 3},
        "SCoR with three early-stopped members (disjoint 20% validation "
        "slices) instead of five", "recommended"),
    "scor+10members": Variant(
        SCoRClassifier, {"n_members": 10, "validation_fraction": 0.1},
        "SCoR with ten early-stopped members, each holding out its tenth of "
        "every class (the folds of a stratified 10-fold)", "recommended"),
    "scor+unweighted-balanced": Variant(
        SCoRClassifier, {"class_weight": None, "output_prior": "balanced"},
        "SCoR trained unweighted; probabilities and decisions under a uniform "
        "prior (each member's post-hoc logit adjustment)", "recommended"),
    "scor+unweighted-tuned": Variant(
        SCoRClassifier, {"class_weight": None},
        "SCoR trained unweighted; the decision moved by the offsets chosen on "
        "the held-out rows (decision_offsets='auto')", "recommended"),
    "scor+wide": Variant(
        SCoRClassifier, {"hidden_layer_sizes": (256, 256)},
        "SCoR with two hidden layers of 256 units", "recommended"),
    "scor+periodic": Variant(
        SCoRClassifier, {"numeric_embedding": "periodic"},
        "SCoR with periodic embeddings of the MLP's float columns (PLR-lite)",
        "recommended"),
    "scor+dropout": Variant(
        SCoRClassifier, {"dropout": 0.15},
        "SCoR with dropout 0.15 after each hidden layer (RealMLP-TD's rate)",
        "recommended"),
    "scor+adamw": Variant(
        SCoRClassifier, {"optimizer": "adamw", "weight_decay": 0.01},
        "SCoR trained by AdamW with decoupled weight decay 0.01",
        "recommended"),
    "scor+adaptive": Variant(
        SCoRClassifier, {"learning_rate": "adaptive"},
        "SCoR whose learning rate drops fivefold at each validation plateau "
        "(up to three times) before the members stop", "recommended"),
    "scor+embedding-auto": Variant(
        SCoRClassifier, {"numeric_embedding": "auto"},
        "SCoR whose first member is trained with and without periodic "
        "embeddings, the one with the lower held-out loss kept for every "
        "member", "recommended"),
    "scor+ls": Variant(
        SCoRClassifier, {"label_smoothing": 0.1},
        "SCoR+LS (label smoothing 0.1) with the defaults' class weights",
        "recommended"),
    "sam": Variant(
        SAMClassifier, {},
        "SAM at its defaults", "recommended"),
    "sam+single": Variant(
        SAMClassifier, {**SINGLE, "reweighting": "drw"},
        "SAM as 0.2 shipped it: one network with deferred re-weighting, the "
        "last epoch of the training-loss stopping rule", "baseline"),
    "sam+drw": Variant(
        SAMClassifier, {"reweighting": "drw"},
        "SAM with deferred re-weighting (the paper's DRW) instead of static "
        "class weights", "recommended"),
    "sam+ldam+drw": Variant(
        SAMClassifier, {"loss": "ldam", "reweighting": "drw"},
        "SAM with LDAM margins and DRW, other settings at their defaults",
        "recommended"),
    "sam-ldam-drw": Variant(
        SAMClassifier,
        {"loss": "ldam", "reweighting": "drw", "rho_schedule": "step",
         "optimizer": "sgd", "learning_rate_init": 0.1, "weight_decay": 2e-4,
         "learning_rate": "step", "warmup_epochs": 5, "label_smoothing": 0.0},
        "the SAM imbalance paper's recipe: LDAM-DRW, step rho schedule, SGD "
        "(lr 0.1, weight decay 2e-4) with warm-up and step decay", "paper"),
    "sam+wide": Variant(
        SAMClassifier, {"hidden_layer_sizes": (256, 256)},
        "SAM with two hidden layers of 256 units", "recommended"),
    "sam+vs": Variant(
        SAMClassifier, {"loss": "vs", "reweighting": "drw"},
        "SAM at its defaults (DRW on balanced weights) with the VS loss at its "
        "paper's gamma=0.3, tau=1; the VS paper itself uses no re-weighting",
        "recommended"),
    "mr2": Variant(
        MR2Classifier, {},
        "MR2 at its defaults", "recommended"),
    "mr2+wide": Variant(
        MR2Classifier, {"hidden_layer_sizes": (256, 256)},
        "MR2 with two hidden layers of 256 units", "recommended"),
    "mr2+single": Variant(
        MR2Classifier, SINGLE,
        "MR2 as 0.2 shipped it: one network, the last epoch of "
        "the training-loss stopping rule", "baseline"),
    "mr2-paper": Variant(
        MR2Classifier,
        {"class_weight": None, "weight_decay": 0.0, "label_smoothing": 0.0},
        "MR2 as in its paper: margins and representation term, no class "
        "weights, no weight decay", "paper"),
}
# fmt: on


def build(name, **overrides):
    """A new estimator of the variant ``name``, with ``overrides`` applied.

    Examples
    --------
    >>> from skscor._variants import FAST, build
    >>> build("ce+ls", **FAST).get_params()["label_smoothing"]
    0.1
    """
    try:
        variant = VARIANTS[name]
    except KeyError:
        raise KeyError(
            f"unknown variant {name!r}; known: {', '.join(VARIANTS)}"
        ) from None
    return variant.build(**overrides)


def ce_counterpart(name):
    """The registry's cross-entropy ('ce' or 'ce+balanced') with the class
    weighting of variant ``name``: the comparison that isolates what the
    variant adds beyond the weighting ('ce' when neither matches).

    Examples
    --------
    >>> from skscor._variants import ce_counterpart
    >>> ce_counterpart("ce+ls")
    'ce'
    """
    weighting = build(name).get_params().get("class_weight")
    for ce in ("ce", "ce+balanced"):
        if VARIANTS[ce].params["class_weight"] == weighting:
            return ce
    return "ce"


# ----------------------------------------------------------------- settings
#: scikit-learn's estimator checks: small and fast, yet enough epochs for
#: check_classifiers_train's accuracy threshold. Two early-stopped members:
#: the defaults' ensemble path at two fifths of its cost.
FAST = MappingProxyType(
    {
        "hidden_layer_sizes": (16,),
        "max_iter": 60,
        "random_state": 0,
        "learning_rate_init": 1e-2,
        "n_members": 2,
    }
)
#: Method-specific behaviour on a few hundred rows.
SMALL = MappingProxyType(
    {"hidden_layer_sizes": (16,), "max_iter": 10, "random_state": 0, **SINGLE}
)
#: Reliability tests: the smallest network that trains at all, two epochs.
TINY = MappingProxyType(
    {
        **SINGLE,
        "hidden_layer_sizes": (4,),
        "max_iter": 2,
        "random_state": 0,
        "learning_rate_init": 1e-2,
    }
)
