import numpy as np
import pytest
import torch


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
