import math
import pickle
import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import load_iris
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from skscor.metrics import (
    DisparityReport,
    bottom_k_recall,
    bottom_k_recall_scorer,
    class_disparity,
    get_scorer,
    get_scorer_names,
    per_class_recall,
    recall_gap,
    recall_gap_scorer,
    recall_std,
    recall_std_scorer,
    worst_class_recall,
    worst_class_recall_scorer,
)

# Hand-made table. Class 2 is never predicted (recall 0); class 4 is predicted
# once but absent from y_true (recall undefined).
#   class  support  hits  recall
#   0      4        3     3/4
#   1      3        2     2/3
#   2      2        0     0
#   3      1        1     1
#   4      0        -     nan
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
Y_PRED = [0, 0, 0, 1, 1, 1, 4, 0, 0, 3]
RECALL = [3 / 4, 2 / 3, 0.0, 1.0]
MEAN = (3 / 4 + 2 / 3 + 0 + 1) / 4  # 29/48
STD = math.sqrt(
    ((3 / 4 - MEAN) ** 2 + (2 / 3 - MEAN) ** 2 + MEAN**2 + (1 - MEAN) ** 2) / 4
)
# F1 = 2TP / (2TP + FP + FN): class 0: TP 3, FP 2, FN 1 -> 6/9; class 1: TP 2,
# FP 1, FN 1 -> 4/6; class 2: 0; class 3: 1.
MACRO_F1 = (6 / 9 + 4 / 6 + 0 + 1) / 4


