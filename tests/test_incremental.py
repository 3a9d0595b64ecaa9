"""One way through the fit: class balance, warm starts and partial_fit that never
go stale, one validation entry, divergence beyond NaN, threads, lazy reports.

Each test is a behaviour that release 0.2 got silently wrong (the reproducers
of the "one way through the fit" issue).
"""

import io
import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import skscor._reports
from skscor import (
    DivergenceError,
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)
from skscor._variants import SINGLE
from skscor.exceptions import CollapseWarning
from skscor.losses import BatchContext, MR2Loss, SCoRLoss

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Tiny networks on a few epochs: collapse is expected, not the point.
    pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning"),
]

SMALL = {"hidden_layer_sizes": (8,), "random_state": 0, **SINGLE}


@pytest.fixture(scope="module")
def noisy():
    """300 noisy rows of 3 classes (70/20/10 %), standardized float32."""
    X, y = make_classification(
        n_samples=300,
        n_features=10,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        flip_y=0.15,
        class_sep=0.6,
        random_state=0,
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


# ------------------------------------------------- partial_fit and the prior
def test_posthoc_never_favours_a_class_without_rows(noisy):
    X, y = noisy
    seen = y != 2
    clf = SCoRClassifier(
        class_weight=None,
        logit_adjustment="post-hoc",
        **{**SMALL, "learning_rate_init": 1e-2},
    )
    for _ in range(5):
        clf.partial_fit(X[seen], y[seen], classes=[0, 1, 2])
    # 0.2 put the floor 1e-12 on its prior: +27.6 on its logit, every row.
    assert not np.any(clf.predict(X[seen]) == 2)
    assert clf.class_prior_[2] == pytest.approx(clf.class_prior_.max())


def test_loss_offsets_follow_the_accumulated_counts(noisy):
    X, y = noisy
    seen = y != 2
    clf = SCoRClassifier(
        class_weight=None,
        logit_adjustment="loss",
        **{**SMALL, "learning_rate_init": 1e-2},
    )
    clf.partial_fit(X[seen], y[seen], classes=[0, 1, 2])
    for _ in range(3):
        clf.partial_fit(X, y)
    counts = clf.class_counts_
    assert counts[2] == 3 * np.sum(y == 2)
    prior = counts / counts.sum()
    offset = clf.net_.criterion_.logit_offset.double().numpy()
    # 0.2 kept the first call's offsets (class 2 at the floor) forever.
    np.testing.assert_allclose(offset, np.log(prior), rtol=1e-5)


# ---------------------------------------------------------------- warm start
def test_warm_start_recomputes_the_class_weights(noisy):
    X, y = noisy
    bal = np.r_[[np.flatnonzero(y == c)[:40] for c in range(3)]].ravel()
    clf = SCoRClassifier(warm_start=True, max_iter=3, **SMALL).fit(X[bal], y[bal])
    np.testing.assert_allclose(clf.class_weight_, 1.0)
    clf.fit(X, y)
    counts = np.bincount(y)
    expected = len(y) / (3 * counts)
    np.testing.assert_allclose(clf.class_weight_, expected, rtol=1e-6)
    np.testing.assert_allclose(
        clf.net_.criterion_.class_weight.numpy(), expected, rtol=1e-6
    )
    # the post-hoc prior of balanced weights is uniform again
    np.testing.assert_allclose(clf.class_prior_, 1 / 3, rtol=1e-6)


@pytest.mark.parametrize(
    "make, change, read",
    [
        (
            lambda: SCoRClassifier(**SMALL),
            {"learning_rate_init": 0.05},
            lambda n: n.optimizer_.param_groups[0]["lr"],
        ),
        (
            lambda: SCoRClassifier(**SMALL),
            {"weight_decay": 0.01},
            lambda n: n.optimizer_.param_groups[0]["weight_decay"],
        ),
        (
            lambda: SCoRClassifier(optimizer="sgd", **SMALL),
            {"momentum": 0.5},
            lambda n: n.optimizer_.param_groups[0]["momentum"],
        ),
        (
            lambda: SCoRClassifier(**SMALL),
            {"alpha": 0.01},
            lambda n: n.criterion_.inner.alpha,
        ),
        (
            lambda: SCoRClassifier(**SMALL),
            {"label_smoothing": 0.1},
            lambda n: n.criterion_.inner.label_smoothing,
        ),
        (
            lambda: SCoRClassifier(dropout=0.1, **SMALL),
            {"dropout": 0.3},
            lambda n: next(
                m.p for m in n.module_.modules() if isinstance(m, torch.nn.Dropout)
            ),
        ),
        (
            lambda: FocalClassifier(**SMALL),
            {"gamma": 1.0},
            lambda n: n.criterion_.inner.gamma,
        ),
        (
            lambda: SAMClassifier(**SMALL),
            {"rho": 0.2},
            lambda n: n.optimizer_.param_groups[0]["rho"],
        ),
        (
            lambda: MR2Classifier(**SMALL),
            {"lambda_rep": 0.5},
            lambda n: n.criterion_.inner.lambda_rep,
        ),
        (
            lambda: MR2Classifier(**SMALL),
            {"rep_batch_size": 16},
            lambda n: n.criterion_.inner.rep_batch_size,
        ),
    ],
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_set_params_takes_effect_on_a_warm_network(noisy, make, change, read, how):
    X, y = noisy
    clf = make().set_params(max_iter=2)
    if how == "warm_start":
        clf.set_params(warm_start=True).fit(X, y)
    else:
        clf.partial_fit(X, y, classes=[0, 1, 2])
    ema = getattr(clf.net_.criterion_, "ema_m", None)
    ema = None if ema is None else ema.clone()
    clf.set_params(**change)
    clf.fit(X, y) if how == "warm_start" else clf.partial_fit(X, y)
    assert read(clf.net_) == pytest.approx(next(iter(change.values())))
    if ema is not None:  # MR2's moving averages survive the new loss object
        assert not torch.equal(clf.net_.criterion_.ema_m, torch.zeros_like(ema))


def test_warm_start_keeps_the_optimizer_state(noisy):
    X, y = noisy
    clf = SCoRClassifier(warm_start=True, max_iter=2, **SMALL).fit(X, y)
    opt = clf.net_.optimizer_
    clf.set_params(learning_rate_init=0.02).fit(X, y)
    assert clf.net_.optimizer_ is opt  # Adam's moments carry on
    clf.set_params(optimizer="sgd").fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)


def test_warm_start_refuses_a_new_architecture(noisy):
    X, y = noisy
    clf = SCoRClassifier(warm_start=True, max_iter=2, **SMALL).fit(X, y)
    clf.set_params(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(8,), preprocessing="quantile")
    with pytest.raises(ValueError, match="preprocessing changed"):
        clf.fit(X, y)  # the conditioning is fitted once: it shapes the input
    clf.set_params(preprocessing="robust", categorical_features=[0])
    with pytest.raises(ValueError, match="categorical_features changed"):
        clf.partial_fit(X, y)
    sam = SAMClassifier(max_iter=2, **SMALL)
    sam.partial_fit(X, y, classes=[0, 1, 2])
    sam.set_params(loss="ldam")
    with pytest.raises(ValueError, match="head, loss changed"):
        sam.partial_fit(X, y)
    assert sam.n_iter_ == 1  # the failed call left the estimator as it was


# ------------------------------------------------ DRW and logit adjustment meet
def test_drw_and_loss_adjustment_correct_once(noisy):
    X, y = noisy
    clf = SAMClassifier(
        reweighting="drw",
        hidden_layer_sizes=(16,),
        learning_rate_init=1e-2,
        max_iter=20,
        logit_adjustment="loss",
        random_state=0,
        n_members=1,
        early_stopping=False,  # the last epoch is after the switch
    ).fit(X, y)
    assert clf.switch_epoch_ is not None
    offset = clf.net_.criterion_.logit_offset.double().numpy()
    # After the switch the DRW-weighted prior is about uniform, so the
    # offsets are about constant (0.2 kept log frequencies: spread 1.8).
    assert np.ptp(offset) < 0.05
    assert np.ptp(clf.class_prior_) < 0.02


# ----------------------------------------------- adjustment outside regularizers
@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: SCoRClassifier(alpha=1e-2, **kw),
        lambda **kw: SAMClassifier(loss="scor", reweighting=None, **kw),
        lambda **kw: MR2Classifier(**kw),
    ],
    ids=["scor", "sam-scor", "mr2"],
)
def test_constant_offset_leaves_the_model_unchanged(noisy, make):
    # Under 'balanced' the loss-form offset is a constant: softmax ignores it.
    X, y = noisy
    kw = {"learning_rate_init": 1e-2, "max_iter": 5, **SMALL}
    a = make(**kw).fit(X, y).predict_proba(X)
    b = make(logit_adjustment="loss", **kw).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_offset_reaches_the_data_term_only():
    rng = torch.Generator().manual_seed(0)
    z = torch.randn(8, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 0])
    offset = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    loss = SCoRLoss(alpha=0.5)
    # shuffled: the halves of the batch are the split (no random permutation)
    got = loss(z, y, context=BatchContext(shuffled=True, logit_offset=offset))
    ce = torch.nn.functional.cross_entropy(z + offset, y)
    plain = loss(z, y, context=BatchContext(shuffled=True))
    penalty = plain - torch.nn.functional.cross_entropy(z, y)
    torch.testing.assert_close(got, ce + penalty)
    # MR2: the offset is added after the per-sample temperature
    mr2 = MR2Loss(3, lambda_rep=0.0).eval()
    feats = torch.randn(8, 4, generator=rng, dtype=torch.float64)
    mr2.ema_m.fill_(1.0)
    mr2.ema_v.copy_(torch.tensor([0.5, 1.0, 4.0]))
    mr2.n_updates_m.fill_(1)
    mr2.n_updates_v.fill_(1)
    temp = mr2.class_gamma().double()[y]
    expected = torch.nn.functional.cross_entropy(z / temp[:, None] + offset, y)
    got = mr2(z, y, features=feats, context=BatchContext(logit_offset=offset))
    torch.testing.assert_close(got, expected)


