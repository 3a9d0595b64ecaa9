"""Every gallery example runs to completion (as sphinx-gallery would run it).

The examples run in this process, under matplotlib's Agg backend, so they obey
the suite's warning filters (FutureWarning and DeprecationWarning are errors)
and share its single torch thread. About 45 s in all on 2 CPU cores.
"""

import runpy
from pathlib import Path

import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
pytest.importorskip("pandas")

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))


def test_examples_found():
    assert len(EXAMPLES) >= 5, f"expected the gallery scripts in {EXAMPLES_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch):
    # Run from an empty directory so that nothing an example might write
    # lands in the repository.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    assert namespace, f"{path.name} defined nothing"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_a_gallery_script(path):
    # sphinx-gallery needs a docstring with a title first, then `# %%` cells.
    text = path.read_text(encoding="utf-8")
    assert text.startswith('"""\n'), f"{path.name}: must open with a docstring"
    title, underline = text.split("\n")[1:3]
    assert title.strip() and set(underline) == {"="}, f"{path.name}: no title"
    assert len(underline) >= len(title), f"{path.name}: title underline too short"
    assert "\n# %%\n" in text, f"{path.name}: no `# %%` cells"
