"""The documentation builds with warnings as errors.

Needs the ``docs`` extra (sphinx, numpydoc, sphinx-gallery, matplotlib,
pandas); skipped without it. The build runs in a copy of ``docs/`` and
``examples/`` inside a temporary directory, so the generated files
(``generated/``, ``auto_examples/``, ``_build/``) never touch the checkout.
The gallery is built without executing the examples (``-D plot_gallery=0``):
``test_examples.py`` runs them. About 20 s on 2 CPU cores.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("_build", "generated", "auto_examples", "sg_execution_times.rst")


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    src = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", src, ignore=shutil.ignore_patterns(*GENERATED))
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = tmp_path / "html"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going",
        "-b", "html",
        "-D", "plot_gallery=0",
        "-q",
        str(src), str(out),
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"sphinx-build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    for page in (
        "index.html",
        "install.html",
        "api.html",
        "user_guide/methods.html",
        "user_guide/scaling.html",
        "auto_examples/index.html",
        "generated/skscor.SCoRClassifier.html",
        "generated/skscor.hessian.class_hessian_spectrum.html",
    ):
        assert (out / page).is_file(), f"{page} was not built"
