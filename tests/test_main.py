"""The command line main job: ``python -m skscor demo``."""

import io
import subprocess
import sys

import pytest

from skscor.__main__ import METHODS, main, run_demo


def test_run_demo_table_all_methods(capsys):
    out = io.StringIO()
    results = run_demo(seeds=1, epochs=2, out=out)
    text = out.getvalue()
    assert set(results) == set(METHODS)
    for header in (
        "balanced acc",
        "worst-class rec",
        "reduced-class rec",
        "last sigma_min",
        "fit s",
    ):
        assert header in text
    for label in ("CE", "CE+LS", "Focal", "SCoR", "SCoR+LS", "SAM", "MR2"):
        assert f"\n{label} " in text
    for r in results.values():
        assert 0 <= r["bal_acc"].mean() <= 1
        assert r["worst"].mean() <= r["bal_acc"].mean()


def test_main_with_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "demo.png"
    assert (
        main(
            [
                "demo",
                "--seeds",
                "1",
                "--epochs",
                "1",
                "--methods",
                "ce,scor",
                "--plot",
                str(path),
            ]
        )
        == 0
    )
    assert path.stat().st_size > 1000
    assert "figure written" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--seeds", "0"], "positive integer"),
        (["demo", "--epochs", "x"], "positive integer"),
        (["demo", "--factor", "0.5"], ">= 1"),
        (["demo", "--methods", "ce,nope"], "unknown method"),
        (["demo", "--reduced-class", "12"], "invalid choice"),
        (["train"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_options_exit_2_with_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_help_explains_options():
    res = subprocess.run(
        [sys.executable, "-m", "skscor", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--seeds", "--epochs", "--factor", "--methods", "--plot"):
        assert option in res.stdout
