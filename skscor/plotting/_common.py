"""Helpers shared by the displays: pyplot, validation constraints, names."""

from __future__ import annotations

from sklearn.utils._param_validation import HasMethods

from ..utils._optional import import_optional

# Constraints shared by the displays' from_* methods.
_AX = [HasMethods(["plot"]), None]
_NAMES = [str, "array-like", None]


def _pyplot():
    return import_optional("matplotlib.pyplot", purpose="plotting", extra="plot")


def _as_list(obj) -> list:
    return list(obj) if isinstance(obj, list | tuple) else [obj]


def _check_names(names, n: int, default: list, param: str = "names") -> list:
    if names is None:
        # disambiguate repeated defaults (two SCoRClassifier fits): "name (i)"
        return [
            f"{name} ({i})" if default.count(name) > 1 else name
            for i, name in enumerate(default)
        ]
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != n:
        raise ValueError(f"{param} has {len(names)} entries for {n} inputs")
    return names
