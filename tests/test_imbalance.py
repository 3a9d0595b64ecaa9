"""Imbalance handling: training phases, stopping, logit adjustment, LDAM, warnings."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import TunedThresholdClassifierCV

from skscor import (
    CollapseWarning,
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)
from skscor._schedules import TrainingPlan

# Most fits here run short fixed budgets on purpose; the tests that are about
# the ConvergenceWarning assert it with pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# One network without a held-out split: the behaviour under test is the loss's.
NET = {
    "hidden_layer_sizes": (16,),
    "random_state": 0,
    "learning_rate_init": 1e-2,
    "n_members": 1,
    "early_stopping": False,
}
# tol=1e-3: the tolerance rule fires after ~65 epochs on ``easy`` (a fit that
# converges early, long before 0.8 * max_iter).
EARLY = {**NET, "tol": 1e-3}


@pytest.fixture(scope="module")
def easy():
    """Separable 3-class data on which the tolerance rule converges early."""
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        class_sep=2.0,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=600,
        n_features=8,
        n_informative=4,
        weights=[0.93, 0.07],
        class_sep=0.8,
        flip_y=0.0,
        random_state=1,
    )
    return X.astype(np.float32), y


# -------------------------------------------------------------- the plan
def test_plan_without_phases_stops_on_plateau():
    plan = TrainingPlan(max_iter=100, lr=1e-3)
    assert not plan.has_phases
    assert plan.after_epoch(5, plateau=False) == "continue"
    assert plan.after_epoch(6, plateau=True) == "stop"


def test_plan_switches_on_plateau_then_runs_the_final_share():
    plan = TrainingPlan(max_iter=100, lr=1.0, learning_rate="step", drw=True)
    assert plan.values(0) == {"lr": 1.0, "drw": False}
    # an early plateau starts the final phase instead of stopping
    assert plan.after_epoch(9, plateau=True) == "switch"
    assert plan.switch_epoch == 10
    assert plan.values(10) == {"lr": pytest.approx(0.1), "drw": True}
    # the final phase gets its share (20 epochs): the rule may not stop before
    for e in range(10, 29):
        assert plan.after_epoch(e, plateau=True) == "continue"
    # halfway through the share the second decay applies
    assert plan.values(20)["lr"] == pytest.approx(0.01)
    assert plan.after_epoch(29, plateau=True) == "stop"


def test_plan_switches_at_the_budget_when_no_plateau():
    plan = TrainingPlan(max_iter=10, lr=1.0, drw=True, switch=0.5)
    decisions = [plan.after_epoch(e, plateau=False) for e in range(5)]
    assert decisions == ["continue"] * 4 + ["switch"]
    assert plan.values(5)["drw"]


def test_plan_rho_step_reaches_every_level_after_an_early_switch():
    plan = TrainingPlan(max_iter=200, lr=1.0, rho=0.05, rho_kind="step")
    assert plan.values(0)["rho"] == pytest.approx(0.05)
    assert plan.values(6)["rho"] == pytest.approx(0.1)
    plan.after_epoch(19, plateau=True)  # converged at epoch 20 of 200
    rhos = [plan.values(e)["rho"] for e in range(20, 60)]
    assert rhos[0] == pytest.approx(0.5) and rhos[-1] == pytest.approx(0.6)


def test_plan_warmup_and_cosine():
    plan = TrainingPlan(max_iter=10, lr=1.0, learning_rate="cosine", warmup_epochs=4)
    lrs = [plan.values(e)["lr"] for e in range(10)]
    assert lrs[0] < lrs[1] < lrs[2] < lrs[3]  # warm-up
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:], strict=False))  # cosine
    assert not plan.may_stop(2)


def test_plan_in_partial_fit_follows_the_epoch_count():
    plan = TrainingPlan(max_iter=10, lr=1.0, drw=True, convergence=False)
    assert not plan.values(7)["drw"] and plan.values(8)["drw"]
    assert plan.after_epoch(3, plateau=True) == "continue"


# ------------------------------------------------- phases in real fits
def test_drw_runs_on_a_fit_that_converges_early(easy):
    X, y = easy
    clf = SAMClassifier(reweighting="drw", max_iter=400, **EARLY).fit(X, y)
    drw = clf.net_.history[:, "drw"]
    # DRW switched on long before 0.8 * max_iter, and ran for its share
    assert clf.switch_epoch_ is not None and clf.switch_epoch_ < 0.8 * 400
    assert drw[clf.switch_epoch_] and not any(drw[: clf.switch_epoch_])
    assert sum(drw) >= 0.2 * 400
    assert clf.stop_reason_ == "converged" and clf.n_iter_ < 400
    plain = SAMClassifier(
        reweighting=None, class_weight=None, max_iter=400, **EARLY
    ).fit(X, y)
    assert plain.n_iter_ < 0.8 * 400 and plain.switch_epoch_ is None
    assert not np.array_equal(clf.predict_proba(X), plain.predict_proba(X))


def test_drw_runs_on_a_fit_that_reaches_max_iter(easy):
    X, y = easy
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        clf = SAMClassifier(reweighting="drw", max_iter=20, tol=0.0, **NET).fit(X, y)
    assert clf.n_iter_ == 20 and clf.switch_epoch_ == 16
    assert clf.net_.history[:, "drw"] == [False] * 16 + [True] * 4


def test_stopping_rule_never_compares_across_weightings(easy):
    X, y = easy
    clf = SAMClassifier(reweighting="drw", max_iter=300, **EARLY).fit(X, y)
    curve, s = clf.loss_curve_, clf.switch_epoch_
    # the weighted loss jumps at the switch, yet the final phase runs its share
    assert curve[s] > min(curve[:s])
    assert clf.n_iter_ - s >= 0.2 * 300


# A 5-epoch fit may miss a class; the phase warning is the point here.
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
def test_phase_that_cannot_run_warns(easy):
    X, y = easy
    with pytest.warns(ConvergenceWarning, match="final training phase"):
        SAMClassifier(reweighting="drw", drw_start=1.0, max_iter=5, **NET).fit(X, y)


@pytest.mark.parametrize("schedule", ["step", "linear"])
def test_rho_schedule_recorded_per_epoch_and_reaches_its_end(easy, schedule):
    X, y = easy
    clf = SAMClassifier(rho_schedule=schedule, max_iter=200, **EARLY).fit(X, y)
    rho = clf.net_.history[:, "rho"]
    top = 0.6 if schedule == "step" else 0.8
    assert max(rho) == pytest.approx(top)
    assert clf.n_iter_ < 200  # converged early, yet the schedule completed


@pytest.mark.parametrize("schedule", ["step", "cosine", "adaptive"])
def test_learning_rate_schedules_take_effect(easy, schedule):
    X, y = easy
    # adaptive cuts at plateaus: a tolerance the loss reaches within the budget
    tol = {"tol": 1e-2} if schedule == "adaptive" else {}
    clf = SCoRClassifier(
        learning_rate=schedule, warmup_epochs=3, max_iter=150, **{**EARLY, **tol}
    )
    clf.fit(X, y)
    lr = clf.net_.history[:, "lr"]
    if schedule != "adaptive":
        # The reference's linear warm-up: lr * (e + 1) / W, full at epoch W.
        assert lr[0] == pytest.approx(1e-2 / 3, rel=1e-2)
        assert lr[0] < lr[1] < lr[2] == pytest.approx(1e-2, rel=1e-2)
    assert min(lr) < 1e-2 / 4
    # the optimizer really used the recorded rates
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(lr[-1])


# -------------------------------------------------------- early stopping
def test_early_stopping_restores_the_best_epoch(imbalanced):
    X, y = imbalanced
    clf = SCoRClassifier(
        max_iter=60, n_iter_no_change=5, **{**NET, "early_stopping": True}
    ).fit(X, y)
    scores = clf.validation_scores_
    losses = clf.net_.history[:, "valid_criterion"]
    best = int(np.argmin(losses))  # the class-balanced validation loss
    assert best < len(scores) - 1  # it stopped after worse epochs
    assert clf.best_validation_score_ == scores[best]
    # the disparity report scores the restored weights on the validation rows
    assert clf.disparity_report_.balanced_accuracy == pytest.approx(scores[best])


# The unadjusted, unweighted comparison fit may collapse; that is not under test.
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
def test_early_stopping_validates_the_post_hoc_decisions(imbalanced):
    # The validation balanced accuracy is that of the adjusted decision rule:
    # the disparity report (predict's rule, restored weights, validation rows)
    # agrees with the restored epoch's recorded score.
    X, y = imbalanced
    clf = SCoRClassifier(
        class_weight=None,
        logit_adjustment="post-hoc",
        max_iter=40,
        **{**NET, "early_stopping": True},
    ).fit(X, y)
    assert clf.disparity_report_.balanced_accuracy == pytest.approx(
        clf.best_validation_score_
    )
    plain = SCoRClassifier(
        class_weight=None, max_iter=40, **{**NET, "early_stopping": True}
    ).fit(X, y)
    assert clf.validation_scores_ != plain.validation_scores_


def test_early_stopping_is_not_fooled_by_a_flat_start(imbalanced):
    # Balanced accuracy flat at chance while the validation loss falls must not
    # stop training after n_iter_no_change epochs.
    X, y = imbalanced
    clf = SCoRClassifier(
        early_stopping=True,
        class_weight=None,
        learning_rate_init=1e-4,
        max_iter=40,
        n_iter_no_change=3,
        hidden_layer_sizes=(16,),
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ > 3 + 1 + 5


def test_validation_split_without_a_class_warns():
    X, y = make_classification(n_samples=200, weights=[0.99], random_state=0)
    # a class with a single row is never held out (its member could not learn it)
    y[:1] = 1
    y[1:] = 0
    with pytest.warns(UserWarning, match="holds out no sample of 1 of the 2 classes"):
        SCoRClassifier(max_iter=3, **{**NET, "early_stopping": True}).fit(X, y)


# ----------------------------------------------------- logit adjustment
@pytest.mark.parametrize("form", ["loss", "post-hoc"])
def test_tau_zero_is_exactly_no_adjustment(imbalanced, form):
    X, y = imbalanced
    base = SCoRClassifier(class_weight=None, max_iter=20, **NET).fit(X, y)
    adj = SCoRClassifier(
        class_weight=None, logit_adjustment=form, tau=0.0, max_iter=20, **NET
    ).fit(X, y)
    np.testing.assert_array_equal(adj.predict_proba(X), base.predict_proba(X))


def test_post_hoc_adjustment_subtracts_tau_log_prior(imbalanced):
    X, y = imbalanced
    base = SCoRClassifier(class_weight=None, max_iter=20, **NET).fit(X, y)
    adj = SCoRClassifier(
        class_weight=None, logit_adjustment="post-hoc", tau=0.7, max_iter=20, **NET
    ).fit(X, y)
    prior = np.bincount(y) / len(y)
    z = base.predict_log_proba(X) - 0.7 * np.log(prior)
    expected = np.exp(z - np.log(np.exp(z).sum(1, keepdims=True)))
    np.testing.assert_allclose(adj.predict_proba(X), expected, rtol=1e-10)
    # predict is the argmax of predict_proba; the decision moves to the minority
    np.testing.assert_array_equal(
        adj.predict(X), adj.classes_[adj.predict_proba(X).argmax(1)]
    )
    assert (adj.predict(X) == 1).sum() > (base.predict(X) == 1).sum()


def test_loss_form_trains_balanced_softmax(imbalanced):
    X, y = imbalanced
    clf = SCoRClassifier(
        class_weight=None, logit_adjustment="loss", max_iter=5, **NET
    ).fit(X, y)
    prior = np.bincount(y) / len(y)
    np.testing.assert_allclose(
        clf.net_.criterion_.logit_offset.numpy(), np.log(prior), rtol=1e-6
    )


def test_adjustment_uses_the_prior_the_loss_was_trained_under(imbalanced):
    # With balanced class weights the trained prior is uniform: nothing to undo.
    X, y = imbalanced
    a = SCoRClassifier(max_iter=10, **NET).fit(X, y)
    b = SCoRClassifier(logit_adjustment="post-hoc", max_iter=10, **NET).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)


def test_adjusted_estimators_work_with_threshold_tuning_and_calibration(imbalanced):
    X, y = imbalanced
    clf = SCoRClassifier(
        class_weight=None, logit_adjustment="post-hoc", max_iter=10, **NET
    )
    tuned = TunedThresholdClassifierCV(clf, cv=3, scoring="balanced_accuracy")
    assert tuned.fit(X, y).predict(X).shape == y.shape
    cal = CalibratedClassifierCV(clf, cv=3).fit(X, y)
    proba = cal.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)


# ------------------------------------------------------------- LDAM/DRW
def test_ldam_probabilities_include_the_scale():
    X, y = make_classification(
        n_samples=400, n_features=6, weights=[0.7, 0.3], class_sep=2.0, random_state=0
    )
    clf = SAMClassifier(
        loss="ldam", reweighting=None, class_weight=None, max_iter=60, **NET
    ).fit(X, y)
    proba = clf.predict_proba(X)
    prior = np.bincount(y) / len(y)
    assert log_loss(y, proba) < log_loss(y, np.tile(prior, (len(y), 1)))
    assert proba.max() > 0.9


def test_drw_weights_follow_the_effective_number(easy):
    X, y = easy
    clf = SAMClassifier(reweighting="drw", max_iter=30, tol=0.0, **NET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    counts = np.bincount(y).astype(float)
    w = (1 - 0.9999) / (1 - 0.9999**counts)
    w = w * counts.sum() / (w * counts).sum()
    np.testing.assert_allclose(clf.net_.criterion_.class_weight.numpy(), w, rtol=1e-5)


# ------------------------------------------------------------- collapse
def test_collapsed_fit_warns():
    # Unweighted loss, 3% minority, classes barely separated: the network
    # learns the majority (training balanced accuracy below chance).
    X, y = make_classification(
        n_samples=400, weights=[0.97], class_sep=0.3, flip_y=0, random_state=0
    )
    clf = SCoRClassifier(class_weight=None, max_iter=20, **NET)
    with pytest.warns(CollapseWarning, match="collapsed") as record:
        clf.fit(X, y)
    # The advice names what this estimator does not already do.
    message = next(str(w.message) for w in record if w.category is CollapseWarning)
    assert "class_weight='balanced'" in message
    assert "logit_adjustment='loss'" in message
    balanced = SCoRClassifier(max_iter=20, **NET)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        balanced.fit(X, y)


def test_collapse_is_judged_on_the_ensembles_out_of_fold_decisions():
    """With early stopping the check reads the out-of-fold decisions of every
    held-out row, not each member's split: two or three rows of a rare class
    missed by one member are no collapse, a majority-only ensemble is."""
    X, y = make_classification(
        n_samples=3000,
        n_features=6,
        weights=[0.996],
        class_sep=0.6,
        flip_y=0,
        random_state=1,
    )
    assert np.bincount(y)[1] == 12  # 2-3 rows in each member's split
    with warnings.catch_warnings():
        # Checked on each member's split, one member reached a balanced
        # accuracy of 0.474 here; out of fold the minority's recall is 0.5.
        warnings.simplefilter("error", CollapseWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FocalClassifier(
            hidden_layer_sizes=(16,), numeric_embedding=None, random_state=0
        ).fit(X, y)
    assert clf.disparity_report_.worst_class_recall >= 0.25
    X, y = make_classification(
        n_samples=400, weights=[0.97], class_sep=0.3, flip_y=0, random_state=0
    )
    with pytest.warns(CollapseWarning, match="out-of-fold predictions of the 400"):
        SCoRClassifier(class_weight=None, numeric_embedding=None, random_state=0).fit(
            X, y
        )


# Five epochs: a collapse is possible and not under test (the weights are).
@pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")
@pytest.mark.parametrize(
    "cls", [SCoRClassifier, FocalClassifier, SAMClassifier, MR2Classifier]
)
def test_defaults_weigh_the_classes(cls, imbalanced):
    X, y = imbalanced
    clf = cls(max_iter=5, **NET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    w = clf.net_.criterion_.class_weight.numpy()
    assert w[1] > 5 * w[0]  # the minority weighs more at the defaults
    assert torch.isfinite(clf.net_.criterion_.class_weight).all()
