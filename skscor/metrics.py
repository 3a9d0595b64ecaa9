"""Per-class disparity metrics and scikit-learn scorers.

Every function takes ``(y_true, y_pred, *, labels=None, sample_weight=None)``
like scikit-learn's classification metrics, so it works with
:func:`sklearn.metrics.make_scorer`. Ready-made scorers are
:data:`worst_class_recall_scorer`, :data:`bottom_k_recall_scorer`,
:data:`recall_std_scorer` and :data:`recall_gap_scorer`; :func:`get_scorer`
maps a name to them (and falls back to scikit-learn's names).

Classes absent from ``y_true``
------------------------------
The recall of a class with no true samples (zero total weight) is undefined.
Such a class -- one named in ``labels`` or predicted but not in ``y_true`` --
is *reported*: its recall is NaN and its support 0, it is listed in
``DisparityReport.absent_labels``, and an
:class:`~sklearn.exceptions.UndefinedMetricWarning` names it. Every aggregate
(worst-class, bottom-k, std, gap, balanced accuracy, macro-F1, geometric mean)
is taken over the classes present in ``y_true`` only. Predictions of an absent
class still count as errors for the true class of those samples. A class
present in ``y_true`` but never predicted has recall 0.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import make_scorer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import validate_params
from sklearn.utils.multiclass import type_of_target, unique_labels

from .utils._optional import import_optional
from .utils._repr import format_table
from .utils._validation import StrictInterval, check_paired

__all__ = [
    "DisparityReport",
    "per_class_recall",
    "worst_class_recall",
    "bottom_k_recall",
    "recall_std",
    "recall_gap",
    "class_disparity",
    "worst_class_recall_scorer",
    "bottom_k_recall_scorer",
    "recall_std_scorer",
    "recall_gap_scorer",
    "get_scorer",
    "get_scorer_names",
]

_AGGREGATES = (
    "worst_class_recall",
    "bottom_k_recall",
    "recall_std",
    "recall_gap",
    "balanced_accuracy",
    "macro_f1",
    "geometric_mean",
)


# The signature every metric shares, as scikit-learn's classification metrics.
_TARGET_CONSTRAINTS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "labels": ["array-like", None],
    "sample_weight": ["array-like", None],
}
_K_CONSTRAINT = [StrictInterval(Integral, 1, None, closed="left"), None]

# Parameter descriptions shared by the metrics: each docstring names a fragment
# on a line of its own and _fill_doc substitutes it, so the text is written once.
_DOC_FRAGMENTS = {
    "{targets}": """\
y_true : array-like of shape (n_samples,)
    True labels.
y_pred : array-like of shape (n_samples,)
    Predicted labels.""",
    "{labels}": """\
labels : array-like of shape (n_classes,), default=None
    Classes to consider; ``None`` uses the union of ``y_true`` and ``y_pred``.""",
    "{sample_weight}": """\
