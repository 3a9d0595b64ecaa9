"""Scale-out: GridSearchCV over skscor estimators on a dask.distributed cluster."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skscor import SAMClassifier, SCoRClassifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


def _search(estimator, n_jobs):
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline

    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("smote", SMOTE(random_state=0)),
            ("clf", estimator),
        ]
    )
    grid = {"clf__hidden_layer_sizes": [(8,), (16,)], "clf__learning_rate_init": [1e-2]}
    return GridSearchCV(
        pipe,
        grid,
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
        n_jobs=n_jobs,
    )


@pytest.mark.slow
def test_grid_search_on_local_dask_cluster_equals_local_run():
    X, y = make_classification(
        n_samples=240, n_features=8, weights=[0.85, 0.15], random_state=0
    )
    # one network per fit: the cluster's equivalence is the point, not the
    # ensemble (which multiplies the work by n_members)
    estimators = [
        SCoRClassifier(alpha=1e-3, max_iter=15, n_members=1, random_state=0),
        SAMClassifier(rho=0.05, max_iter=15, n_members=1, random_state=0),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The reference runs in this process; the cluster run spreads the fits.
        local = [_search(est, 1).fit(X, y) for est in estimators]
        with (
            distributed.LocalCluster(
                host="127.0.0.1",
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster),
            joblib.parallel_backend("dask"),
        ):
            remote = [_search(est, 2).fit(X, y) for est in estimators]
    for a, b in zip(local, remote, strict=True):
        np.testing.assert_array_equal(
            a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
        )
        assert a.best_params_ == b.best_params_
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
