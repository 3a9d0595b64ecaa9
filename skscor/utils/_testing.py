"""Small, seeded data sets for tests, doctests and examples.

Imports nothing of skscor: the registry of estimator variants that uses them
lives a layer up, in :mod:`skscor._variants`. Not public API.
"""

from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------- data
def blobs(n=40, n_features=3, n_classes=2, seed=0):
    """Separable float32 blobs with every class present (classes cycle)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    centers = rng.normal(scale=3.0, size=(n_classes, n_features))
    X = centers[y] + rng.normal(size=(n, n_features))
    return X.astype(np.float32), y


def imbalanced_blobs(sizes=(120, 50, 10), n_features=5, seed=0):
    """Gaussian blobs with ``sizes`` rows per class, standardized, float32."""
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(len(sizes), n_features))
    X = np.vstack(
        [
            c + rng.normal(size=(n, n_features))
            for c, n in zip(centers, sizes, strict=True)
        ]
    )
    y = np.repeat(np.arange(len(sizes)), sizes)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def imbalanced_classification(n_samples=240, *, standardize=True):
    """``make_classification``: 6 features, 3 classes weighted 0.6 / 0.3 / 0.1."""
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    if standardize:
        X = StandardScaler().fit_transform(X)
    return X.astype(np.float32), y


def imbalanced_iris():
    """Iris (float64) with class 1 cut from 50 to 20 rows."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:70, 100:150]
    return X[keep], y[keep]
