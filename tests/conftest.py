"""Shared test settings: threads, seeds, the CUDA skip, and the small data sets.

The estimator variants and their fast settings live in
``skscor._variants`` (one registry for the tests, the demo and the
benchmarks); the data builders live in ``skscor.utils._testing``, so that a
test module can also call them with other sizes. The fixtures below are the
shared, fixed-size data sets; they import lazily, so that a broken registry
fails only the tests that use it.
"""

import numpy as np
import pytest
import torch


def pytest_configure(config):
    # Tiny networks gain nothing from intra-op threads, and two torch threads on
    # two shared cores slow down sharply under contention (measured here: a tiny
    # op at 11.6 ms instead of 2.5 us). The library sets threads only inside a fit or a
    # prediction (n_threads='auto'), and restores them after.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    # Tests draw their own data from seeded generators; fixing the global state
    # as well keeps any library randomness reproducible between runs.
    np.random.seed(0)
    torch.manual_seed(0)


def pytest_collection_modifyitems(config, items):
    skip_cuda = pytest.mark.skip(reason="CUDA is not available")
    if not torch.cuda.is_available():
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip_cuda)


# ------------------------------------------------------------------- data
# Module scope, as before they were shared: a test that changed an array in
# place would leak into the other tests of its module only.
@pytest.fixture(scope="module")
def imbalanced_blobs():
    """Three standardized float32 Gaussian blobs of 120, 50 and 10 rows."""
    from skscor.utils._testing import imbalanced_blobs

    return imbalanced_blobs()


@pytest.fixture(scope="module")
def imbalanced_digits():
    """sklearn digits, class 3 cut x10 in training, balanced test set."""
    from skscor.datasets import load_imbalanced_digits

    return load_imbalanced_digits(reduced_class=3, factor=10, random_state=0)


@pytest.fixture(scope="module")
def imbalanced_classification():
    """240 standardized float32 rows, 6 features, classes 0.6 / 0.3 / 0.1."""
    from skscor.utils._testing import imbalanced_classification

    return imbalanced_classification()


@pytest.fixture(scope="module")
def imbalanced_iris():
    """Iris with class 1 cut to 20 rows."""
    from skscor.utils._testing import imbalanced_iris

    return imbalanced_iris()


@pytest.fixture(scope="module")
def noisy_binary():
    """1,500 rows, 20% minority, 10% of the labels flipped: enough held-out
    rows per member (300 minority rows, 60 held out by each of five) for
    the decision offsets and the output temperatures to take effect."""
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=1500,
        n_features=8,
        n_informative=4,
        weights=[0.8],
        flip_y=0.1,
        random_state=1,
    )
