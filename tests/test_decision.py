"""Decision offsets chosen on the members' held-out rows (``decision_offsets``)."""

import io
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skscor import FocalClassifier, SCoRClassifier
from skscor import _decision as dec
from skscor import _encoding as enc

NET = {"hidden_layer_sizes": (16,), "learning_rate_init": 1e-2, "random_state": 0}


# ------------------------------------------------------------ the search
def _recalls(y, pred, k):
    return np.array([np.mean(pred[y == c] == c) for c in range(k)])


def _reference(logits, y, k, grid=dec.GRID, rounds=dec.ROUNDS):
    """Coordinate ascent written from the definition: an argmax per grid value."""
    b = np.zeros(k)
    if np.bincount(y, minlength=k).min() < dec.MIN_CLASS_ROWS:
        return b
    for _ in range(rounds):
        for j in [1] if k == 2 else range(k):
            scores = []
            for g in grid:
                trial = b.copy()
                trial[j] = g
                r = _recalls(y, np.argmax(logits + trial, axis=1), k)
                scores.append(r.mean() + r.min())
            scores = np.array(scores)
            best = grid[scores >= scores.max() - 1e-12]
            b[j] = best[np.argmin(np.abs(best))]
    return b


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_tune_offsets_matches_the_argmax_reference(k, seed):
    rng = np.random.default_rng(seed)
    n = 900
    y = rng.choice(k, size=n, p=np.r_[0.6, np.full(k - 1, 0.4 / (k - 1))])
    # informative but noisy logits, biased against the rare classes
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    logits[:, 0] += 0.7
    got = dec.tune_offsets(logits, y, k)
    np.testing.assert_allclose(got, _reference(logits, y, k), atol=1e-12)


def test_tune_offsets_undoes_a_known_bias():
    # Two well-separated classes whose logits carry a bias of 1.0 toward
    # class 0: the offset that restores equal recalls is about +1.0.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [800, 200])
    margin = np.where(y == 1, 1.0, -1.0) * 3.0 + rng.normal(scale=1.0, size=y.size)
    logits = np.c_[np.zeros(y.size), margin - 1.0]
    b = dec.tune_offsets(logits, y, 2)
    assert b[0] == 0.0
    assert 0.4 <= b[1] <= 1.6
    before = _recalls(y, np.argmax(logits, 1), 2)
    after = _recalls(y, np.argmax(logits + b, 1), 2)
    assert after.mean() + after.min() > before.mean() + before.min()


def test_tune_offsets_stays_zero_on_few_rows_of_a_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [900, dec.MIN_CLASS_ROWS - 1])
    logits = rng.normal(size=(y.size, 2))
    np.testing.assert_array_equal(dec.tune_offsets(logits, y, 2), [0.0, 0.0])


def test_tune_offsets_is_zero_where_the_argmax_is_best():
    y = np.repeat([0, 1, 2], 150)
    logits = 5.0 * np.eye(3)[y]  # perfectly separated: no move needed
    np.testing.assert_array_equal(dec.tune_offsets(logits, y, 3), np.zeros(3))


# ---------------------------------------------------------- the estimator
# The shared data set of conftest, under the name this module's tests use.
@pytest.fixture(scope="module")
def data(noisy_binary):
    return noisy_binary


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _offsets_from_definition(clf, X, y):
    """The offsets recomputed from the members' held-out rows and networks."""
    Xn = clf._network_input(X)
    y_enc = np.searchsorted(clf.classes_, y)
    seed = enc.draw_seed(clf.random_state)
    splits = enc.member_splits(y_enc, clf.validation_fraction, clf.n_members, seed)
    proba = np.zeros((len(y), clf.n_classes_))
    hits = np.zeros(len(y))
    for net, (_, valid) in zip(clf.members_, splits, strict=True):
        z = clf._forward(Xn[valid], nets=[net], output=False)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        proba[valid] += p / p.sum(axis=1, keepdims=True)
        hits[valid] += 1
    rows = np.flatnonzero(hits)
    logp = np.log(proba[rows] / hits[rows, None])
    return dec.tune_offsets(logp, y_enc[rows], clf.n_classes_), rows, logp


@pytest.fixture(scope="module")
def tuned(data):
    X, y = data
    return _fit(SCoRClassifier(**NET), X, y)


@pytest.mark.parametrize("max_iter", [4, 200], ids=["runs-to-max_iter", "stops-early"])
def test_offsets_are_chosen_on_the_held_out_rows(data, tuned, max_iter):
    X, y = data
    clf = tuned if max_iter == 200 else _fit(SCoRClassifier(max_iter=4, **NET), X, y)
    assert (clf.n_iter_ == 4) == (max_iter == 4)
    expected, _, _ = _offsets_from_definition(clf, X, y)
    assert np.any(expected != 0)  # the data is one where they take effect
    np.testing.assert_allclose(clf.decision_offsets_, expected, atol=1e-12)


