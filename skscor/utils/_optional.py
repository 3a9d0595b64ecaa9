"""Import optional dependencies with an error message that says how to get them."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(
    name: str, *, extra: str | None = None, purpose: str | None = None
) -> ModuleType:
    """Import an optional dependency or raise an ImportError naming the fix.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"matplotlib.pyplot"``.
    extra : str, default=None
        The skscor extra that installs it (``pip install skscor[extra]``);
        ``None`` suggests installing the top-level package itself.
    purpose : str, default=None
        What needs the module, for the message (e.g. ``"SpectrumDisplay"``).

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    ImportError
        If the module cannot be imported; the message names the package and
        the ``pip install`` command.

    Examples
    --------
    >>> from skscor.utils._optional import import_optional
    >>> import_optional("math").sqrt(4.0)
    2.0
    >>> import_optional("nomod", extra="plot", purpose="plots")
    Traceback (most recent call last):
    ...
    ImportError: plots requires nomod; install it with `pip install skscor[plot]`.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        how = f"pip install skscor[{extra}]" if extra else f"pip install {top}"
        what = purpose or "this feature of skscor"
        raise ImportError(f"{what} requires {top}; install it with `{how}`.") from exc
