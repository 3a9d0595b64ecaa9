"""Output temperatures fitted on the members' held-out rows (``output_temperature``)."""

import io
import pickle
import warnings

import numpy as np
import pytest
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor import _decision as dec
from skscor import _encoding as enc

NET = {"hidden_layer_sizes": (16,), "learning_rate_init": 1e-2, "random_state": 0}


# ------------------------------------------------------------ the fit of T
def _weighted_log_loss(z, y, w, t):
    return float(
        np.average(-log_softmax(z / t, axis=1)[np.arange(len(y)), y], weights=w)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_fit_temperature_is_the_minimum_of_the_weighted_log_loss(dtype, k, seed):
    rng = np.random.default_rng(seed)
    n = 600
    y = rng.choice(k, size=n, p=np.r_[0.7, np.full(k - 1, 0.3 / (k - 1))])
    z = (rng.normal(size=(n, k)) + 2.0 * np.eye(k)[y]).astype(dtype)
    w = np.where(y == 0, 1.0, 3.0)
    t = dec.fit_temperature(z, y, w)
    # a fine grid from the definition: nothing on it does better
    grid = np.exp(np.linspace(np.log(0.3), np.log(3.5), 2001))
    losses = [_weighted_log_loss(z.astype(np.float64), y, w, g) for g in grid]
    assert _weighted_log_loss(z.astype(np.float64), y, w, t) <= min(losses) + 1e-9
    assert grid[int(np.argmin(losses))] == pytest.approx(t, rel=2e-3)


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_fit_temperature_recovers_the_scale_of_calibrated_logits(scale):
    # labels drawn from softmax(z): the logits scaled by s need T = s
    rng = np.random.default_rng(0)
    z = 2.0 * rng.normal(size=(20000, 3))
    p = np.exp(log_softmax(z, axis=1))
    y = (rng.random(len(z))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    assert dec.fit_temperature(scale * z, y, np.ones(len(y))) == pytest.approx(
        scale, rel=0.05
    )


def test_fit_temperature_stays_within_its_bounds():
    y = np.repeat([0, 1], 50)
    separated = 3.0 * np.eye(2)[y]
    assert dec.fit_temperature(separated, y, np.ones(100)) == dec.TEMPERATURE_BOUNDS[0]
    rng = np.random.default_rng(0)
    noise = 5.0 * rng.normal(size=(100, 2))
    assert dec.fit_temperature(noise, y, np.ones(100)) == dec.TEMPERATURE_BOUNDS[1]
    # a probability that underflowed to 0 (log -inf) neither crashes nor gives NaN
    z = np.c_[np.zeros(100), np.where(y == 1, 0.5, -np.inf)]
    assert np.isfinite(dec.fit_temperature(z, y, np.ones(100)))


# ---------------------------------------------------------- the estimator
# The shared data set of conftest, under the name this module's tests use.
@pytest.fixture(scope="module")
def data(noisy_binary):
    return noisy_binary


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _temperatures_from_definition(clf, X, y):
    """Each output's temperature recomputed from the members' held-out rows."""
    Xn = clf._network_input(X)
    y_enc = np.searchsorted(clf.classes_, y)
    seed = enc.draw_seed(clf.random_state)
    splits = enc.member_splits(y_enc, clf.validation_fraction, clf.n_members, seed)
    k = clf.n_classes_
    out = {}
    for name, target in (
        ("default", None),
        ("balanced", "balanced"),
        ("training", "training"),
    ):
        proba = np.zeros((len(y), k))
        hits = np.zeros(len(y))
        for net, (_, valid) in zip(clf.members_, splits, strict=True):
            z = clf._forward(Xn[valid], nets=[net], output=False)
            if target is not None:
                # the member moved to the output's prior from the one its
                # trained logits answer for (a logit adjustment tempers it)
                under = np.asarray(net.kept_prior, dtype=float)
                if clf.logit_adjustment is not None:
                    under = under ** (1.0 - clf.tau)
                z = z + np.log(clf._output_class_prior(target)) - np.log(under)
            proba[valid] += np.exp(log_softmax(z, axis=1))
            hits[valid] += 1
        rows = np.flatnonzero(hits)
        logp = np.log(proba[rows] / hits[rows, None])
        if target is None:
            logp = logp + clf.decision_offsets_
        true = y_enc[rows]
        freq = np.bincount(true, minlength=k) / len(true)
        # each class weighted to the prior the output answers for
        w = (clf._output_class_prior(target) / freq)[true]
        grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 4001))
        losses = [_weighted_log_loss(logp, true, w, g) for g in grid]
        out[name] = grid[int(np.argmin(losses))]
    return out


@pytest.fixture(scope="module")
def tempered(data):
    X, y = data
    return _fit(FocalClassifier(**NET), X, y)


@pytest.mark.parametrize("max_iter", [4, 200], ids=["runs-to-max_iter", "stops-early"])
def test_temperatures_are_fitted_on_the_held_out_rows(data, tempered, max_iter):
    X, y = data
    clf = (
        tempered if max_iter == 200 else _fit(FocalClassifier(max_iter=4, **NET), X, y)
    )
    assert (clf.n_iter_ == 4) == (max_iter == 4)
    expected = _temperatures_from_definition(clf, X, y)
    assert set(clf.output_temperatures_) == {"default", "balanced", "training"}
    for name, t in expected.items():
        assert clf.output_temperatures_[name] == pytest.approx(t, rel=2e-3), name
    # the data is one where they take effect
    assert abs(np.log(clf.output_temperatures_["default"])) > 0.05


