"""Singular-value spectra of a network's weight matrices.

Pure torch/numpy: this module imports neither scikit-learn nor skorch. The
report holds plain numpy/python data only, so it pickles and unpickles without
torch tensors or a device.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import validate_params
from torch import nn
from torch.nn.utils import parametrize

from ._docs import fill_doc
from .utils._optional import import_optional
from .utils._repr import format_repr, format_table
from .utils._validation import StrictInterval

__all__ = ["LayerSpectrum", "SpectralReport", "spectral_report"]

_COLUMNS = (
    "name",
    "shape",
    "rank",
    "sigma_max",
    "sigma_min",
    "condition_number",
    "stable_rank",
    "effective_rank",
)


@dataclass(eq=False)
class LayerSpectrum:
    """Singular-value statistics of one weight matrix.

    Attributes
    ----------
    name : str
        Parameter name as in ``module.named_parameters()`` (for a parametrized
        weight, such as weight normalization, the name of the effective weight).
    shape : tuple of int
        Shape of the parameter as stored in the module.
    matrix_shape : tuple of int
        ``(m, n)``, the shape after reshaping to ``(shape[0], prod(shape[1:]))``.
    dtype : str
        Dtype of the parameter, which sets the default rank tolerance.
    singular_values : ndarray of shape (min(m, n),)
        Singular values in descending order, float64.
    tol : float
        Threshold used for ``rank``.
    rank : int
        Number of singular values strictly greater than ``tol``; -1 when the
        matrix holds NaN or inf.
    sigma_max, sigma_min : float
        Largest and smallest of the ``min(m, n)`` singular values.
    condition_number : float
        ``sigma_max / sigma_min``; ``inf`` when ``sigma_min == 0``.
    stable_rank : float
        ``||W||_F^2 / sigma_max^2``; 0 for a zero matrix.
    effective_rank : float
        ``exp(H(p))`` with ``p = s / sum(s)``; 0 for a zero matrix.
    """

    name: str
    shape: tuple[int, ...]
    matrix_shape: tuple[int, int]
    dtype: str
    singular_values: np.ndarray = field(repr=False)
    tol: float
    rank: int
    sigma_max: float
    sigma_min: float
    condition_number: float
    stable_rank: float
    effective_rank: float

    def as_dict(self) -> dict:
        """Scalar statistics as a dict (no singular values)."""
        return {col: getattr(self, col) for col in _COLUMNS}

    def __repr__(self) -> str:
        return format_repr(
            self, "name", "shape", "rank", "sigma_max", "sigma_min", "condition_number"
        )


@dataclass(eq=False)
class SpectralReport:
    """Spectra of all weight matrices of a module, in registration order.

    Index it by position or parameter name (``report["0.weight"]``), iterate
    over its :class:`LayerSpectrum` objects, or call :meth:`to_frame`.

    Attributes
    ----------
    layers : list of LayerSpectrum
        One entry per weight matrix, in ``named_parameters`` order; for a
        sequential model the last entry is the classifier head.
    """

    layers: list[LayerSpectrum]

    @property
    def names(self) -> list[str]:
        """Parameter names of the layers, in order."""
        return [layer.name for layer in self.layers]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[LayerSpectrum]:
        return iter(self.layers)

    def __getitem__(self, key: int | str) -> LayerSpectrum:
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no weight matrix named {key!r}; available: {self.names}")
        return self.layers[key]

    @property
    def summary(self) -> dict:
        """Aggregate statistics over the layers.

        Keys: ``n_layers``, ``last_layer`` (name of the last weight matrix,
        the head of a sequential model), ``last_sigma_min``, ``last_sigma_max``,
        ``last_condition_number``, ``min_sigma_min`` and ``min_sigma_min_layer``
        (smallest ``sigma_min`` over layers and where), ``max_sigma_max``,
        ``mean_condition_number`` (``inf`` if any layer is singular),
        ``mean_stable_rank``, ``mean_effective_rank``. Values are NaN (names
        None) for a report without layers.
        """
        if not self.layers:
            nan = float("nan")
            return {
                "n_layers": 0,
                "last_layer": None,
                "last_sigma_min": nan,
                "last_sigma_max": nan,
                "last_condition_number": nan,
                "min_sigma_min": nan,
                "min_sigma_min_layer": None,
                "max_sigma_max": nan,
                "mean_condition_number": nan,
                "mean_stable_rank": nan,
                "mean_effective_rank": nan,
            }
        last = self.layers[-1]
        smallest = min(self.layers, key=lambda layer: layer.sigma_min)
        return {
            "n_layers": len(self.layers),
            "last_layer": last.name,
            "last_sigma_min": last.sigma_min,
            "last_sigma_max": last.sigma_max,
            "last_condition_number": last.condition_number,
            "min_sigma_min": smallest.sigma_min,
            "min_sigma_min_layer": smallest.name,
            "max_sigma_max": max(layer.sigma_max for layer in self.layers),
            "mean_condition_number": self._mean("condition_number"),
            "mean_stable_rank": self._mean("stable_rank"),
            "mean_effective_rank": self._mean("effective_rank"),
        }

    def _mean(self, attr: str) -> float:
        return float(np.mean([getattr(layer, attr) for layer in self.layers]))

    def to_frame(self):
        """One row per weight matrix as a :class:`pandas.DataFrame`.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``name, shape, rank, sigma_max, sigma_min,
            condition_number, stable_rank, effective_rank``.
        """
        pd = import_optional("pandas", purpose="SpectralReport.to_frame")
        return pd.DataFrame(
            [layer.as_dict() for layer in self.layers], columns=_COLUMNS
        )

    def __repr__(self) -> str:
        header = (
            "layer",
            "shape",
            "rank",
            "sigma_max",
            "sigma_min",
            "cond",
            "stable",
            "eff",
        )
        rows = [
            (
                layer.name,
                "x".join(map(str, layer.shape)),
                str(layer.rank),
                *(
                    f"{v:.4g}"
                    for v in (
                        layer.sigma_max,
                        layer.sigma_min,
                        layer.condition_number,
                        layer.stable_rank,
                        layer.effective_rank,
                    )
                ),
            )
            for layer in self.layers
        ]
        return f"SpectralReport({len(self.layers)} weight matrices)\n" + format_table(
            header, rows
        )


def _weight_tensors(module: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(name, tensor)`` for every weight the module computes with.

    Plain parameters come out as they are. A parametrized tensor
    (``torch.nn.utils.parametrize``, e.g. ``parametrizations.weight_norm``)
    comes out once, as the effective weight under its public name, instead of
    its ``original*`` factors; the same holds for the legacy
    ``torch.nn.utils.weight_norm`` (``weight_g``/``weight_v``). Shared
    parameters come out once.
    """
    seen: set[int] = set()
    for prefix, sub in module.named_modules(remove_duplicate=False):
        dot = f"{prefix}." if prefix else ""
        if isinstance(sub, parametrize.ParametrizationList):
            continue  # its ``original*`` tensors are reported via the owner
        effective: dict[str, torch.Tensor] = {}
        skip: set[str] = set()
        if hasattr(sub, "parametrizations"):
            for pname in sub.parametrizations:
                effective[pname] = getattr(sub, pname)
        for pname in list(sub._parameters):
            base = pname[:-2]
            if pname.endswith("_v") and f"{base}_g" in sub._parameters:
                computed = getattr(sub, base, None)
                if isinstance(computed, torch.Tensor):
                    effective[base] = computed
                    skip.update((pname, f"{base}_g"))
        for pname, param in sub._parameters.items():
            if param is None or pname in skip or id(param) in seen:
                continue
            seen.add(id(param))
            yield dot + pname, param
        for pname, tensor in effective.items():
            yield dot + pname, tensor


