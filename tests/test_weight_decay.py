"""weight_decay='auto': decay where the rarest class is a handful of rows.

The default of all four estimators (SCoR's decays at extreme ratios only). Each
test checks that the resolved strength reaches every member's optimizer and
changes the trained networks, on a fit that stops early and on one that runs to
``max_iter``, and that incremental training follows the accumulated class counts.
"""

import io

import numpy as np
import pytest

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor._base import auto_weight_decay
from skscor._encoding import class_weight_vector
from skscor._variants import VARIANTS

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]

FAST = {"hidden_layer_sizes": (8,), "learning_rate_init": 1e-2, "n_members": 2}


def _data(minority, majority=150, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack(
        [rng.normal(0, 1, (majority, 4)), rng.normal(1.5, 1, (minority, 4))]
    ).astype(np.float32)
    y = np.r_[np.zeros(majority, int), np.ones(minority, int)]
    return X, y


def _balanced(counts):
    """class_weight='balanced''s per-class weights for these counts."""
    return class_weight_vector(np.arange(len(counts)), "balanced", counts)


def _decays(clf):
    """The weight decay of every member's optimizer (SAM: of its base)."""
    out = set()
    for net in clf.members_:
        opt = getattr(net.optimizer_, "base_optimizer", net.optimizer_)
        out |= {group["weight_decay"] for group in opt.param_groups}
    return out


@pytest.mark.parametrize(
    "counts, expected",
    [
        ([100, 4], 0.0),
        ([100, 5], 1e-2),
        ([100, 49], 1e-2),
        ([100, 50], 0.0),
        ([300, 80, 12], 1e-2),
        ([300, 80, 60], 0.0),
        # the rarest must be the only class under 50 rows: not a long tail
        ([300, 50, 12], 1e-2),
        ([300, 49, 12], 0.0),
        ([300, 100, 40, 12], 0.0),
        ([9000, 30, 8], 0.0),
        ([40, 10], 0.0),
        # the stronger decay from an imbalance ratio of 150 on
        ([1940, 13], 1e-2),
        ([2100, 14], 3e-2),
        ([9000, 300, 49], 3e-2),
        ([9000, 300, 50], 0.0),
        # and the strongest there for a rarest class of at most 12 rows
        ([1950, 13], 3e-2),
        ([1800, 12], 1e-1),
        ([1790, 12], 1e-2),
        ([1500, 10], 1e-1),
        ([1500, 5], 1e-1),
        ([1500, 4], 0.0),
        # (two classes only: a class without rows counts as a class)
        ([9000, 300, 10], 3e-2),
        ([0, 8, 1200], 3e-2),
        # a class without rows yet (partial_fit with classes) is not the rarest
        ([0, 8, 200], 1e-2),
        ([0, 60, 200], 0.0),
    ],
)
def test_auto_rule(counts, expected):
    counts = np.array(counts, dtype=float)
    assert auto_weight_decay(counts, _balanced(counts)) == expected
    # unweighted training: never
    assert auto_weight_decay(counts, None) == 0.0


@pytest.mark.parametrize("cls", [FocalClassifier, SAMClassifier, MR2Classifier])
@pytest.mark.parametrize("max_iter", [200, 3])
def test_auto_is_the_default_and_takes_effect(cls, max_iter):
    # 200: the members stop early (the stopping rule); 3: they run to max_iter.
    X, y = _data(minority=10)
    params = {**FAST, "max_iter": max_iter, "random_state": 0}
    auto = cls(**params).fit(X, y)
    assert auto.weight_decay == "auto"
    assert auto.weight_decay_ == 1e-2
    assert _decays(auto) == {1e-2}
    assert auto.n_iter_ < max_iter if max_iter == 200 else auto.n_iter_ == max_iter
    assert auto.stop_reason_ == ("converged" if max_iter == 200 else "max_iter")
    explicit = cls(weight_decay=1e-2, **params).fit(X, y)
    none = cls(weight_decay=0.0, **params).fit(X, y)
    np.testing.assert_allclose(auto.predict_proba(X), explicit.predict_proba(X))
    assert not np.allclose(auto.predict_proba(X), none.predict_proba(X))


@pytest.mark.parametrize("cls", [FocalClassifier, SAMClassifier, MR2Classifier])
@pytest.mark.filterwarnings("ignore:The early-stopping validation split")
def test_auto_is_off_outside_the_rule(cls):
    for minority in (3, 60):
        clf = cls(**FAST, max_iter=3, random_state=0).fit(*_data(minority))
        assert clf.weight_decay_ == 0.0
        assert _decays(clf) == {0.0}


@pytest.mark.parametrize("cls", [FocalClassifier, SAMClassifier, MR2Classifier])
def test_auto_is_off_in_a_long_tail(cls):
    # two classes under 50 rows: no decay; the same rarest class alone: decay
    rng = np.random.default_rng(0)
    params = {**FAST, "max_iter": 3, "random_state": 0}
    for counts, expected in (((150, 30, 10), 0.0), ((150, 60, 10), 1e-2)):
        X = np.vstack([rng.normal(2.0 * k, 1, (n, 4)) for k, n in enumerate(counts)])
        y = np.repeat(np.arange(3), counts)
        clf = cls(**params).fit(X.astype(np.float32), y)
        assert clf.weight_decay_ == expected and _decays(clf) == {expected}


@pytest.mark.parametrize("cls", [FocalClassifier, SAMClassifier, MR2Classifier])
@pytest.mark.parametrize("minority, expected", [(20, 3e-2), (8, 1e-1)])
def test_auto_is_stronger_at_an_extreme_ratio(cls, minority, expected):
    # ratio 200: the stronger decay for 20 minority rows, the strongest for 8
    X, y = _data(minority=minority, majority=200 * minority)
    params = {**FAST, "max_iter": 3, "random_state": 0}
    auto = cls(**params).fit(X, y)
    assert auto.weight_decay_ == expected and _decays(auto) == {expected}
    explicit = cls(weight_decay=expected, **params).fit(X, y)
    np.testing.assert_allclose(auto.predict_proba(X), explicit.predict_proba(X))


def test_scor_decays_at_extreme_ratios_only():
    # SCoR's 'auto' has no first level: none at ratio 15; at ratio 200 3e-2
    # for 20 minority rows, 1e-1 for 8
    params = {**FAST, "max_iter": 3, "random_state": 0}
    clf = SCoRClassifier(**params).fit(*_data(minority=10))
    assert clf.weight_decay == "auto" and clf.weight_decay_ == 0.0
    assert _decays(clf) == {0.0}
    for minority, expected in ((20, 3e-2), (8, 1e-1)):
        X, y = _data(minority=minority, majority=200 * minority)
        clf.fit(X, y)
        assert clf.weight_decay_ == expected and _decays(clf) == {expected}
        explicit = SCoRClassifier(weight_decay=expected, **params).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), explicit.predict_proba(X))
        none = SCoRClassifier(weight_decay=0.0, **params).fit(X, y)
        assert not np.allclose(clf.predict_proba(X), none.predict_proba(X))


