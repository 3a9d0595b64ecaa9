"""Method-specific behaviour of the four estimators and their fitted reports."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier
from skscor._encoding import resolve_batch_size
from skscor._variants import SMALL, build
from skscor.hessian import class_hessian_spectrum
from skscor.losses import effective_number_weights
from skscor.metrics import class_disparity
from skscor.modules import CosineLinear
from skscor.optim import rho_schedule

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Small networks, few epochs: collapse warnings are expected, not under test.
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]


# The shared data sets of conftest, under the names this module's tests use.
@pytest.fixture(scope="module")
def data(imbalanced_blobs):
    return imbalanced_blobs


@pytest.fixture(scope="module")
def digits(imbalanced_digits):
    return imbalanced_digits


class BNNet(torch.nn.Module):
    """A user module with BatchNorm and a linear head."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU()
        )
        self.out = torch.nn.Linear(16, n_classes)

    def forward(self, X):
        return self.out(self.body(X))


class NoLinear(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(n_features, n_classes))

    def forward(self, X):
        return X @ self.w


# ------------------------------------------------------------------ SAM
def test_sam_rho_zero_equals_plain_training(data):
    X, y = data
    sam = SAMClassifier(rho=0.0, reweighting=None, **SMALL).fit(X, y)
    plain = SCoRClassifier(alpha=0.0, **SMALL).fit(X, y)
    np.testing.assert_allclose(
        sam.predict_proba(X), plain.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_sam_changes_the_trajectory(data):
    X, y = data
    sam = SAMClassifier(rho=0.5, **SMALL).fit(X, y)
    plain = SCoRClassifier(alpha=0.0, **SMALL).fit(X, y)
    assert not np.allclose(sam.predict_proba(X), plain.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("kind", ["constant", "linear", "step"])
def test_rho_schedule_applied_per_epoch(data, kind):
    X, y = data
    clf = SAMClassifier(rho=0.05, rho_schedule=kind, tol=0.0, **SMALL).fit(X, y)
    sched = rho_schedule(kind, rho=0.05, rho_max=0.8, max_iter=10)
    np.testing.assert_allclose(
        clf.net_.history[:, "rho"], [sched(e) for e in range(10)]
    )
    if kind == "linear":
        assert clf.net_.history[-1, "rho"] == pytest.approx(0.8)


def test_drw_switches_on_at_its_epoch(data):
    X, y = data
    clf = SAMClassifier(reweighting="drw", drw_start=0.5, tol=0.0, **SMALL)
    clf.fit(X, y)
    counts = np.bincount(y)
    np.testing.assert_array_equal(clf.class_counts_, counts)
    w = clf.net_.criterion_.class_weight.numpy().astype(np.float64)
    expected = effective_number_weights(counts, 0.9999, dtype=torch.float64).numpy()
    expected = expected * counts.sum() / (expected * counts).sum()
    np.testing.assert_allclose(w, expected, rtol=1e-6)
    # mean weight over the training rows is one; the rarest class weighs most
    assert (w * counts).sum() / counts.sum() == pytest.approx(1.0, rel=1e-6)
    assert w[2] > w[1] > w[0]
    # before the switch the weights are one: after epoch 0 of 10 they still are
    early = SAMClassifier(reweighting="drw", drw_start=0.5, tol=0.0, **SMALL)
    early.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(early.net_.criterion_.class_weight.numpy(), 1.0)


def test_ldam_uses_cosine_head_and_vs_linear(data):
    X, y = data
    ldam = SAMClassifier(loss="ldam", **SMALL).fit(X, y)
    assert isinstance(ldam.net_.module_.head, CosineLinear)
    vs = SAMClassifier(loss="vs", **SMALL).fit(X, y)
    assert isinstance(vs.net_.module_.head, torch.nn.Linear)
    np.testing.assert_allclose(
        ldam.net_.criterion_.inner.margins.max().item(), 0.5, rtol=1e-6
    )


def test_loss_params_forwarded_and_checked(data):
    X, y = data
    clf = SAMClassifier(loss="focal", loss_params={"gamma": 2.5}, **SMALL).fit(X, y)
    assert clf.net_.criterion_.inner.gamma == 2.5
    with pytest.raises(ValueError, match="loss_params"):
        SAMClassifier(loss="vs", loss_params={"alpha": 1.0}, **SMALL).fit(X, y)


def test_sam_scor_replays_the_same_split(data, monkeypatch):
    """The perturbed pass must use the same random half split as the first."""
    X, y = data
    import skscor.losses._scor as scor_mod

    real = scor_mod.scor_penalty

    def spy(input, *, generator=None, permute=True):
        assert permute  # unshuffled batches: the split needs a permutation
        splits.setdefault(id(generator), []).append(generator.get_state().clone())
        return real(input, generator=generator, permute=permute)

    monkeypatch.setattr(scor_mod, "scor_penalty", spy)
    splits = {}
    # each member draws from its own generator; in lockstep their calls
    # interleave, so the pairs are checked per generator
    SAMClassifier(
        loss="scor", batch_size=32, max_iter=1, random_state=0, shuffle=False
    ).fit(X, y)
    assert len(splits) >= 2
    for states in splits.values():
        assert len(states) >= 4 and len(states) % 2 == 0
        for first, second in zip(states[::2], states[1::2], strict=True):
            assert torch.equal(first, second)
        assert not torch.equal(states[0], states[2])


def test_scor_split_of_shuffled_batches_skips_the_permutation(data, monkeypatch):
    X, y = data
    calls = []
    import skscor.losses._scor as scor_mod

    real = scor_mod.scor_penalty

    def spy(input, *, generator=None, permute=True):
        calls.append(permute)
        return real(input, generator=generator, permute=permute)

    monkeypatch.setattr(scor_mod, "scor_penalty", spy)
    SCoRClassifier(batch_size=32, max_iter=1, random_state=0).fit(X, y)
    assert calls and not any(calls)
    calls.clear()
    SCoRClassifier(batch_size=32, max_iter=1, random_state=0, shuffle=False).fit(X, y)
    assert calls and all(calls)


def test_sam_batchnorm_stats_updated_once_per_step(data):
    X, y = data
    clf = SAMClassifier(
        module=BNNet, batch_size=45, max_iter=2, tol=0.0, random_state=0
    )
    clf.fit(X, y)
    bn = clf.net_.module_.body[1]
    assert bn.num_batches_tracked.item() == 2 * 4  # 180 rows / 45 per batch
    assert bn.track_running_stats


# ---------------------------------------------------------------- focal
def test_focal_gamma_zero_is_cross_entropy(data):
    X, y = data
    focal = FocalClassifier(gamma=0.0, **SMALL).fit(X, y)
    ce = SCoRClassifier(alpha=0.0, **SMALL).fit(X, y)
    np.testing.assert_allclose(
        focal.predict_proba(X), ce.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_focal_default_gamma_reaches_the_loss(data):
    # The default (the SAM paper's gamma=1, chosen by measurement) is what the
    # fitted criterion uses, and it trains a different network than the focal
    # paper's 2.0 (the variant 'focal-paper' keeps 2.0 and no class weights).
    X, y = data
    default = FocalClassifier(**SMALL).fit(X, y)
    assert default.gamma == 1.0
    assert default.net_.criterion_.gamma == 1.0
    paper = FocalClassifier(gamma=2.0, **SMALL).fit(X, y)
    assert paper.net_.criterion_.gamma == 2.0
    assert not np.allclose(default.predict_proba(X), paper.predict_proba(X))


def test_scor_default_alpha_reaches_the_loss(data):
    # The default (1e-3, chosen by measurement) is what the fitted criterion
    # uses, and it trains a different network than the paper's 1e-4 (the
    # variants 'scor-paper' and 'scor+single' keep 1e-4).
    from skscor._variants import VARIANTS

    X, y = data
    default = SCoRClassifier(**SMALL).fit(X, y)
    assert default.alpha == 1e-3
    assert default.net_.criterion_.alpha == 1e-3
    paper = SCoRClassifier(alpha=1e-4, **SMALL).fit(X, y)
    assert paper.net_.criterion_.alpha == 1e-4
    assert not np.allclose(default.predict_proba(X), paper.predict_proba(X))
    for name in ("scor-paper", "scor+single"):
        assert VARIANTS[name].params["alpha"] == 1e-4


def test_focal_alpha(data):
    X, y = data
    yb = (y == 2).astype(int)
    a = FocalClassifier(alpha=0.9, class_weight=None, **SMALL).fit(X, yb)
    cw = FocalClassifier(class_weight={0: 0.1, 1: 0.9}, **SMALL).fit(X, yb)
    np.testing.assert_allclose(a.predict_proba(X), cw.predict_proba(X), rtol=1e-5)
    plain = FocalClassifier(class_weight=None, **SMALL).fit(X, y)
    per_class = FocalClassifier(alpha=[1.0, 1.0, 5.0], class_weight=None, **SMALL).fit(
        X, y
    )
    assert per_class.predict_proba(X)[:, 2].mean() > plain.predict_proba(X)[:, 2].mean()
    with pytest.raises(ValueError, match="same concept"):
        FocalClassifier(alpha=0.5, class_weight="balanced", **SMALL).fit(X, yb)
    with pytest.raises(ValueError, match="binary"):
        FocalClassifier(alpha=0.5, class_weight=None, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="one per class"):
        FocalClassifier(alpha=[1.0, 2.0], class_weight=None, **SMALL).fit(X, y)


# ------------------------------------------------------------------ MR²
def test_mr2_state_persists_and_pickles(data):
    X, y = data
    clf = MR2Classifier(hidden_layer_sizes=(16,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    crit = clf.net_.criterion_
    m1 = crit.ema_m.clone()
    assert torch.all(crit.n_updates_m > 0)
    clf.partial_fit(X, y)
    assert not torch.equal(m1, clf.net_.criterion_.ema_m)  # updated, not rebuilt
    assert torch.all(clf.net_.criterion_.n_updates_m >= 2 * 1)
    restored = pickle.loads(pickle.dumps(clf))
    assert torch.equal(restored.net_.criterion_.ema_m, clf.net_.criterion_.ema_m)
    restored.partial_fit(X, y)
    gamma = restored.net_.criterion_.class_gamma()
    assert torch.isfinite(gamma).all() and gamma.mean().item() == pytest.approx(1.0)


def test_mr2_statistics_not_updated_by_prediction_or_validation(data):
    X, y = data
    clf = MR2Classifier(
        validation_fraction=0.3, **{**SMALL, "early_stopping": True}
    ).fit(X, y)
    crit = clf.net_.criterion_
    n_train = len(y) - int(np.ceil(0.3 * len(y)))
    batches = int(np.ceil(n_train / resolve_batch_size("auto", n_train)))
    before = crit.ema_m.clone()
    clf.predict_proba(X)
    assert torch.equal(before, crit.ema_m)
    # one update per training batch per epoch, none from the validation batches
    assert crit.n_updates_m.max().item() <= clf.n_iter_ * batches


def test_mr2_user_module_and_missing_linear(data):
    X, y = data
    clf = MR2Classifier(module=BNNet, max_iter=3, random_state=0).fit(X, y)
    assert clf.net_.criterion_.n_updates_m.sum() > 0
    with pytest.raises(ValueError, match="nn.Linear"):
        MR2Classifier(module=NoLinear, max_iter=1).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"max_iter": 4},  # runs to max_iter (one member, no held-out rows)
        {"max_iter": 200, "n_members": 2},  # stops early, members in lockstep
    ],
    ids=["max_iter", "early_stop"],
)
def test_mr2_rep_batch_size_takes_effect_only_above_the_batch(data, params):
    X, y = data
    base = {"hidden_layer_sizes": (16,), "batch_size": 32, "random_state": 0}
    if params.get("n_members", 1) == 1:
        base.update(early_stopping=False, n_members=1)

    def proba(rep_batch_size):
        clf = MR2Classifier(**base, **params, rep_batch_size=rep_batch_size)
        clf.fit(X, y)
        assert clf.net_.criterion_.inner.rep_batch_size == rep_batch_size
        return clf.predict_proba(X), clf.n_iter_

    whole, n_iter = proba(None)
    if "n_members" in params:
        assert n_iter < params["max_iter"]  # the stopping rule ended the fit
    same, _ = proba(32)  # parts of 32 rows: the whole batch
    np.testing.assert_array_equal(same, whole)
    parts, _ = proba(8)  # four parts of 8 rows: another objective
    assert not np.allclose(parts, whole)


# ----------------------------------------------------------- all methods
# Registry variants: each estimator at its defaults, SCoR+LS, SAM with LDAM+DRW.
ESTIMATORS = {
    name: build(name)
    for name in ["scor", "scor+ls", "focal", "sam", "sam+ldam+drw", "mr2"]
}


# Two early-stopped members instead of five, and no embedding choice (its
# second training of the first member): the losses are what is checked here
# (the ensemble and 'auto' have their own tests), at a seventh of the fit time.
SANITY = {
    "hidden_layer_sizes": (64,),
    "max_iter": 25,
    "batch_size": 64,
    "n_members": 2,
    "numeric_embedding": None,
}


def _digits_scores(est, digits):
    scores = []
    for seed in (0, 1):
        est.set_params(random_state=seed).fit(digits.X_train, digits.y_train)
        scores.append(
            balanced_accuracy_score(digits.y_test, est.predict(digits.X_test))
        )
    return scores


@pytest.fixture(scope="module")
def ce_digits_scores(digits):
    """Cross-entropy's scores, computed once for every method compared with it."""
    return _digits_scores(SCoRClassifier(alpha=0.0, **SANITY), digits)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_digits_sanity_within_a_few_points_of_ce(name, digits, ce_digits_scores):
    """A sanity check, not a benchmark: one class cut x10, 2 seeds."""
    scores = _digits_scores(ESTIMATORS[name].set_params(**SANITY), digits)
    ce_scores = ce_digits_scores
    assert np.mean(scores) >= np.mean(ce_scores) - 0.04, (scores, ce_scores)


@pytest.mark.parametrize(
    "estimator, grid",
    [
        (SCoRClassifier(), {"clf__alpha": [0.0, 1e-3]}),
        (FocalClassifier(), {"clf__gamma": [0.0, 2.0]}),
        (SAMClassifier(), {"clf__rho": [0.0, 0.1]}),
        (MR2Classifier(), {"clf__lambda_rep": [0.0, 0.1]}),
    ],
)
def test_flat_grid_search_in_imblearn_pipeline(estimator, grid, data):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline

    X, y = data
    pipe = Pipeline(
        [
            ("ros", RandomOverSampler(random_state=0)),
            (
                "clf",
                estimator.set_params(
                    **{**SMALL, "learning_rate_init": 1e-2},
                ),
            ),
        ]
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv, scoring="balanced_accuracy").fit(X, y)
    assert search.best_score_ > 0.6
    assert list(search.best_params_) == list(grid)


# --------------------------------------------------------------- reports
@pytest.mark.parametrize("name", ["scor", "sam+ldam+drw", "mr2"])
def test_fitted_reports(name, data):
    X, y = data
    clf = ESTIMATORS[name].set_params(**SMALL).fit(X, y)
    rep = clf.spectral_report_
    assert [layer.shape for layer in rep.layers][-1] == (3, 16)
    assert 0 < rep.summary["last_sigma_min"] <= rep.summary["last_sigma_max"]
    dis = clf.disparity_report_
    expected = class_disparity(y, clf.predict(X), labels=clf.classes_)
    np.testing.assert_allclose(dis.recall, expected.recall)
    assert dis.worst_class_recall == expected.worst_class_recall


def test_reports_follow_partial_fit_and_validation(data):
    X, y = data
    clf = SCoRClassifier(hidden_layer_sizes=(16,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    first = clf.spectral_report_.layers[0].singular_values.copy()
    clf.partial_fit(X[y != 2], y[y != 2])
    assert not np.allclose(first, clf.spectral_report_.layers[0].singular_values)
    assert list(clf.disparity_report_.absent_labels) == [2]
    es = SCoRClassifier(validation_fraction=0.25, **{**SMALL, "early_stopping": True})
    es.fit(X, y)
    # measured on the held-out quarter of each class, not on the training rows
    expected = sum(round(0.25 * n_c) for n_c in np.bincount(y))
    assert es.disparity_report_.support.sum() == expected


def test_class_hessian_spectrum_on_fitted_estimator(data):
    X, y = data
    clf = SAMClassifier(**SMALL).fit(X, y)
    spec = class_hessian_spectrum(
        clf, X, y, max_samples_per_class=32, n_hutchinson=10, random_state=0
    )
    assert list(spec.labels) == [0, 1, 2]
    assert np.all(spec.lambda_max >= spec.lambda_min)
    assert np.all(np.isfinite(spec.trace))


def test_no_convergence_warning_when_stopping_early(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SCoRClassifier(tol=1.0, n_iter_no_change=1, max_iter=50, random_state=0).fit(
            X, y
        )