def _layer_spectrum(
    name: str, tensor: torch.Tensor, rtol: float | None
) -> LayerSpectrum:
    shape = tuple(tensor.shape)
    w = tensor.detach().reshape(shape[0], -1)
    m, n = w.shape
    eps = torch.finfo(tensor.dtype).eps
    # float64 on CPU: the small singular values are what the report is about,
    # and a 128 x 128 SVD costs well under a millisecond either way.
    w64 = w.to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(w64).all()):
        s = np.full(min(m, n), np.nan)
        nan = float("nan")
        return LayerSpectrum(
            name, shape, (m, n), str(tensor.dtype).removeprefix("torch."),
            s, nan, -1, nan, nan, nan, nan, nan,
        )  # fmt: skip
    s = torch.linalg.svdvals(w64).numpy()
    s_max, s_min = float(s[0]), float(s[-1])
    tol = s_max * (max(m, n) * eps if rtol is None else rtol)
    total = float(s.sum())
    if total > 0:
        p = s / total
        p = p[p > 0]
        effective_rank = math.exp(float(-(p * np.log(p)).sum()))
        stable_rank = float((s**2).sum()) / s_max**2
    else:
        effective_rank = stable_rank = 0.0
    return LayerSpectrum(
        name=name,
        shape=shape,
        matrix_shape=(m, n),
        dtype=str(tensor.dtype).removeprefix("torch."),
        singular_values=s,
        tol=float(tol),
        rank=int((s > tol).sum()),
        sigma_max=s_max,
        sigma_min=s_min,
        condition_number=s_max / s_min if s_min > 0 else math.inf,
        stable_rank=stable_rank,
        effective_rank=effective_rank,
    )