@pytest.mark.parametrize(
    "counts, expected",
    [([150, 10], 0.0), ([3200, 20], 3e-2), ([1600, 10], 1e-1), ([1600, 4], 0.0)],
)
def test_scor_levels(counts, expected):
    counts = np.array(counts, dtype=float)
    levels = SCoRClassifier._auto_decay_levels
    assert auto_weight_decay(counts, _balanced(counts), levels) == expected


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"class_weight": None}, 0.0),
        ({"class_weight": None, "logit_adjustment": "loss"}, 0.0),
        ({"class_weight": {0: 1.0, 1: 1.0}}, 0.0),
        ({"class_weight": {0: 1.0, 1: 5.0}}, 1e-2),
        ({"class_weight": {0: 5.0, 1: 1.0}}, 0.0),
    ],
)
def test_auto_only_where_the_rarest_class_is_upweighted(params, expected):
    # the rule is for heavily weighted minority rows; unweighted training with
    # logit adjustment lost with decay (benchmarks/README.md, "Stop 32")
    clf = MR2Classifier(**FAST, **params, max_iter=2, random_state=0)
    clf.fit(*_data(minority=10))
    assert clf.weight_decay_ == expected and _decays(clf) == {expected}


def test_auto_follows_focal_alpha_and_sam_drw():
    X, y = _data(minority=10)
    fit = {**FAST, "max_iter": 2, "random_state": 0}
    focal = FocalClassifier(alpha=0.9, class_weight=None, **fit).fit(X, y)
    assert focal.weight_decay_ == 1e-2
    focal = FocalClassifier(alpha=0.1, class_weight=None, **fit).fit(X, y)
    assert focal.weight_decay_ == 0.0
    # DRW: unweighted at first, balanced in the final phase; the rule reads
    # the final phase
    sam = SAMClassifier(reweighting="drw", **fit).fit(X, y)
    assert sam.weight_decay_ == 1e-2