@pytest.mark.parametrize("output_prior", [None, "balanced", "training"])
def test_temperature_moves_probabilities_not_decisions(data, tempered, output_prior):
    X, _ = data
    clf = pickle.loads(pickle.dumps(tempered)).set_params(output_prior=output_prior)
    t = clf.output_temperatures_[output_prior or "default"]
    plain = pickle.loads(pickle.dumps(clf))
    plain.output_temperatures_ = dict.fromkeys(plain.output_temperatures_, 1.0)
    expected = log_softmax(np.log(plain.predict_proba(X)) / t, axis=1)
    np.testing.assert_allclose(clf.predict_log_proba(X), expected, atol=1e-9)
    np.testing.assert_allclose(np.log(clf.predict_proba(X)), expected, atol=1e-9)
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))
    assert not np.allclose(clf.predict_proba(X), plain.predict_proba(X), atol=1e-3)
    # decision_function stays the log-odds of predict_proba
    logp = clf.predict_log_proba(X)
    np.testing.assert_allclose(
        clf.decision_function(X), logp[:, 1] - logp[:, 0], atol=1e-9
    )


def test_a_fixed_temperature_and_one(data, tempered):
    X, y = data
    one = _fit(FocalClassifier(output_temperature=1.0, **NET), X, y)
    # the temperatures are fitted whatever the parameter says
    assert one.output_temperatures_ == tempered.output_temperatures_
    # the same networks and decisions as the fitted temperatures give
    np.testing.assert_array_equal(one.predict(X), tempered.predict(X))
    np.testing.assert_array_equal(one.decision_offsets_, tempered.decision_offsets_)
    plain = pickle.loads(pickle.dumps(tempered))
    plain.output_temperatures_ = dict.fromkeys(plain.output_temperatures_, 1.0)
    np.testing.assert_allclose(
        one.predict_log_proba(X), plain.predict_log_proba(X), atol=1e-12
    )
    # a prediction-time choice, as output_prior: no refit
    one.set_params(output_temperature=2.0)
    np.testing.assert_allclose(
        one.predict_log_proba(X),
        log_softmax(plain.predict_log_proba(X) / 2.0, axis=1),
        atol=1e-9,
    )
    for output_prior in (None, "training"):
        one.set_params(output_temperature="auto", output_prior=output_prior)
        tempered.set_params(output_prior=output_prior)
        try:
            np.testing.assert_allclose(
                one.predict_proba(X), tempered.predict_proba(X), atol=1e-12
            )
        finally:
            tempered.set_params(output_prior=None)


@pytest.mark.parametrize("value", [0.0, -2.0, float("nan"), "fitted", True])
def test_a_bad_temperature_set_after_fit_is_refused(data, tempered, value):
    X, _ = data
    clf = pickle.loads(pickle.dumps(tempered)).set_params(output_temperature=value)
    with pytest.raises(ValueError, match="output_temperature"):
        clf.predict_proba(X)


@pytest.mark.parametrize(
    "params",
    [{"early_stopping": False}, {"early_stopping": "refit", "n_members": 1}],
    ids=["no-early-stopping", "refit"],
)
def test_no_held_out_rows_no_temperature(data, params):
    X, y = data
    clf = _fit(FocalClassifier(**{**NET, "max_iter": 20, **params}), X, y)
    assert set(clf.output_temperatures_.values()) == {1.0}


def test_partial_fit_drops_the_temperatures_and_warm_start_refits_them(data, tempered):
    X, y = data
    clf = pickle.loads(pickle.dumps(tempered))
    clf.partial_fit(X, y)
    assert set(clf.output_temperatures_.values()) == {1.0}
    clf.set_params(warm_start=True, max_iter=15)
    _fit(clf, X, y)
    expected = _temperatures_from_definition(clf, X, y)
    for name, t in expected.items():
        assert clf.output_temperatures_[name] == pytest.approx(t, rel=2e-3), name


def test_temperatures_travel_with_the_weights(data, tempered):
    X, _ = data
    buf = io.BytesIO()
    tempered.save_weights(buf)
    buf.seek(0)
    loaded = FocalClassifier(**NET).load_weights(buf)
    assert loaded.output_temperatures_ == tempered.output_temperatures_
    np.testing.assert_allclose(loaded.predict_proba(X), tempered.predict_proba(X))


@pytest.mark.parametrize(
    "est",
    [
        SCoRClassifier(n_members=1, **NET),
        SAMClassifier(**NET),
        MR2Classifier(**NET),
        SCoRClassifier(class_weight=None, logit_adjustment="post-hoc", **NET),
    ],
    ids=["scor-one-member", "sam", "mr2", "scor-unweighted-post-hoc"],
)
def test_every_estimator_fits_its_temperatures(data, est):
    X, y = data
    clf = _fit(est, X, y)
    expected = _temperatures_from_definition(clf, X, y)
    for name, t in expected.items():
        assert clf.output_temperatures_[name] == pytest.approx(t, rel=2e-3), name


@pytest.mark.parametrize("value", [0, -1.0, "yes"])
def test_bad_value_is_refused(data, value):
    X, y = data
    with pytest.raises(ValueError, match="output_temperature"):
        SCoRClassifier(output_temperature=value).fit(X, y)
