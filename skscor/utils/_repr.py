"""Plain-text rendering shared by the reports' ``__repr__`` methods."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows of strings as a table: first column left, the others right.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequence of str
        Cells, already formatted; each row as long as ``header``.

    Returns
    -------
    table : str
        One line per row after the header, columns separated by two spaces,
        without trailing blanks.

    Examples
    --------
    >>> from skscor.utils._repr import format_table
    >>> print(format_table(("name", "value"), [("a", "1"), ("long", "22")]))
    name  value
    a         1
    long     22
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return "\n".join(line(r) for r in [header, *rows])


def format_repr(obj: object, *attrs: str, **fields: object) -> str:
    """``ClassName(a=..., b=...)`` with floats to 4 significant digits.

    The reports hold many floats whose full ``repr`` would drown the numbers
    that matter; everything else is shown by its ``repr``.

    Parameters
    ----------
    obj : object
        The object whose class name heads the text.
    *attrs : str
        Attributes of ``obj`` to show, in order.
    **fields
        Further names and values, shown after ``attrs``.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from skscor.utils._repr import format_repr
    >>> format_repr(1.5, "real", rank=2, sigma=0.123456)
    'float(real=1.5, rank=2, sigma=0.1235)'
    """
    fields = {attr: getattr(obj, attr) for attr in attrs} | fields
    parts = [
        f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value!r}"
        for key, value in fields.items()
    ]
    return f"{type(obj).__name__}({', '.join(parts)})"
