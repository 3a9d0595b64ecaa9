"""skscor: scikit-learn compatible neural classifiers for class-imbalanced data."""

from importlib.metadata import PackageNotFoundError, version

from . import exceptions
from ._classifiers import (
    FocalClassifier,
    MR2Classifier,
    SAMClassifier,
    SCoRClassifier,
)
from .exceptions import CollapseWarning, DivergenceError

try:
    __version__ = version("skscor")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "CollapseWarning",
    "DivergenceError",
    "FocalClassifier",
    "MR2Classifier",
    "SAMClassifier",
    "SCoRClassifier",
    "__version__",
    "exceptions",
]