def test_offsets_move_predictions_and_proba_together(data, tuned):
    X, y = data
    plain = _fit(SCoRClassifier(decision_offsets=None, **NET), X, y)
    np.testing.assert_array_equal(plain.decision_offsets_, [0.0, 0.0])
    # the same networks (same seeds): only the offsets differ
    for a, b in zip(plain.members_, tuned.members_, strict=True):
        for pa, pb in zip(a.module_.parameters(), b.module_.parameters(), strict=True):
            np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    # the offsets alone (the output temperatures: tests/test_temperature.py)
    tuned = pickle.loads(pickle.dumps(tuned))
    for clf in (plain, tuned):
        clf.output_temperatures_ = dict.fromkeys(clf.output_temperatures_, 1.0)
    logp = np.log(plain.predict_proba(X))
    shifted = logp + tuned.decision_offsets_
    shifted -= np.logaddexp.reduce(shifted, axis=1, keepdims=True)
    np.testing.assert_allclose(np.log(tuned.predict_proba(X)), shifted, atol=1e-9)
    assert np.array_equal(
        tuned.predict(X), tuned.classes_[np.argmax(tuned.predict_proba(X), 1)]
    )
    assert np.any(tuned.predict(X) != plain.predict(X))
    np.testing.assert_allclose(
        tuned.decision_function(X),
        np.log(tuned.predict_proba(X))[:, 1] - np.log(tuned.predict_proba(X))[:, 0],
        atol=1e-9,
    )


def test_report_describes_the_offset_decisions(data, tuned):
    X, y = data
    b, rows, logp = _offsets_from_definition(tuned, X, y)
    y_enc = np.searchsorted(tuned.classes_, y)[rows]
    pred = np.argmax(logp + b, axis=1)
    recalls = _recalls(y_enc, pred, 2)
    rep = tuned.disparity_report_
    assert rep.worst_class_recall == pytest.approx(recalls.min())
    # the members' own selection score stays the plain argmax's
    plain = _recalls(y_enc, np.argmax(logp, axis=1), 2).mean()
    assert tuned.best_validation_score_ == pytest.approx(plain)


def test_output_prior_answers_without_offsets(data, tuned):
    X, _ = data
    clf = pickle.loads(pickle.dumps(tuned))
    clf.decision_offsets_ = np.zeros(2)
    clf.set_params(output_prior="training")
    expected = clf.predict_proba(X)
    tuned.set_params(output_prior="training")
    try:
        np.testing.assert_allclose(tuned.predict_proba(X), expected)
    finally:
        tuned.set_params(output_prior=None)


@pytest.mark.parametrize(
    "params",
    [{"early_stopping": False}, {"early_stopping": "refit", "n_members": 1}],
    ids=["no-early-stopping", "refit"],
)
def test_no_held_out_rows_no_offsets(data, params):
    X, y = data
    clf = _fit(SCoRClassifier(**{**NET, "max_iter": 20, **params}), X, y)
    np.testing.assert_array_equal(clf.decision_offsets_, [0.0, 0.0])


def test_partial_fit_drops_the_offsets_and_warm_start_rechooses_them(data, tuned):
    X, y = data
    clf = pickle.loads(pickle.dumps(tuned))
    assert np.any(clf.decision_offsets_)
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.decision_offsets_, [0.0, 0.0])
    clf.set_params(warm_start=True, max_iter=15)
    _fit(clf, X, y)
    expected, _, _ = _offsets_from_definition(clf, X, y)
    np.testing.assert_allclose(clf.decision_offsets_, expected, atol=1e-12)


def test_offsets_travel_with_the_weights(data, tuned):
    X, _ = data
    buf = io.BytesIO()
    tuned.save_weights(buf)
    buf.seek(0)
    loaded = SCoRClassifier(**NET).load_weights(buf)
    np.testing.assert_array_equal(loaded.decision_offsets_, tuned.decision_offsets_)
    np.testing.assert_allclose(loaded.predict_proba(X), tuned.predict_proba(X))


def test_single_member_tunes_on_its_validation_split():
    # 1,000 minority rows: 200 held out by the one member
    X, y = make_classification(
        n_samples=4000, n_features=6, weights=[0.75], flip_y=0.1, random_state=0
    )
    clf = _fit(FocalClassifier(n_members=1, max_iter=30, **NET), X, y)
    expected, _, _ = _offsets_from_definition(clf, X, y)
    np.testing.assert_allclose(clf.decision_offsets_, expected, atol=1e-12)


def test_bad_value_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="decision_offsets"):
        SCoRClassifier(decision_offsets="yes").fit(X, y)
