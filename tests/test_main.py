"""The command line main job: ``python -m skscor demo``."""

import io
import subprocess
import sys

import numpy as np
import pytest

import skscor.__main__ as cli
from skscor.__main__ import METHODS, main, run_demo
from skscor._variants import VARIANTS

# The demos here train one or two epochs: collapse warnings are expected, not
# under test.
pytestmark = pytest.mark.filterwarnings("ignore::skscor.exceptions.CollapseWarning")


def test_run_demo_table_all_methods(capsys):
    out = io.StringIO()
    results = run_demo(seeds=1, epochs=2, out=out)
    text = out.getvalue()
    assert set(results) == set(METHODS)
    header = text.splitlines()[1]
    for column in ("balanced acc", "worst-class rec", "last sigma_min", "fit s"):
        assert column in header
    # the cut class's recall has a column only where it is not the worst one
    differs = any(np.any(r["reduced"] > r["worst"]) for r in results.values())
    assert ("reduced-class rec" in header) == differs
    for name in METHODS:
        assert f"\n{name} " in text  # a table row
        assert f"\n  {name} " in text  # its line in the legend
        assert VARIANTS[name].spec in text
    assert "smallest singular value of the last layer" in text
    assert "SCoR's paper claims" in text
    for r in results.values():
        assert 0 <= r["bal_acc"].mean() <= 1
        assert r["worst"].mean() <= r["bal_acc"].mean()
        assert np.all(r["worst"] <= r["reduced"])


def test_one_worst_class_column_unless_the_cut_class_is_not_the_worst():
    def result(worst, reduced):
        return {
            "bal_acc": np.array([0.9]),
            "worst": np.array(worst),
            "reduced": np.array(reduced),
            "sigma_min": np.array([1.0]),
            "seconds": np.array([1.0]),
        }

    out = io.StringIO()
    cli._print_table({"ce": result([0.5], [0.5])}, 3, out)
    text = out.getvalue()
    assert "reduced-class rec" not in text  # the same numbers: one column
    assert "in every fit here that of the cut digit 3" in text
    out = io.StringIO()
    cli._print_table({"ce": result([0.5], [0.7]), "scor": result([0.6], [0.6])}, 3, out)
    text = out.getvalue()
    header, _, ce, scor = text.splitlines()[:4]
    assert header.split()[-6:] == [
        "reduced-class",
        "rec",
        "last",
        "sigma_min",
        "fit",
        "s",
    ]
    assert "0.700" in ce and "0.500" in ce
    assert "recall of the cut digit 3; the worst class in 1 of 2 fits" in text


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


def test_methods_accept_every_registry_name(capsys):
    assert main(["demo", "--seeds", "1", "--epochs", "1", "--methods", "sam+vs"]) == 0
    assert "\nsam+vs " in capsys.readouterr().out


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the demo builds an estimator."""

    def refuse(*args, **kwargs):
        raise AssertionError("the demo started training")

    monkeypatch.setattr(cli, "_make", refuse)


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing/demo.png", "does not exist"),
        ("", "is a folder"),
        ("demo.nope", "matplotlib cannot write .nope files"),
    ],
)
def test_bad_plot_path_exits_before_training(
    where, message, tmp_path, no_training, capsys
):
    pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--plot", str(tmp_path / where)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--plot" in err and message in err
    with pytest.raises(ValueError, match=message):
        run_demo(plot=str(tmp_path / where))


def test_plot_without_matplotlib_exits_before_training(
    tmp_path, monkeypatch, no_training, capsys
):
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--plot", str(tmp_path / "demo.png")])
    assert exc.value.code == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err


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


def test_run_demo_refuses_unknown_methods():
    with pytest.raises(ValueError, match="unknown method"):
        run_demo(methods=["ce", "nope"])


def test_help_explains_options():
    res = subprocess.run(
        [sys.executable, "-m", "skscor", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--seeds", "--epochs", "--factor", "--methods", "--plot"):
        assert option in res.stdout
    assert "sigma_min" in res.stdout