# --------------------------------------- early stopping keeps a pre-switch epoch
def test_kept_epoch_before_drw_is_scored_with_its_own_prior(noisy):
    X, y = noisy
    clf = SAMClassifier(
        reweighting="drw",
        hidden_layer_sizes=(16,),
        learning_rate_init=1e-2,
        max_iter=40,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=5,
        logit_adjustment="post-hoc",
        random_state=0,
        n_members=1,
    ).fit(X, y)
    kept = int(np.argmin(clf.net_.history[:, "valid_criterion"]))
    assert kept < clf.switch_epoch_  # the case of the issue
    # predictions reproduce the recorded validation score (0.2: 0.333 vs 0.383)
    assert clf.disparity_report_.balanced_accuracy == pytest.approx(
        clf.best_validation_score_
    )
    freq = clf.class_counts_ / clf.class_counts_.sum()
    np.testing.assert_allclose(clf.class_prior_, freq, rtol=1e-6)


# --------------------------------------------------------- schedules run out
def test_partial_fit_past_a_cosine_budget_warns(noisy):
    X, y = noisy
    clf = SCoRClassifier(learning_rate="cosine", max_iter=3, **SMALL)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.warns(ConvergenceWarning, match="learning rate of 0"):
        clf.partial_fit(X, y)