@validate_params(
    {
        "module": [nn.Module],
        "rtol": [StrictInterval(Real, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
@fill_doc
def spectral_report(module: nn.Module, *, rtol: float | None = None) -> SpectralReport:
    """Singular-value report of every weight matrix of a module.

    Every parameter with two or more dimensions counts as a weight matrix;
    biases and other 1-D parameters (norm scales) are skipped, and a conv
    kernel of shape ``(out, in, *k)`` is reshaped to ``(out, in * prod(k))``.

    Parameters
    ----------
    module : torch.nn.Module
        Any module, on any device (weights are copied to CPU float64).
    rtol : float, default=None
        Relative rank tolerance: a singular value counts towards the rank when
        it exceeds ``rtol * sigma_max``. ``None`` uses
        ``max(m, n) * eps`` with ``eps`` the machine epsilon of the
        parameter's dtype, as :func:`numpy.linalg.matrix_rank` does.

    Returns
    -------
    report : SpectralReport
        One :class:`LayerSpectrum` per weight matrix, in registration order.

    See Also
    --------
    skscor.plotting.SpectrumDisplay : Plot the singular values per layer.

    Notes
    -----
    With singular values :math:`s_1 \\ge \\dots \\ge s_r`, :math:`r=\\min(m,n)`:

    - rank: :math:`\\#\\{i : s_i > \\mathrm{tol}\\}`;
    - condition number: :math:`s_1 / s_r` (``inf`` if :math:`s_r = 0`);
    - stable rank: :math:`\\|W\\|_F^2 / \\|W\\|_2^2 = \\sum_i s_i^2 / s_1^2`;
    - effective rank (Roy and Vetterli): :math:`\\exp(-\\sum_i p_i \\log p_i)`
      with :math:`p_i = s_i / \\sum_j s_j`.

    The SCoR paper reports that its regularizer lowers the minimum singular
    values of the learned weights, which correlates with better
    generalization on class-imbalanced data.

    Parametrized weights (``torch.nn.utils.parametrizations.weight_norm``,
    spectral norm, legacy ``weight_norm``) are reported as the effective
    weight the module computes with. Uninitialized lazy parameters, empty
    and non-floating-point tensors are skipped. A matrix with NaN or inf
    entries (a diverged fit) is reported with NaN statistics and
    ``rank == -1`` rather than raising.

    %(ref_scor)s
    .. [2] O. Roy and M. Vetterli, "The effective rank: a measure of effective
       dimensionality", EUSIPCO 2007.

    Examples
    --------
    >>> import torch
    >>> from skscor.spectral import spectral_report
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    >>> report = spectral_report(net)
    >>> report.names
    ['0.weight', '1.weight']
    >>> report["1.weight"].singular_values.shape
    (2,)
    """
    layers = []
    for name, tensor in _weight_tensors(module):
        if isinstance(tensor, nn.parameter.UninitializedParameter):
            continue
        if tensor.ndim < 2 or tensor.numel() == 0:
            continue
        if not tensor.is_floating_point():
            continue
        layers.append(_layer_spectrum(name, tensor, rtol))
    return SpectralReport(layers)
