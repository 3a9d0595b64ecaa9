"""The import graph of skscor points one way: no module imports a layer above it.

The layers, top to bottom, are those of ``docs/developers.rst``; a module may
import its own layer or any layer below. The graph is read from the source
(``ast``), so a lazy import inside a function counts too.
"""

import ast
from pathlib import Path

import pytest

import skscor

ROOT = Path(skscor.__file__).parent

# Rank of each module or package (top-level name inside skscor): lower is higher up.
LAYERS = {
    "__main__": 0,
    "_variants": 0,
    "_classifiers": 1,
    "_base": 2,
    "_training": 3,
    "_inference": 3,
    "_persistence": 3,
    "_preprocessing": 4,
    "_lockstep": 5,
    "_net": 5,
    "_schedules": 5,
    "_hooks": 5,
    "_balance": 6,
    "_decision": 6,
    "_encoding": 6,
    "_reports": 6,
    "losses": 7,
    "optim": 7,
    "modules": 7,
    "plotting": 8,
    "datasets": 8,
    "spectral": 9,
    "hessian": 9,
    "metrics": 9,
    "utils": 10,
    "_docs": 10,
    "exceptions": 10,
}


def _top(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    """Top-level skscor names imported by the module at ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parts = list(base) + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts[0] != "skscor":
                continue
            if len(parts) > 1:
                yield parts[1], node.lineno
            else:  # from skscor import X / from . import X (at the top)
                for alias in node.names:
                    # a submodule, or a name of the package's top (upwards)
                    name = alias.name if alias.name in LAYERS else "skscor"
                    yield name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "skscor":
                    yield (parts[1] if len(parts) > 1 else "skscor"), node.lineno


def _modules():
    # The package's own __init__ re-exports the public names of every layer.
    return sorted(
        p for p in ROOT.rglob("*.py") if p.name != "__init__.py" or p.parent != ROOT
    )


def test_every_module_has_a_layer():
    for path in _modules():
        assert _top(path) in LAYERS, f"{path.relative_to(ROOT)}: add it to LAYERS"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    own = _top(path)
    upward = [
        f"line {line}: {name} (layer {LAYERS.get(name)})"
        for name, line in _imports(path)
        if name == "skscor" or LAYERS.get(name, 99) < LAYERS[own]
    ]
    assert not upward, (
        f"{path.relative_to(ROOT)} (layer {LAYERS[own]}) imports upwards: {upward}"
    )


def test_the_check_sees_an_upward_import(monkeypatch):
    # The checker itself: an import of the estimators from utils/ is caught.
    fake = ROOT / "utils" / "_fake_upward.py"
    tree_text = "from .. import SCoRClassifier\nfrom .._classifiers import X\n"
    monkeypatch.setattr(Path, "read_text", lambda self: tree_text)
    names = [name for name, _ in _imports(fake)]
    assert names == ["skscor", "_classifiers"]
    assert LAYERS["_classifiers"] < LAYERS["utils"]
