"""Label smoothing as an estimator parameter: it reaches the loss, it changes
the network trained, and the papers' settings keep it off."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier

FAST = {"hidden_layer_sizes": (16,), "n_members": 2, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, weights=[0.85], random_state=2
    )
    return X, y


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize(
    "cls", [SCoRClassifier, FocalClassifier, SAMClassifier, MR2Classifier]
)
@pytest.mark.parametrize(
    "stopping",
    [
        {},  # early-stopped members: the fit converges before max_iter
        {"early_stopping": False, "max_iter": 6, "n_members": 1},  # runs to max_iter
    ],
)
def test_label_smoothing_reaches_the_loss_and_changes_the_fit(cls, stopping, data):
    X, y = data
    params = {**FAST, **stopping}
    plain = _fit(cls(**params, label_smoothing=0.0), X, y)
    smooth = _fit(cls(**params, label_smoothing=0.2), X, y)
    assert smooth.net_.criterion_.inner.label_smoothing == 0.2
    assert plain.net_.criterion_.inner.label_smoothing == 0.0
    assert not np.allclose(plain.predict_proba(X), smooth.predict_proba(X))


@pytest.mark.parametrize("loss", ["ce", "focal", "ldam", "vs", "scor"])
def test_sam_smooths_every_loss(loss, data):
    X, y = data
    est = _fit(
        SAMClassifier(
            **FAST, loss=loss, label_smoothing=0.3, early_stopping=False, max_iter=2
        ),
        X,
        y,
    )
    assert est.net_.criterion_.inner.label_smoothing == 0.3


def test_sam_refuses_label_smoothing_in_loss_params(data):
    X, y = data
    est = SAMClassifier(loss="scor", loss_params={"label_smoothing": 0.1})
    with pytest.raises(ValueError, match="label_smoothing is a parameter of"):
        est.fit(X, y)


@pytest.mark.parametrize(
    "cls", [SCoRClassifier, FocalClassifier, SAMClassifier, MR2Classifier]
)
def test_label_smoothing_out_of_range_is_refused(cls, data):
    X, y = data
    with pytest.raises(ValueError, match="label_smoothing"):
        cls(label_smoothing=1.0).fit(X, y)


def test_defaults_smooth_focal_sam_and_mr2_but_not_scor():
    # chosen by measurement (benchmarks/README.md, "Stop 34")
    assert SCoRClassifier().label_smoothing == 0.0
    for cls in (FocalClassifier, SAMClassifier, MR2Classifier):
        assert cls().label_smoothing == 0.1


def test_papers_and_0_2_settings_do_not_smooth():
    from skscor._variants import VARIANTS

    for name, variant in VARIANTS.items():
        if name == "ce+ls":  # the baseline that is smoothing
            assert variant.build().label_smoothing == 0.1
        elif variant.kind in ("paper", "baseline") or name.endswith("+single"):
            assert variant.build().label_smoothing == 0.0, name


@pytest.mark.parametrize("cls", [FocalClassifier, SAMClassifier, MR2Classifier])
def test_warm_start_and_partial_fit_take_the_current_label_smoothing(cls, data):
    X, y = data
    est = _fit(cls(**FAST, warm_start=True, max_iter=3), X, y)
    _fit(est.set_params(label_smoothing=0.3), X, y)
    assert [m.criterion_.inner.label_smoothing for m in est.members_] == [0.3, 0.3]
    inc = cls(hidden_layer_sizes=(16,), random_state=0, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        inc.partial_fit(X, y, classes=[0, 1])
        inc.set_params(label_smoothing=0.25).partial_fit(X, y)
    assert inc.net_.criterion_.inner.label_smoothing == 0.25
