"""The version string: one source (pyproject.toml), read back from the metadata."""

from importlib.metadata import version
from pathlib import Path

import pytest

import skscor

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_version_is_the_installed_metadata():
    assert skscor.__version__ == version("skscor")
    # 0.1.0 was left in pyproject.toml through release 0.2.
    assert skscor.__version__ != "0.1.0"


def test_version_matches_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    if not PYPROJECT.is_file():
        pytest.skip("not run from a source checkout")
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert skscor.__version__ == declared["version"], (
        "the installed metadata is stale: reinstall with pip install -e ."
    )