def test_partial_fit_records_the_drw_switch(noisy):
    X, y = noisy
    clf = SAMClassifier(reweighting="drw", max_iter=5, **SMALL)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.switch_epoch_ is None
    for _ in range(3):
        clf.partial_fit(X, y)
    drw = clf.net_.history[:, "drw"]
    assert clf.switch_epoch_ == drw.index(True) == 4  # 0.8 * max_iter


# ------------------------------------------------------ one validation entry
def test_rules_are_checked_on_every_call_before_the_data(noisy):
    X, y = noisy
    clf = SAMClassifier(reweighting="drw", max_iter=3, **SMALL)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.set_params(class_weight=None)
    # a rule between parameters, raised before the (invalid) data is read
    with pytest.raises(ValueError, match="nothing to defer"):
        clf.partial_fit("not an array", y)
    with pytest.raises(ValueError, match="nothing to defer"):
        clf.fit(X, y)
    focal = FocalClassifier(alpha=0.25)
    with pytest.raises(ValueError, match="same concept"):
        focal.fit("not an array", y)


# ---------------------------------------------------------- divergence
def test_an_exploding_loss_is_divergence(noisy):
    X, y = noisy
    clf = SCoRClassifier(learning_rate_init=1e3, max_iter=30, random_state=0)
    with pytest.raises(DivergenceError, match="exploded"):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")