sample_weight : array-like of shape (n_samples,), default=None
    Sample weights.""",
}


def _fill_doc(func):
    """Replace each fragment line of ``func.__doc__``, keeping its indentation."""
    lines = []
    for line in func.__doc__.splitlines():
        fragment = _DOC_FRAGMENTS.get(line.strip())
        if fragment is None:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines.extend(indent + text if text else text for text in fragment.split("\n"))
    func.__doc__ = "\n".join(lines)
    return func


def _check_targets(y_true, y_pred, labels, sample_weight):
    """Validate inputs; return arrays, labels and the sample weights (or None)."""
    y_true = column_or_1d(y_true, warn=False)
    y_pred = column_or_1d(y_pred, warn=False)
    check_paired(y_true=y_true, y_pred=y_pred)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        kind = type_of_target(y, input_name=name)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{name} must hold class labels (binary or multiclass), got {kind!r}"
            )
    if labels is None:
        labels = unique_labels(y_true, y_pred)
    else:
        labels = column_or_1d(labels, warn=False)
        if len(labels) == 0:
            raise ValueError("labels must not be empty")
        if len(set(labels.tolist())) != len(labels):
            raise ValueError(f"labels must be unique, got {labels.tolist()}")
    if sample_weight is not None:
        sample_weight = column_or_1d(sample_weight, warn=False).astype(np.float64)
        if len(sample_weight) != len(y_true):
            raise ValueError(
                f"sample_weight has {len(sample_weight)} entries but y_true has "
                f"{len(y_true)}"
            )
    return y_true, y_pred, labels, sample_weight


def _recall_support(y_true, y_pred, labels, sample_weight):
    """Per-class recall (NaN for absent classes) and (weighted) support."""
    hits, support, _ = _class_counts(y_true, y_pred, labels, sample_weight)
    present = support != 0
    recall = np.full(len(labels), np.nan)
    recall[present] = hits[present] / support[present]
    return recall, support, present


def _class_counts(y_true, y_pred, labels, sample_weight):
    """(Weighted) correct predictions, support and predictions per label."""
    index = {label: i for i, label in enumerate(labels.tolist())}
    n = len(labels)
    # dict lookup, as sklearn's confusion_matrix does: works for any hashable
    # label type and for labels given in any order
    true_idx = np.array([index.get(v, n) for v in y_true.tolist()], dtype=np.intp)
    pred_idx = np.array([index.get(v, -1) for v in y_pred.tolist()], dtype=np.intp)
    correct = true_idx == pred_idx
    support = np.bincount(true_idx, weights=sample_weight, minlength=n + 1)[:n]
    hits = np.bincount(
        true_idx[correct],
        weights=None if sample_weight is None else sample_weight[correct],
        minlength=n + 1,
    )[:n]
    predicted = np.bincount(
        pred_idx[pred_idx >= 0],
        weights=None if sample_weight is None else sample_weight[pred_idx >= 0],
        minlength=n,
    )
    return hits, support, predicted


def _gmean(r):
    """Geometric mean of recalls, zero if one is zero (scipy's gmean)."""
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(r))))


def _warn_absent(labels, present, stacklevel=3):
    absent = labels[~present]
    if len(absent):
        warnings.warn(
            f"Recall is ill-defined for labels {absent.tolist()} with no true "
            "samples; they are reported as nan and left out of aggregate metrics.",
            UndefinedMetricWarning,
            stacklevel=stacklevel,
        )


def _present_recalls(y_true, y_pred, labels, sample_weight):
    """Recalls of the classes present in y_true, warning about absent ones."""
    y_true, y_pred, labels, sample_weight = _check_targets(
        y_true, y_pred, labels, sample_weight
    )
    recall, _, present = _recall_support(y_true, y_pred, labels, sample_weight)
    _warn_absent(labels, present, stacklevel=4)
    return recall[present]


def _default_k(n_classes: int) -> int:
    return max(1, math.ceil(0.1 * n_classes))


