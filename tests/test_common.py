"""scikit-learn's estimator checks over every public estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skscor import FocalClassifier, MR2Classifier, SAMClassifier, SCoRClassifier

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# settings are still enough for check_classifiers_train's accuracy threshold.
FAST = {
    "hidden_layer_sizes": (16,),
    "max_iter": 60,
    "random_state": 0,
    "learning_rate_init": 1e-2,
}

ESTIMATORS = [
    SCoRClassifier(**FAST),
    FocalClassifier(**FAST),
    SAMClassifier(**FAST),
    SAMClassifier(loss="ldam", reweighting="drw", **FAST),
    MR2Classifier(**FAST),
]

# Each entry: the check that fails by design, and why.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training: repeating a row changes the batches and the number "
        "of optimizer steps per epoch, so weights equal repetition only in "
        "expectation"
    ),
    "check_methods_subset_invariance": (
        "float32 inference: the matrix-multiply kernels block differently for "
        "different batch sizes, so a row's logits differ by about one float32 ulp "
        "(~5e-7) between a small and a large batch, above the check's atol of "
        "1e-7; predicted labels are unaffected"
    ),
}


def _expected_failed_checks(estimator):
    failed = dict(EXPECTED_FAILED)
    if getattr(estimator, "reweighting", None) == "drw":
        failed["check_class_weight_classifiers"] = (
            "by design: reweighting='drw' and class_weight are two schedules of the "
            "same concept (one knob per concept), so setting both raises a "
            "ValueError that names them"
        )
    return failed


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