def test_a_network_too_large_is_refused_before_allocating(noisy):
    X, y = noisy
    clf = SCoRClassifier(hidden_layer_sizes=(10**7,), max_iter=1)
    with pytest.raises(MemoryError, match="hidden_layer_sizes"):
        clf.fit(X, y)


# ------------------------------------------------------------- threads
def test_overlapping_thread_scopes_restore_torchs_setting(monkeypatch):
    # Two fits in two Python threads with different thread counts, the second
    # entering while the first holds torch at one thread and leaving last:
    # 0.2 saved the first's temporary setting there and restored it last.
    # torch's count is process-wide until OpenMP starts, per thread after; a
    # process-wide stand-in makes the interleaving deterministic.
    import types

    import skscor.utils._torch as scope

    count = {"n": 2}
    fake = types.SimpleNamespace(
        get_num_threads=lambda: count["n"],
        set_num_threads=lambda n: count.update(n=n),
    )
    monkeypatch.setattr(scope, "torch", fake)
    first_in, second_in, first_out = (threading.Event() for _ in range(3))

    def first():
        with scope.torch_threads(1):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with scope.torch_threads(3):
            second_in.set()
            first_out.wait(10)

    workers = [threading.Thread(target=f) for f in (first, second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=20)
    assert count["n"] == 2


def test_concurrent_fits_restore_the_thread_count(noisy):
    X, y = noisy
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        errors = []

        def fit():
            try:
                SCoRClassifier(max_iter=5, **SMALL).fit(X, y)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=fit) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


class WideNet(torch.nn.Module):
    """A custom module 1024 units wide (hidden_layer_sizes stays (100,))."""

    threads_seen: list = []

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, 1024), torch.nn.ReLU()
        )
        self.head = torch.nn.Linear(1024, n_classes)

    def forward(self, x):
        WideNet.threads_seen.append(torch.get_num_threads())
        return self.head(self.body(x))


def test_auto_threads_size_a_custom_module_by_its_layers(noisy):
    X, y = noisy
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        WideNet.threads_seen.clear()
        SCoRClassifier(module=WideNet, max_iter=1, random_state=0).fit(X, y)
        assert set(WideNet.threads_seen[1:]) == {2}  # torch's setting, not one
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------- smaller fixes
def test_warmup_ramp_is_the_references_and_a_plateau_does_not_cut_it(noisy):
    X, y = noisy
    clf = SCoRClassifier(
        learning_rate="step",
        warmup_epochs=5,
        max_iter=40,
        tol=10.0,  # every epoch is a plateau
        **{**SMALL, "learning_rate_init": 1e-2},
    ).fit(X, y)
    lr = clf.net_.history[:, "lr"]
    np.testing.assert_allclose(lr[:5], 1e-2 * np.arange(1, 6) / 5)
    assert clf.switch_epoch_ >= 5


def test_sample_and_class_weights_combine_to_mean_one(noisy):
    X, y = noisy
    sw = np.random.default_rng(0).uniform(0.5, 3.0, size=len(y))
    clf = SCoRClassifier(max_iter=1, **SMALL).fit(X, y, sample_weight=sw)
    combined = sw / sw.mean() * clf.class_weight_[y]
    assert combined.mean() == pytest.approx(1.0)  # 0.2: 1.31