@validate_params(_TARGET_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def per_class_recall(y_true, y_pred, *, labels=None, sample_weight=None):
    """Recall (per-class accuracy) of each class.

    Parameters
    ----------
    {targets}
    labels : array-like of shape (n_classes,), default=None
        Classes to report, in this order. ``None`` uses the sorted union of
        ``y_true`` and ``y_pred``, as :func:`sklearn.utils.multiclass.unique_labels`.
    {sample_weight}

    Returns
    -------
    recall : ndarray of shape (n_classes,)
        ``recall[i]`` for ``labels[i]``; NaN for a class with no true samples
        (with an :class:`~sklearn.exceptions.UndefinedMetricWarning`).

    Notes
    -----
    :math:`r_c = \\sum_i w_i [y_i = c][\\hat y_i = c] / \\sum_i w_i [y_i = c]`.

    Examples
    --------
    >>> from skscor.metrics import per_class_recall
    >>> per_class_recall([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    array([0.5, 1. , 0. ])
    """
    y_true, y_pred, labels, sample_weight = _check_targets(
        y_true, y_pred, labels, sample_weight
    )
    recall, _, present = _recall_support(y_true, y_pred, labels, sample_weight)
    _warn_absent(labels, present)
    return recall


@validate_params(_TARGET_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def worst_class_recall(y_true, y_pred, *, labels=None, sample_weight=None):
    """Smallest per-class recall over the classes present in ``y_true``.

    Parameters
    ----------
    {targets}
    {labels}
    {sample_weight}

    Returns
    -------
    score : float
        :math:`\\min_c r_c`; NaN when no class of ``labels`` is present.

    Examples
    --------
    >>> from skscor.metrics import worst_class_recall
    >>> worst_class_recall([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    0.0
    """
    r = _present_recalls(y_true, y_pred, labels, sample_weight)
    return float(r.min()) if r.size else math.nan


@validate_params(
    {**_TARGET_CONSTRAINTS, "k": _K_CONSTRAINT}, prefer_skip_nested_validation=True
)
@_fill_doc
def bottom_k_recall(y_true, y_pred, *, k=None, labels=None, sample_weight=None):
    """Mean recall of the ``k`` classes with the lowest recall.

    Parameters
    ----------
    {targets}
    k : int, default=None
        Number of classes averaged; capped at the number of classes present.
        ``None`` uses ``max(1, ceil(0.1 * n_present))``, the bottom 10%.
    {labels}
    {sample_weight}

    Returns
    -------
    score : float
        Mean of the ``k`` smallest per-class recalls.

    Examples
    --------
    >>> from skscor.metrics import bottom_k_recall
    >>> bottom_k_recall([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], k=2)
    0.5
    """
    r = np.sort(_present_recalls(y_true, y_pred, labels, sample_weight))
    if not r.size:
        return math.nan
    k = _default_k(r.size) if k is None else min(int(k), r.size)
    return float(r[:k].mean())


@validate_params(_TARGET_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def recall_std(y_true, y_pred, *, labels=None, sample_weight=None):
    """Population standard deviation (``ddof=0``) of the per-class recalls.

    Parameters
    ----------
    {targets}
    {labels}
    {sample_weight}

    Returns
    -------
    score : float
        :math:`\\sqrt{\\frac1C \\sum_c (r_c - \\bar r)^2}`; lower is fairer.

    Examples
    --------
    >>> from skscor.metrics import recall_std
    >>> recall_std([0, 0, 1, 1], [0, 0, 1, 0])
    0.25
    """
    r = _present_recalls(y_true, y_pred, labels, sample_weight)
    return float(r.std()) if r.size else math.nan


@validate_params(_TARGET_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def recall_gap(y_true, y_pred, *, labels=None, sample_weight=None):
    """Gap between the best and the worst per-class recall.

    Parameters
    ----------
    {targets}
    {labels}
    {sample_weight}

    Returns
    -------
    score : float
        :math:`\\max_c r_c - \\min_c r_c`; lower is fairer.

    Examples
    --------
    >>> from skscor.metrics import recall_gap
    >>> recall_gap([0, 0, 1, 1], [0, 0, 1, 0])
    0.5
    """
    r = _present_recalls(y_true, y_pred, labels, sample_weight)
    return float(r.max() - r.min()) if r.size else math.nan


@dataclass(eq=False)
class DisparityReport:
    """Per-class recalls and the disparity aggregates computed from them.

    Attributes
    ----------
    labels : ndarray of shape (n_classes,)
        The classes, in the order of the arrays below.
    recall : ndarray of shape (n_classes,)
        Per-class recall; NaN for a class absent from ``y_true``.
    support : ndarray of shape (n_classes,)
        Number (total weight, with ``sample_weight``) of true samples per class.
    absent_labels : ndarray
        Classes with zero support, left out of every aggregate below.
    worst_class_recall : float
        Smallest recall among present classes.
    worst_class_label : object
        The class attaining it (the first in ``labels`` order on ties).
    k : int
        Number of classes in the bottom-k mean.
    bottom_k_recall : float
        Mean of the ``k`` smallest recalls.
    recall_std : float
        Population std of the recalls.
    recall_gap : float
        Largest minus smallest recall.
    balanced_accuracy : float
        Mean recall over present classes.
    macro_f1 : float
        Unweighted mean F1 over present classes (F1 of a never-predicted
        class is 0).
    geometric_mean : float
        Geometric mean of the recalls (imbalanced-learn's
        ``geometric_mean_score``, multiclass average, no correction).
    on : str or None
        Which rows the report describes, when it is an estimator's fitted
        ``disparity_report_`` (training rows flatter the model); None for a
        report of :func:`class_disparity`.
    """

    labels: np.ndarray
    recall: np.ndarray
    support: np.ndarray
    absent_labels: np.ndarray
    worst_class_recall: float
    worst_class_label: object
    k: int
    bottom_k_recall: float
    recall_std: float
    recall_gap: float
    balanced_accuracy: float
    macro_f1: float
    geometric_mean: float
    on: str | None = None

    @property
    def summary(self) -> dict:
        """The aggregate metrics as a dict of floats."""
        return {name: getattr(self, name) for name in _AGGREGATES}

    def to_frame(self):
        """Per-class table as a :class:`pandas.DataFrame`.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``label, support, recall, absent``, one row per class.
        """
        pd = import_optional("pandas", purpose="DisparityReport.to_frame")
        return pd.DataFrame(
            {
                "label": self.labels,
                "support": self.support,
                "recall": self.recall,
                "absent": np.isin(self.labels, self.absent_labels),
            }
        )

    def __repr__(self) -> str:
        rows = [
            (str(lab), f"{sup:g}", f"{rec:.4f}" if not np.isnan(rec) else "nan")
            for lab, sup, rec in zip(
                self.labels.tolist(),
                self.support.tolist(),
                self.recall.tolist(),
                strict=True,
            )
        ]
        lines = [f"DisparityReport({len(self.labels)} classes)"]
        if self.on is not None:
            lines.append(f"on {self.on}")
        lines.append(format_table(("label", "support", "recall"), rows))
        for name, value in self.summary.items():
            extra = ""
            if name == "worst_class_recall":
                extra = f"  (label {self.worst_class_label!r})"
            elif name == "bottom_k_recall":
                extra = f"  (k={self.k})"
            lines.append(f"{name:<20}{value:.4f}{extra}")
        if len(self.absent_labels):
            lines.append(
                f"absent from y_true (excluded): {self.absent_labels.tolist()}"
            )
        return "\n".join(lines)


@validate_params(
    {**_TARGET_CONSTRAINTS, "k": _K_CONSTRAINT}, prefer_skip_nested_validation=True
)
@_fill_doc
def class_disparity(y_true, y_pred, *, labels=None, sample_weight=None, k=None):
    """Per-class recalls and every disparity aggregate in one report.

    Parameters
    ----------
    {targets}
    {labels}
    {sample_weight}
    k : int, default=None
        Classes in the bottom-k mean; ``None`` uses
        ``max(1, ceil(0.1 * n_present))``. See :func:`bottom_k_recall`.

    Returns
    -------
    report : DisparityReport
        Labels, recall and support arrays plus the aggregates.

    Notes
    -----
    Aggregates are over the classes present in ``y_true`` (non-zero support).
    ``balanced_accuracy`` then equals
    :func:`sklearn.metrics.balanced_accuracy_score` when ``labels`` is None.

    Examples
    --------
    >>> from skscor.metrics import class_disparity
    >>> report = class_disparity(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "c"])
    >>> report.recall
    array([0.5, 1. , 1. ])
    >>> report.worst_class_label
    'a'
    """
    y_true, y_pred, labels, sample_weight = _check_targets(
        y_true, y_pred, labels, sample_weight
    )
    hits, support, predicted = _class_counts(y_true, y_pred, labels, sample_weight)
    present = support != 0
    recall = np.full(len(labels), np.nan)
    recall[present] = hits[present] / support[present]
    _warn_absent(labels, present)
    r = recall[present]
    present_labels = labels[present]
    if r.size:
        order = np.argsort(r, kind="stable")
        k = _default_k(r.size) if k is None else min(int(k), r.size)
        worst_label = present_labels[order[0]]
        worst_label = (
            worst_label.item() if hasattr(worst_label, "item") else worst_label
        )
        aggregates = {
            "worst_class_recall": float(r[order[0]]),
            "worst_class_label": worst_label,
            "bottom_k_recall": float(r[order[:k]].mean()),
            "recall_std": float(r.std()),
            "recall_gap": float(r.max() - r.min()),
            "balanced_accuracy": float(r.mean()),
            # From the counts, as scikit-learn's f1_score(average='macro',
            # zero_division=0) and imbalanced-learn's geometric_mean_score
            # (average='multiclass') compute them over the present labels
            # (tested against both); calling them cost more than the rest of
            # the report (two more rounds of target validation).
            "macro_f1": float(
                np.mean(2.0 * hits[present] / (support[present] + predicted[present]))
            ),
            "geometric_mean": _gmean(r),
        }
    else:
        k = 0 if k is None else int(k)
        aggregates = dict.fromkeys(_AGGREGATES, math.nan)
        aggregates["worst_class_label"] = None
    return DisparityReport(
        labels=labels,
        recall=recall,
        support=support,
        absent_labels=labels[~present],
        k=k,
        **aggregates,
    )


worst_class_recall_scorer = make_scorer(worst_class_recall)
bottom_k_recall_scorer = make_scorer(bottom_k_recall)
recall_std_scorer = make_scorer(recall_std, greater_is_better=False)
recall_gap_scorer = make_scorer(recall_gap, greater_is_better=False)

# lower-is-better metrics get the ``neg_`` prefix, as in scikit-learn
# ('neg_log_loss'): their scorers return the negated value
_SCORERS = {
    "worst_class_recall": worst_class_recall_scorer,
    "bottom_k_recall": bottom_k_recall_scorer,
    "neg_recall_std": recall_std_scorer,
    "neg_recall_gap": recall_gap_scorer,
}


def get_scorer_names() -> list[str]:
    """Names that :func:`get_scorer` resolves to skscor scorers.

    Returns
    -------
    names : list of str
        Sorted scorer names.

    Examples
    --------
    >>> from skscor.metrics import get_scorer_names
    >>> get_scorer_names()
    ['bottom_k_recall', 'neg_recall_gap', 'neg_recall_std', 'worst_class_recall']
    """
    return sorted(_SCORERS)


@validate_params({"scoring": [str, callable, None]}, prefer_skip_nested_validation=True)
def get_scorer(scoring):
    """Return a scorer by name, skscor's first, then scikit-learn's.

    Parameters
    ----------
    scoring : str or callable
        ``'worst_class_recall'``, ``'bottom_k_recall'`` (default ``k``),
        ``'neg_recall_std'``, ``'neg_recall_gap'``, any name accepted by
        :func:`sklearn.metrics.get_scorer`, or a callable (returned as is).

    Returns
    -------
    scorer : callable
        A copy of the scorer, usable as ``scoring=`` in
        :class:`~sklearn.model_selection.GridSearchCV` and
        :func:`~sklearn.model_selection.cross_validate` (alone or in a dict).

    Notes
    -----
    scikit-learn's string registry is private, so ``scoring='worst_class_recall'``
    cannot be passed to ``GridSearchCV`` directly; pass
    ``get_scorer('worst_class_recall')`` or the scorer object instead. For
    another ``k``: ``make_scorer(bottom_k_recall, k=3)``.

    Examples
    --------
    >>> from skscor.metrics import get_scorer
    >>> get_scorer("neg_recall_gap")
    make_scorer(recall_gap, greater_is_better=False, response_method='predict')
    """
    if isinstance(scoring, str) and scoring in _SCORERS:
        return copy.deepcopy(_SCORERS[scoring])
    return _sklearn_get_scorer(scoring)
