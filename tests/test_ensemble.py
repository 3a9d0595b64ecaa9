"""Ensembles of early-stopped members (``n_members``): splits, averaging, state."""

import io
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score

from skscor import SAMClassifier, SCoRClassifier
from skscor import _encoding as enc

NET = {
    "hidden_layer_sizes": (16,),
    "learning_rate_init": 1e-2,
    "random_state": 0,
    # each test asks for the members and the early stopping it is about
    "n_members": 1,
    "early_stopping": False,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=5, weights=[0.85], random_state=3
    )
    return X, y


@pytest.fixture(scope="module")
def crossfit(data):
    X, y = data
    clf = SCoRClassifier(
        validation_fraction=1 / 3,
        max_iter=60,
        **{**NET, "n_members": 3, "early_stopping": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


# ---------------------------------------------------------------- splits
@pytest.mark.parametrize("k", [1, 3, 5])
def test_member_splits_are_stratified_folds_at_one_over_k(k):
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=503, p=[0.7, 0.25, 0.05])
    splits = enc.member_splits(y, 1 / k if k > 1 else 0.2, k, seed=1)
    assert len(splits) == k
    held = np.concatenate([v for _, v in splits])
    for train, valid in splits:
        assert np.intersect1d(train, valid).size == 0
        assert train.size + valid.size == y.size
        # every class is held out and trained on by every member
        assert set(np.unique(y[valid])) == {0, 1, 2}
        assert set(np.unique(y[train])) == {0, 1, 2}
    if k > 1:
        # the folds of a k-fold: disjoint; all rows held out (up to rounding)
        assert np.unique(held).size == held.size
        assert held.size >= y.size - 3 * k


def test_member_splits_disjoint_slices_below_one_over_k():
    y = np.repeat([0, 1], [900, 100])
    splits = enc.member_splits(y, 0.1, 5, seed=0)
    held = np.concatenate([v for _, v in splits])
    assert np.unique(held).size == held.size == 500
    for _, valid in splits:
        assert np.bincount(y[valid]).tolist() == [90, 10]


def test_member_splits_train_every_member_on_a_small_class_and_score_it():
    # classes under _MIN_HELD_OUT_ROWS rows: in every member's training rows
    # and in every member's validation rows (scored in-sample); the others
    # are held out in disjoint folds
    small = enc._MIN_HELD_OUT_ROWS - 1
    y = np.array([0] * 50 + [1] * small + [2])
    with pytest.warns(UserWarning, match="no sample of 2 of the 3 classes"):
        splits = enc.member_splits(y, 0.2, 5, seed=0)
    tiny = np.flatnonzero(y > 0)
    held = []
    for train, valid in splits:
        assert np.isin(tiny, train).all() and np.isin(tiny, valid).all()
        out = np.setdiff1d(valid, train)
        assert set(y[out]) == {0} and out.size == 10
        held.append(out)
    assert np.unique(np.concatenate(held)).size == 50  # the folds of class 0


def test_member_splits_of_a_small_data_set_hold_out_every_class():
    # no class reaches _MIN_HELD_OUT_ROWS: each class of two or more rows is
    # held out as before (no in-sample scoring), a single row never
    small = enc._MIN_HELD_OUT_ROWS - 1
    y = np.array([0] * small + [1] * 2 + [2])
    with pytest.warns(UserWarning, match="holds out no sample of 1 of the 3"):
        splits = enc.member_splits(y, 0.5, 4, seed=0)
    n = len(y)
    for train, valid in splits:
        assert n - 1 in train and n - 1 not in valid
        assert np.intersect1d(train, valid).size == 0
        # a class of two rows: one held out, one trained on
        assert (y[valid] == 1).sum() == 1


def test_a_small_class_is_learned_by_every_member_and_out_of_the_reports(data):
    # a class too small to hold out beside two large ones: every member trains
    # on it, and the out-of-fold report and score leave it out (no held-out
    # estimate)
    X, y = data
    rng = np.random.default_rng(0)
    small = enc._MIN_HELD_OUT_ROWS - 1
    noise = rng.normal(scale=0.1, size=(small, X.shape[1]))
    X = np.vstack([X, X[y == 1][:small] + noise])
    y = np.concatenate([y, [2] * small])
    with pytest.warns(UserWarning, match="no sample of 1 of the 3 classes"):
        clf = SCoRClassifier(
            max_iter=30, **{**NET, "n_members": 3, "early_stopping": True}
        ).fit(X, y)
    report = clf.disparity_report_
    assert "out-of-fold" in report.on
    assert list(report.absent_labels) == [2]
    # the members learned it
    assert clf.predict(X[-small:]).tolist().count(2) >= small - 1
    # a warm start continues on the same splits: still no held-out estimate
    with pytest.warns(UserWarning, match="no sample of 1 of the 3 classes"):
        clf.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert list(clf.disparity_report_.absent_labels) == [2]


# ------------------------------------------------------------- averaging
def test_single_member_is_the_network(data):
    X, y = data
    clf = SCoRClassifier(max_iter=5, **NET).fit(X, y)
    assert clf.members_ == [clf.net_]


@pytest.mark.parametrize("adjust", [None, "post-hoc"])
def test_proba_is_the_mean_of_the_members_probabilities(data, adjust):
    X, y = data
    clf = SCoRClassifier(
        max_iter=8,
        class_weight=None,
        logit_adjustment=adjust,
        **{**NET, "n_members": 3},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short, unweighted: may collapse
        clf.fit(X, y)
    Xe = torch.tensor(clf._network_input(X), dtype=torch.float32)
    probas = []
    for net in clf.members_:
        net.module_.eval()
        with torch.no_grad():
            z = net.criterion_.decision_logits(net.module_(Xe)).double().numpy()
        if adjust == "post-hoc":
            z = z - np.log(net.kept_prior)
        p = np.exp(z - z.max(1, keepdims=True))
        probas.append(p / p.sum(1, keepdims=True))
    expected = np.mean(probas, axis=0)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        clf.predict_log_proba(X), np.log(expected), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_array_equal(clf.predict(X), expected.argmax(1))
    # the members are different networks (own seeds)
    assert not np.allclose(probas[0], probas[1])


def test_each_member_is_selected_on_its_own_held_out_rows(data, crossfit):
    X, y = data
    clf = crossfit
    seed = enc.draw_seed(0)
    splits = enc.member_splits(y, 1 / 3, 3, seed)
    Xe = clf._network_input(X)
    proba = np.zeros((len(y), 2))
    for net, (_, valid) in zip(clf.members_, splits, strict=True):
        # each member validated on its own fold and restored its best epoch
        losses = [row["valid_criterion"] for row in net.history]
        assert len(losses) == len(net.history)
        z = clf._forward(Xe[valid], nets=[net], output=False)
        p = np.exp(z - z.max(1, keepdims=True))
        proba[valid] += p / p.sum(1, keepdims=True)
    # the out-of-fold score is computed from exactly these predictions
    held = np.concatenate([v for _, v in splits])
    oof = balanced_accuracy_score(y[held], proba[held].argmax(1))
    assert clf.best_validation_score_ == pytest.approx(oof)
    assert "out-of-fold" in clf.disparity_report_.on
    assert clf.n_iter_ == max(len(net.history) for net in clf.members_)
    # members stop on their own (different folds, different seeds)
    assert len({len(net.history) for net in clf.members_}) > 1 or all(
        len(net.history) == 60 for net in clf.members_
    )


def test_early_stopping_takes_effect_per_member(data):
    X, y = data
    # converges early: every member stops before max_iter
    clf = SCoRClassifier(
        n_iter_no_change=2,
        max_iter=300,
        **{**NET, "n_members": 2, "early_stopping": True},
    ).fit(X, y)
    assert all(len(net.history) < 300 for net in clf.members_)
    assert clf.stop_reason_ == "converged"
    # runs to max_iter: the reason says so, and the warning comes once
    with pytest.warns(ConvergenceWarning) as record:
        clf = SCoRClassifier(
            n_iter_no_change=50,
            max_iter=4,
            **{**NET, "n_members": 3, "early_stopping": True},
        ).fit(X, y)
    assert clf.stop_reason_ == "max_iter"
    assert all(len(net.history) == 4 for net in clf.members_)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in record) == 1


def test_refit_members(data):
    X, y = data
    clf = SCoRClassifier(
        n_iter_no_change=2,
        max_iter=100,
        **{**NET, "n_members": 2, "early_stopping": "refit"},
    ).fit(X, y)
    assert clf.stop_reason_ == "refit"
    assert len(clf.members_) == 2
    assert clf.best_validation_score_ is not None


# ------------------------------------------------------------ incremental
def test_warm_start_continues_every_member(data, crossfit):
    X, y = data
    clf = pickle.loads(pickle.dumps(crossfit))
    before = [len(net.history) for net in clf.members_]
    clf.set_params(warm_start=True, max_iter=3, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert [len(net.history) for net in clf.members_] == [b + 3 for b in before]
    clf.set_params(n_members=2)
    with pytest.raises(ValueError, match="n_members=2"):
        clf.fit(X, y)
    # the refused call left the fitted ensemble as it was
    assert len(clf.members_) == 3


def test_partial_fit_trains_each_member(data):
    X, y = data
    clf = SCoRClassifier(**{**NET, "n_members": 2})
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)
    assert [len(net.history) for net in clf.members_] == [2, 2]
    assert clf.n_iter_ == 2


def test_failed_warm_start_restores_every_member(data, crossfit):
    X, y = data
    clf = pickle.loads(pickle.dumps(crossfit))
    proba = clf.predict_proba(X)
    clf.set_params(warm_start=True, learning_rate_init=1e6, max_iter=5)
    with pytest.raises(Exception):  # noqa: B017 - DivergenceError or a refusal
        clf.fit(X * 1e6, y)
    np.testing.assert_allclose(clf.predict_proba(X), proba)


# ------------------------------------------------------------ persistence
def test_save_load_weights_round_trip(data, crossfit):
    X, _ = data
    buf = io.BytesIO()
    crossfit.save_weights(buf)
    buf.seek(0)
    new = SCoRClassifier(**{**NET, "n_members": 3}).load_weights(buf)
    np.testing.assert_allclose(new.predict_proba(X), crossfit.predict_proba(X))
    buf.seek(0)
    with pytest.raises(ValueError, match="n_members=3"):
        SCoRClassifier(**{**NET, "n_members": 1}).load_weights(buf)


def test_pickle_round_trip(data, crossfit):
    X, _ = data
    clone = pickle.loads(pickle.dumps(crossfit))
    np.testing.assert_array_equal(clone.predict_proba(X), crossfit.predict_proba(X))
    assert clone.net_ is clone.members_[0]


def test_sam_drw_members_keep_their_own_phase_prior(data):
    X, y = data
    clf = SAMClassifier(
        reweighting="drw",
        logit_adjustment="post-hoc",
        max_iter=12,
        **{**NET, "n_members": 2, "early_stopping": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    for net in clf.members_:
        kept = int(np.argmin([row["valid_criterion"] for row in net.history]))
        drw = bool(net.history[kept].get("drw", False))
        counts = np.bincount(y)
        # before the switch the prior is the frequencies, after it about uniform
        if not drw:
            np.testing.assert_allclose(net.kept_prior, counts / counts.sum())
        else:
            assert net.kept_prior.max() / net.kept_prior.min() < 2


# ----------------------------------------------------------- output prior
def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SCoRClassifier(max_iter=15, **{**NET, **params}).fit(X, y)


def test_output_prior_training_is_bayes_rule_on_the_default(data):
    X, y = data
    base = _fit(X, y)
    moved = _fit(X, y, output_prior="training")
    freq = np.bincount(y) / len(y)
    p = base.predict_proba(X) * freq / base.class_prior_
    expected = p / p.sum(1, keepdims=True)
    np.testing.assert_allclose(moved.predict_proba(X), expected, rtol=1e-9)
    np.testing.assert_array_equal(moved.predict(X), expected.argmax(1))
    # the balanced default inflates the minority; the training prior does not
    assert base.predict_proba(X)[:, 1].mean() > 1.3 * freq[1]
    assert moved.predict_proba(X)[:, 1].mean() < base.predict_proba(X)[:, 1].mean()


def test_output_prior_balanced_matches_post_hoc_adjustment(data):
    X, y = data
    post = _fit(X, y, class_weight=None, logit_adjustment="post-hoc")
    bal = _fit(X, y, class_weight=None, output_prior="balanced")
    np.testing.assert_allclose(bal.predict_proba(X), post.predict_proba(X), rtol=1e-9)
    # the loss form at tau=1 already answers for a uniform prior
    la = _fit(X, y, class_weight=None, logit_adjustment="loss")
    la_bal = _fit(
        X, y, class_weight=None, logit_adjustment="loss", output_prior="balanced"
    )
    np.testing.assert_allclose(la_bal.predict_proba(X), la.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("tau", [0.5, 1.0])
def test_output_prior_training_undoes_the_adjustment(data, tau):
    X, y = data
    plain = _fit(X, y, class_weight=None)
    post = _fit(
        X,
        y,
        class_weight=None,
        logit_adjustment="post-hoc",
        tau=tau,
        output_prior="training",
    )
    np.testing.assert_allclose(post.predict_proba(X), plain.predict_proba(X), rtol=1e-9)


def test_output_prior_applies_to_every_member(data):
    X, y = data
    ens = _fit(X, y, n_members=2)
    moved = _fit(X, y, n_members=2, output_prior="training")
    freq = np.bincount(y) / len(y)
    Xe = ens._network_input(X)
    probas = []
    for net in ens.members_:
        z = ens._forward(Xe, nets=[net], output=False)
        z = z + np.log(freq) - np.log(net.kept_prior)
        p = np.exp(z - z.max(1, keepdims=True))
        probas.append(p / p.sum(1, keepdims=True))
    # then the output's temperature (tests/test_temperature.py)
    z = np.log(np.mean(probas, 0)) / moved.output_temperatures_["training"]
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(
        moved.predict_proba(X), p / p.sum(1, keepdims=True), rtol=1e-9
    )


# ---------------------------------------------------------------- scoring
def test_default_selection_is_the_balanced_log_loss(data):
    X, y = data
    clf = SCoRClassifier(max_iter=20, **{**NET, "early_stopping": True}).fit(X, y)
    for row in clf.net_.history:
        assert row["valid_criterion"] == row["valid_loss"]
        assert "valid_score" not in row


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", ["scor", "focal"])
def test_kept_epoch_minimises_the_balanced_selection_loss(data, estimator):
    # from the definition: the mean over classes of each class's mean
    # held-out loss, log-loss for SCoR, the focal loss (gamma, no alpha) for
    # Focal; the restored epoch is the one with the lowest value
    from skscor import FocalClassifier

    X, y = data
    params = {
        **NET,
        "early_stopping": True,
        "max_iter": 25,
        "validation_fraction": 0.25,
    }
    if estimator == "focal":
        clf = FocalClassifier(gamma=2.0, **params).fit(X, y)
    else:
        clf = SCoRClassifier(**params).fit(X, y)
    _, valid = enc.member_splits(y, 0.25, 1, enc.draw_seed(0))[0]
    z = clf._forward(clf._network_input(X[valid]), nets=[clf.net_], output=False)
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    log_pt = logp[np.arange(len(valid)), y[valid]]
    row = -log_pt
    if estimator == "focal":
        row = row * (1 - np.exp(log_pt)) ** 2.0
    expected = np.mean([row[y[valid] == c].mean() for c in (0, 1)])
    history = [r["valid_loss"] for r in clf.net_.history]
    assert min(history) == pytest.approx(expected, rel=1e-4)
    assert clf.net_.history[int(np.argmin(history))]["valid_loss"] == min(history)


@pytest.mark.parametrize("scoring", ["balanced_accuracy", "roc_auc", "neg_log_loss"])
def test_scoring_chooses_the_kept_epoch(data, scoring):
    from sklearn.metrics import get_scorer

    X, y = data
    clf = SCoRClassifier(
        scoring=scoring,
        max_iter=25,
        n_iter_no_change=5,
        validation_fraction=0.1,
        # the epochs are scored on the network's own probabilities: the
        # output temperature is fitted afterwards (on these same rows)
        output_temperature=1.0,
        **{**NET, "early_stopping": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    scores = clf.validation_scores_
    assert scores == [row["valid_score"] for row in clf.net_.history]
    best = int(np.argmax(scores))
    assert clf.best_validation_score_ == scores[best]
    # the restored weights score exactly that on the held-out rows
    seed = enc.draw_seed(0)
    _, valid = enc.member_splits(y, 0.1, 1, seed)[0]
    scorer = get_scorer(scoring)
    assert scorer(clf, X[valid], y[valid]) == pytest.approx(scores[best], rel=1e-5)
    if scoring == "balanced_accuracy":
        assert scores == [row["valid_bacc"] for row in clf.net_.history]


def test_scoring_callable_and_bad_name(data):
    from sklearn.metrics import make_scorer, recall_score
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = data
    minority = make_scorer(recall_score, pos_label=1)
    clf = SCoRClassifier(
        scoring=minority, max_iter=10, **{**NET, "early_stopping": True}
    ).fit(X, y)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    with pytest.raises(InvalidParameterError, match="scoring"):
        SCoRClassifier(scoring="no_such_scorer").fit(X, y)