# ---------------------------------------------------------------- reports
def test_reports_cost_nothing_until_asked(noisy, monkeypatch):
    X, y = noisy
    calls = []
    real = skscor._reports.spectral_report
    monkeypatch.setattr(
        skscor._reports, "spectral_report", lambda m: calls.append(1) or real(m)
    )
    clf = SCoRClassifier(max_iter=2, **SMALL).fit(X, y)
    assert calls == []
    first = clf.spectral_report_
    assert clf.spectral_report_ is first and calls == [1]
    clf.partial_fit(X, y)
    assert clf.spectral_report_ is not first  # a new fit, a new report


def test_disparity_report_says_which_rows(noisy):
    X, y = noisy
    clf = SCoRClassifier(max_iter=2, **SMALL).fit(X, y)
    assert "training rows" in clf.disparity_report_.on
    assert "training rows" in repr(clf.disparity_report_)
    es = SCoRClassifier(max_iter=2, **{**SMALL, "early_stopping": True}).fit(X, y)
    assert "validation split" in es.disparity_report_.on


def test_reports_survive_load_weights(noisy):
    X, y = noisy
    clf = SCoRClassifier(
        max_iter=3, logit_adjustment="post-hoc", class_weight=None, **SMALL
    ).fit(X, y)
    buf = io.BytesIO()
    clf.save_weights(buf)
    buf.seek(0)
    new = SCoRClassifier(
        logit_adjustment="post-hoc", class_weight=None, **SMALL
    ).load_weights(buf)
    assert new.disparity_report_ is not None  # 0.2: None
    np.testing.assert_array_equal(
        new.disparity_report_.recall, clf.disparity_report_.recall
    )
    np.testing.assert_array_equal(new.predict_proba(X), clf.predict_proba(X))


def test_unfitted_reports_raise_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _ = SCoRClassifier().spectral_report_
    assert not hasattr(SCoRClassifier(), "disparity_report_")


def test_no_collapse_warning_from_the_warm_start_tests(noisy):
    # The warnings above are filtered as noise of tiny nets; a fit that trains
    # enough issues none, so the filter hides no regression.
    X, y = noisy
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        SCoRClassifier(
            hidden_layer_sizes=(32,),
            learning_rate_init=1e-2,
            max_iter=30,
            random_state=0,
        ).fit(X, y)


# ------------------------------------------------- early_stopping='refit'
@pytest.mark.parametrize("max_iter", [200, 6], ids=["stops-early", "to-max_iter"])
def test_refit_trains_every_row_for_the_selected_epoch_count(noisy, max_iter):
    X, y = noisy
    kw = {
        "hidden_layer_sizes": (16,),
        "learning_rate_init": 1e-2,
        "random_state": 0,
        "n_members": 1,
    }
    es = SCoRClassifier(max_iter=max_iter, **{**kw, "early_stopping": True}).fit(X, y)
    best = int(np.argmin(es.net_.history[:, "valid_criterion"])) + 1
    refit = SCoRClassifier(max_iter=max_iter, **{**kw, "early_stopping": "refit"})
    if max_iter == 200:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # budget chosen
            refit.fit(X, y)
    else:  # the selection itself ran out of epochs: that is worth a warning
        with pytest.warns(ConvergenceWarning, match="maximum iterations"):
            refit.fit(X, y)
    assert refit.n_iter_ == best <= max_iter
    if max_iter == 200:
        assert best < es.n_iter_ < 200  # the selection run stopped early
    assert refit.stop_reason_ == "refit"
    assert refit.validation_scores_ == es.validation_scores_
    assert refit.best_validation_score_ == es.best_validation_score_
    # every row trained: the disparity report is on all training rows
    assert "training rows" in refit.disparity_report_.on
    assert refit.disparity_report_.support.sum() == len(y)
    assert not np.allclose(refit.predict_proba(X), es.predict_proba(X))