def test_per_class_recall_hand_table():
    with pytest.warns(UndefinedMetricWarning, match=r"\[4\]"):
        recall = per_class_recall(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(recall[:4], RECALL)
    assert np.isnan(recall[4])


def test_aggregates_hand_table_exclude_absent_class():
    with pytest.warns(UndefinedMetricWarning):
        assert worst_class_recall(Y_TRUE, Y_PRED) == 0.0
    with pytest.warns(UndefinedMetricWarning):
        # 4 present classes -> default k = ceil(0.4) = 1
        assert bottom_k_recall(Y_TRUE, Y_PRED) == 0.0
    with pytest.warns(UndefinedMetricWarning):
        assert bottom_k_recall(Y_TRUE, Y_PRED, k=2) == pytest.approx((0 + 2 / 3) / 2)
    with pytest.warns(UndefinedMetricWarning):
        assert bottom_k_recall(Y_TRUE, Y_PRED, k=10) == pytest.approx(MEAN)  # capped
    with pytest.warns(UndefinedMetricWarning):
        assert recall_std(Y_TRUE, Y_PRED) == pytest.approx(STD)
    with pytest.warns(UndefinedMetricWarning):
        assert recall_gap(Y_TRUE, Y_PRED) == 1.0


def test_class_disparity_hand_table():
    with pytest.warns(UndefinedMetricWarning, match="ill-defined"):
        report = class_disparity(Y_TRUE, Y_PRED)
    assert isinstance(report, DisparityReport)
    np.testing.assert_array_equal(report.labels, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(report.support, [4, 3, 2, 1, 0])
    np.testing.assert_allclose(report.recall[:4], RECALL)
    assert np.isnan(report.recall[4])
    np.testing.assert_array_equal(report.absent_labels, [4])
    assert report.worst_class_recall == 0.0
    assert report.worst_class_label == 2
    assert report.k == 1 and report.bottom_k_recall == 0.0
    assert report.recall_std == pytest.approx(STD)
    assert report.recall_gap == 1.0
    assert report.balanced_accuracy == pytest.approx(29 / 48)
    assert report.macro_f1 == pytest.approx(MACRO_F1)
    assert report.geometric_mean == 0.0  # a zero recall zeroes the product
    with pytest.warns(UserWarning):  # sklearn warns about the predicted-only class
        assert report.balanced_accuracy == pytest.approx(
            balanced_accuracy_score(Y_TRUE, Y_PRED)
        )


def test_sample_weight_hand_table():
    y_true, y_pred = [0, 0, 1, 1, 1], [0, 1, 1, 0, 0]
    # weighted: class 0 hits 1 of weight 1 + 3 -> 1/4; class 1 hits 2 of 2+1+1 -> 1/2
    w = [1, 3, 2, 1, 1]
    np.testing.assert_allclose(
        per_class_recall(y_true, y_pred, sample_weight=w), [1 / 4, 1 / 2]
    )
    np.testing.assert_allclose(per_class_recall(y_true, y_pred), [1 / 2, 1 / 3])
    report = class_disparity(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(report.support, [4.0, 4.0])
    assert report.worst_class_recall == 0.25
    assert report.recall_gap == 0.25
    assert report.balanced_accuracy == pytest.approx(
        balanced_accuracy_score(y_true, y_pred, sample_weight=w)
    )
    assert report.geometric_mean == pytest.approx(math.sqrt(1 / 8))
    # a class whose samples all have weight 0 is absent
    with pytest.warns(UndefinedMetricWarning, match=r"\[0\]"):
        r = per_class_recall(y_true, y_pred, sample_weight=[0, 0, 1, 1, 1])
    assert np.isnan(r[0]) and r[1] == pytest.approx(1 / 3)


def test_string_labels_and_labels_order():
    y_true = ["cat", "cat", "dog", "dog", "dog", "emu"]
    y_pred = ["cat", "dog", "dog", "dog", "cat", "emu"]
    report = class_disparity(y_true, y_pred)
    np.testing.assert_array_equal(report.labels, ["cat", "dog", "emu"])
    np.testing.assert_allclose(report.recall, [1 / 2, 2 / 3, 1])
    assert report.worst_class_label == "cat"
    assert isinstance(report.worst_class_label, str)
    assert report.geometric_mean == pytest.approx((1 / 3) ** (1 / 3))
    assert report.geometric_mean == pytest.approx(
        geometric_mean_score(y_true, y_pred, average="multiclass")
    )
    np.testing.assert_allclose(
        per_class_recall(y_true, y_pred, labels=["emu", "cat"]), [1.0, 0.5]
    )
    # a label in `labels` but nowhere in the data is reported as nan
    with pytest.warns(UndefinedMetricWarning, match="fox"):
        r = per_class_recall(y_true, y_pred, labels=["fox", "dog"])
    assert np.isnan(r[0]) and r[1] == pytest.approx(2 / 3)


def test_all_labels_absent_gives_nan():
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(worst_class_recall([0, 1], [0, 1], labels=[7]))
    with pytest.warns(UndefinedMetricWarning):
        report = class_disparity([0, 1], [0, 1], labels=[7])
    assert math.isnan(report.balanced_accuracy) and report.worst_class_label is None


def test_input_validation():
    with pytest.raises(ValueError, match="y_true and y_pred have different lengths"):
        per_class_recall([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="sample_weight has 2 entries"):
        worst_class_recall([0, 1, 1], [0, 1, 1], sample_weight=[1, 2])
    with pytest.raises(ValueError, match="y_true must hold class labels"):
        recall_gap([0.5, 1.5, 2.5], [0, 1, 1])
    with pytest.raises(ValueError, match="labels must be unique"):
        per_class_recall([0, 1], [0, 1], labels=[0, 0])
    with pytest.raises(ValueError, match="empty"):
        per_class_recall([], [])
    msg = r"'k' parameter of bottom_k_recall must be an int in the range \[1, inf\)"
    for k in (0, 1.5, True):
        with pytest.raises(ValueError, match=msg):
            bottom_k_recall([0, 1], [0, 1], k=k)


def test_report_repr_and_frame():
    with pytest.warns(UndefinedMetricWarning):
        report = class_disparity(Y_TRUE, Y_PRED)
    text = repr(report)
    assert text.startswith("DisparityReport(5 classes)")
    assert "worst_class_recall  0.0000  (label 2)" in text
    assert "absent from y_true (excluded): [4]" in text
    frame = report.to_frame()
    assert list(frame.columns) == ["label", "support", "recall", "absent"]
    assert frame["absent"].tolist() == [False, False, False, False, True]
    assert report.summary["macro_f1"] == pytest.approx(MACRO_F1)
    clone = pickle.loads(pickle.dumps(report))
    np.testing.assert_array_equal(clone.support, report.support)


@pytest.fixture(scope="module")
def iris_imbalanced():
    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:70, 100:150]  # class 1 cut to 20 samples
    return X[keep], y[keep]


def test_scorers_in_cross_validate_match_manual_loop(iris_imbalanced):
    X, y = iris_imbalanced
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = LogisticRegression(C=0.05, max_iter=500)
    scoring = {
        "worst": worst_class_recall_scorer,
        "bottom": bottom_k_recall_scorer,
        "std": recall_std_scorer,
        "gap": recall_gap_scorer,
        "bacc": "balanced_accuracy",
    }
    res = cross_validate(clf, X, y, cv=cv, scoring=scoring)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        pred = clf.fit(X[train], y[train]).predict(X[test])
        assert res["test_worst"][fold] == worst_class_recall(y[test], pred)
        assert res["test_bottom"][fold] == bottom_k_recall(y[test], pred)
        assert res["test_std"][fold] == -recall_std(y[test], pred)  # neg convention
        assert res["test_gap"][fold] == -recall_gap(y[test], pred)
    assert (res["test_worst"] <= res["test_bacc"]).all()


def test_scorers_in_grid_search(iris_imbalanced):
    X, y = iris_imbalanced
    search = GridSearchCV(
        LogisticRegression(max_iter=500),
        {"C": [0.01, 1.0]},
        scoring={
            "worst": get_scorer("worst_class_recall"),
            "gap": get_scorer("neg_recall_gap"),
            "b2": make_scorer(bottom_k_recall, k=2),
        },
        refit="worst",
        cv=3,
    ).fit(X, y)
    worst = search.cv_results_["mean_test_worst"]
    assert search.best_params_["C"] == [0.01, 1.0][int(np.argmax(worst))]
    assert (search.cv_results_["mean_test_gap"] <= 0).all()
    # tiny C underfits the cut class: its worst-class recall is lower
    assert worst[0] < worst[1]


def test_get_scorer():
    assert get_scorer_names() == [
        "bottom_k_recall",
        "neg_recall_gap",
        "neg_recall_std",
        "worst_class_recall",
    ]
    scorer = get_scorer("worst_class_recall")
    assert scorer is not worst_class_recall_scorer  # a copy, as sklearn returns
    assert get_scorer("accuracy") is not None  # falls back to sklearn's names
    with pytest.raises(ValueError):
        get_scorer("no_such_scorer")


@pytest.mark.parametrize("seed", range(6))
def test_report_aggregates_match_sklearn_and_imblearn(seed):
    # macro-F1 and the geometric mean come from the report's counts; check them
    # against the libraries' own functions on random labels, with sample
    # weights, a class absent from y_true and predictions of an extra label.
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d"])
    y_true = rng.choice(labels[:3], size=60, p=[0.7, 0.2, 0.1])
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.choice(labels, size=60))
    weights = None if seed % 2 else rng.uniform(0.1, 2.0, size=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        report = class_disparity(y_true, y_pred, labels=labels, sample_weight=weights)
    present = labels[:3]
    assert report.macro_f1 == pytest.approx(
        f1_score(
            y_true,
            y_pred,
            labels=present,
            average="macro",
            sample_weight=weights,
            zero_division=0.0,
        ),
        rel=1e-12,
    )
    assert report.geometric_mean == pytest.approx(
        geometric_mean_score(
            y_true, y_pred, labels=present, average="multiclass", sample_weight=weights
        ),
        rel=1e-12,
    )