def test_explicit_value_is_kept():
    X, y = _data(minority=10)
    clf = FocalClassifier(weight_decay=1e-3, **FAST, max_iter=3, random_state=0)
    clf.fit(X, y)
    assert clf.weight_decay_ == 1e-3 and _decays(clf) == {1e-3}


def test_partial_fit_follows_the_accumulated_counts():
    # 3 minority rows: no decay; 3 + 5 = 8: decay; 8 + 45 = 53: none again.
    clf = SAMClassifier(hidden_layer_sizes=(8,), random_state=0)
    seen = []
    for minority in (3, 5, 45):
        clf.partial_fit(*_data(minority, majority=100, seed=minority), classes=[0, 1])
        seen.append((clf.weight_decay_, _decays(clf)))
    assert seen == [(0.0, {0.0}), (1e-2, {1e-2}), (0.0, {0.0})]
    np.testing.assert_array_equal(clf.class_counts_, [300, 53])


def test_partial_fit_before_the_minority_arrives():
    # The first call has one class only: nothing is up-weighted, no decay;
    # the second brings 6 minority rows (the class without rows before is not
    # the rarest then).
    clf = FocalClassifier(hidden_layer_sizes=(8,), random_state=0)
    X, y = _data(minority=0, majority=12)
    X2, y2 = _data(minority=6, majority=100)
    clf.partial_fit(X, y, classes=[0, 1])
    assert clf.weight_decay_ == 0.0 and _decays(clf) == {0.0}
    clf.partial_fit(X2, y2)
    assert clf.weight_decay_ == 1e-2 and _decays(clf) == {1e-2}
    np.testing.assert_array_equal(clf.class_counts_, [112, 6])


def test_warm_start_resolves_on_the_new_counts():
    clf = MR2Classifier(**FAST, max_iter=3, random_state=0, warm_start=True)
    clf.fit(*_data(minority=10))
    assert _decays(clf) == {1e-2}
    clf.fit(*_data(minority=60, seed=1))
    assert clf.weight_decay_ == 0.0 and _decays(clf) == {0.0}


def test_load_weights_resolves_it():
    X, y = _data(minority=10)
    clf = FocalClassifier(**FAST, max_iter=3, random_state=0).fit(X, y)
    buf = io.BytesIO()
    clf.save_weights(buf)
    buf.seek(0)
    other = FocalClassifier(**FAST, max_iter=3).load_weights(buf)
    assert other.weight_decay_ == 1e-2
    np.testing.assert_allclose(other.predict_proba(X), clf.predict_proba(X))


def test_invalid_value_is_refused():
    with pytest.raises(ValueError, match="weight_decay"):
        FocalClassifier(weight_decay="strong").fit(*_data(minority=10))


@pytest.mark.parametrize(
    "name",
    [
        "focal+single",
        "focal-paper",
        "sam+single",
        "mr2+single",
        "mr2-paper",
        "scor+single",
        "scor-paper",
        "ce",
        "ce+ls",
        "ce+balanced",
    ],
)
def test_the_old_and_paper_recipes_keep_no_decay(name):
    assert VARIANTS[name].params["weight_decay"] == 0.0
