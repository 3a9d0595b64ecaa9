"""Display objects for the diagnostics, following scikit-learn's Display pattern.

Each display is built with a ``from_*`` classmethod, which computes what it
needs and calls :meth:`plot`; ``plot(ax=None, ...)`` draws, stores the
matplotlib artists as attributes ending in ``_`` and returns ``self``.
matplotlib is optional: ``pip install skscor[plot]``.
"""

# One display per private module; _common holds what they share.
from ._class_recall import ClassRecallDisplay
from ._hessian_density import HessianDensityDisplay
from ._spectrum import SpectrumDisplay

__all__ = ["SpectrumDisplay", "ClassRecallDisplay", "HessianDensityDisplay"]
