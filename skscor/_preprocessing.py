"""Tabular input conditioning, fitted on the training rows inside an estimator.

:class:`TabularEncoder` turns what users keep their data in (a pandas
DataFrame with numeric, boolean, categorical and string columns and missing
values; a numpy array, possibly with NaN; a scipy sparse matrix) into the one
float32 matrix the network trains on:

- column typing at fit (``categorical_features``, as
  ``HistGradientBoostingClassifier``);
- numeric columns: median imputation plus a missing indicator, then robust
  scaling with smooth clipping (RealMLP-TD) or a normal quantile transform;
  two-valued columns (binary, one-hot) are mapped onto 0/1 and left alone;
- categorical columns: rare levels pooled, missing values their own level,
  one-hot codes up to ``max_onehot_levels`` levels, integer codes for a
  learned embedding above, and a reserved code for levels unseen at fit.

Its fitted state is plain data (:meth:`TabularEncoder.get_state`) so that it
travels in a weights-only ``torch.save`` file. pandas is not a dependency of
skscor: it is only used when the input already is a pandas object.
"""

from __future__ import annotations

import math
import sys
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .utils._validation import StrictInterval

__all__ = ["MAX_DENSE_BYTES", "TabularEncoder"]

#: Largest sparse input that is accepted, by the size of its dense float32
#: form (the encoder's output is dense). Above it, fit and transform raise a
#: TypeError before allocating anything.
MAX_DENSE_BYTES = 256 * 2**20

_STATE_FORMAT = "skscor.TabularEncoder"
_STATE_VERSION = 1
# Smooth clipping x / sqrt(1 + (x / c)^2) of RealMLP-TD: about x for |x| << c,
# tends to +-c; scaled values beyond _PRE_CLIP are clipped first (the result
# is then c to 12 digits) so that (x / c)^2 cannot overflow.
_CLIP = 3.0
_PRE_CLIP = 1e6
# The interquartile range of a standard normal: IQR / 1.349 estimates its
# standard deviation, so standardized data passes through nearly unchanged.
_IQR_TO_SD = 1.349
# Rows the medians, IQRs and quantiles are estimated on: a fixed-seed
# subsample above this (their standard errors are then below 0.3% of a
# column's spread; the full sort of 1,000,000 rows per column took most of
# the fit). Missing values, infinities and two-valued columns are found on
# every row.
_SAMPLE_ROWS = 200_000
# Quantile transform: reference quantiles and the bound of the normal output
# (ndtri(1e-7) = -5.2, scikit-learn's QuantileTransformer).
_N_QUANTILES = 1000
_QUANTILE_EPS = 1e-7
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# Staging block of the transform's output (see _ColumnWriter).
_STAGE_BYTES = 64 * 2**20


# --------------------------------------------------------------- input access
def _pandas():
    """pandas if it is already imported (a frame can only come from it)."""
    return sys.modules.get("pandas")


def _is_frame(X) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(X, pd.DataFrame)


def _label(name, frame: bool) -> str:
    return f"column {name!r}" if frame else f"column {name}"


class _Table:
    """Column-wise read access to a frame, a 2-D array or a sparse matrix."""

    def __init__(self, X, caller: str):
        self.frame = _is_frame(X)
        if self.frame:
            self.data = X
            self.shape = X.shape
            self.columns = list(X.columns)
            return
        if sp.issparse(X):
            n, m = X.shape
            if n * m * 4 > MAX_DENSE_BYTES:
                raise TypeError(
                    f"A sparse X of shape {X.shape} is {n * m * 4 / 2**30:.1f} GiB "
                    f"as a dense float32 matrix, more than the "
                    f"{MAX_DENSE_BYTES / 2**20:.0f} MiB {caller} densifies "
                    "(skscor._preprocessing.MAX_DENSE_BYTES). Reduce its columns "
                    "first, e.g. with sklearn.decomposition.TruncatedSVD("
                    "n_components=100) or a feature selector in the pipeline, or "
                    "pass X.toarray() if it fits in memory."
                )
            X = sp.csc_array(X, copy=True)
            if X.dtype.kind == "c":
                raise ValueError("Complex data not supported")
            X.sum_duplicates()
            self.data = X
            self.shape = X.shape
            self.columns = list(range(m))
            return
        pd = _pandas()
        if pd is not None and isinstance(X, pd.Series):
            raise ValueError(
                "Expected a 2D array, got a pandas Series instead; pass a "
                "DataFrame (series.to_frame()) or reshape your data."
            )
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead. Reshape your "
                "data either using X.reshape(-1, 1) if it has a single feature "
                "or X.reshape(1, -1) if it contains a single sample."
            )
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported")
        self.data = X
        self.shape = X.shape
        self.columns = list(range(X.shape[1]))

    def check_size(self):
        n, m = self.shape
        if n < 1:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={self.shape}) while a "
                "minimum of 1 is required."
            )
        if m < 1:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={self.shape}) while a "
                "minimum of 1 is required."
            )

    def label(self, j: int) -> str:
        return _label(self.columns[j], self.frame)

    def column(self, j: int):
        """A pandas Series, or a 1-D numpy array (a view where possible)."""
        if self.frame:
            return self.data.iloc[:, j]
        if sp.issparse(self.data):
            X = self.data
            start, stop = X.indptr[j], X.indptr[j + 1]
            col = np.zeros(X.shape[0], dtype=np.result_type(X.dtype, np.float64))
            col[X.indices[start:stop]] = X.data[start:stop]
            return col
        return self.data[:, j]

    def feature_names(self):
        """Column names as sklearn stores them: all strings, else None."""
        if not self.frame or not self.columns:
            return None
        types = sorted({type(c).__qualname__ for c in self.columns})
        if len(types) > 1 and "str" in types:
            raise TypeError(
                "Feature names are only supported if all input features have "
                f"string names, but your input has {types} as feature name / "
                "column name types. If you want feature names to be stored and "
                "validated, you must convert them all to strings, by using "
                "X.columns = X.columns.astype(str) for example. Otherwise you "
                "can remove feature / column names from your input data, or "
                "convert them all to a non-string data type."
            )
        if types == ["str"]:
            return [str(c) for c in self.columns]
        return None


# ----------------------------------------------------------------- dtypes
def _dtype_kind(col, label: str) -> str:
    """'numeric', 'bool', 'category', 'string' or 'object'; raise if unsupported."""
    pd = _pandas()
    if pd is not None and isinstance(col, pd.Series):
        dtype = col.dtype
        if isinstance(dtype, pd.SparseDtype):
            dtype = dtype.subtype
        if isinstance(dtype, pd.CategoricalDtype):
            cats = dtype.categories.dtype
            if cats.kind in "mMc" or not (
                pd.api.types.is_numeric_dtype(cats)
                or pd.api.types.is_string_dtype(cats)
                or (isinstance(cats, np.dtype) and cats.kind == "O")
            ):
                raise TypeError(
                    f"{label} is a category of {cats} values, which is not "
                    "supported: convert its categories to strings or numbers."
                )
            return "category"
        if pd.api.types.is_bool_dtype(dtype):
            return "bool"
        if pd.api.types.is_complex_dtype(dtype):
            raise ValueError(
                f"Complex data not supported: {label} has dtype {dtype}; pass its "
                "real and imaginary parts (or its magnitude) as two columns."
            )
        if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(
            dtype, pd.PeriodDtype
        ):
            raise TypeError(
                f"{label} has dtype {dtype}, which is not supported: convert it "
                "to numbers first (e.g. days since a reference date, or year, "
                "month and weekday columns)."
            )
        if pd.api.types.is_timedelta64_dtype(dtype):
            raise TypeError(
                f"{label} has dtype {dtype}, which is not supported: convert it "
                "to a number first (e.g. column.dt.total_seconds())."
            )
        if pd.api.types.is_numeric_dtype(dtype):
            return "numeric"
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            return "object"
        if pd.api.types.is_string_dtype(dtype):
            return "string"
        raise TypeError(
            f"{label} has dtype {dtype}, which is not supported: convert it to "
            "numbers, strings or a category."
        )
    kind = col.dtype.kind
    if kind == "b":
        return "bool"
    if kind in "iuf":
        return "numeric"
    if kind == "O":
        return "object"
    if kind in "US":
        return "string"
    if kind == "c":
        raise ValueError("Complex data not supported")
    raise TypeError(
        f"{label} has dtype {col.dtype}, which is not supported: convert it to "
        "numbers or strings first."
    )


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return bool(v != v)
    return type(v).__name__ in ("NAType", "NaTType")


def _value_kind(v) -> str:
    if isinstance(v, bool | np.bool_):
        return "bool"
    if isinstance(v, Integral | float | np.floating):
        return "number"
    if isinstance(v, str | np.str_):
        return "str"
    return type(v).__name__


def _plain(v):
    """A category level as plain python (str, int, float or bool)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, Integral):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    raise TypeError(type(v).__name__)


def _factorize(col, label: str):
    """``(codes, uniques)``: codes index uniques, -1 for a missing value."""
    try:
        return _factorize_values(col)
    except TypeError as exc:  # unhashable values (a dict, a list)
        raise TypeError(
            f"{label} holds a value that is not a category level ({exc}): each "
            "argument must be a string or a number (or a bool)."
        ) from exc


def _factorize_values(col):
    pd = _pandas()
    if pd is not None and isinstance(col, pd.Series):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.intp), list(np.asarray(uniques, object))
    col = np.asarray(col)
    if col.dtype.kind in "fiub":
        missing = np.isnan(col) if col.dtype.kind == "f" else None
        codes = np.full(col.shape[0], -1, dtype=np.intp)
        values = col if missing is None else col[~missing]
        uniques, inverse = np.unique(values, return_inverse=True)
        if missing is None:
            codes[:] = inverse
        else:
            codes[~missing] = inverse
        return codes, list(uniques.astype(object))
    # object or str array: one pass with a dict (pandas not needed)
    lookup: dict = {}
    uniques = []
    codes = np.empty(col.shape[0], dtype=np.intp)
    for i, v in enumerate(col):
        if _is_missing(v):
            codes[i] = -1
            continue
        key = (_value_kind(v), v)  # 1 and 1.0 one level; True another
        code = lookup.get(key)
        if code is None:
            code = lookup[key] = len(uniques)
            uniques.append(v)
        codes[i] = code
    return codes, uniques


def _object_kind(col, label: str):
    """Type of an object column by its values, and its factorization.

    Returns ``(kind, (codes, uniques))``; kind is 'string', 'bool', 'numeric'
    or 'empty' (every value missing).
    """
    factorized = _factorize(col, label)
    kinds = sorted({_value_kind(u) for u in factorized[1]})
    if not kinds:
        return "empty", factorized
    if len(kinds) == 1 and kinds[0] in ("str", "bool", "number"):
        kind = {"str": "string", "bool": "bool", "number": "numeric"}[kinds[0]]
        return kind, factorized
    raise TypeError(
        f"{label} holds values of types {kinds}: each argument must be a string "
        "or a number (or a bool), of one type per column. Convert the column, "
        "e.g. with .astype(str) for labels or pd.to_numeric for numbers."
    )


def _numeric_values(col, label: str) -> np.ndarray:
    """The column as a new float64 array (NaN for missing values)."""
    pd = _pandas()
    try:
        if pd is not None and isinstance(col, pd.Series):
            if isinstance(col.dtype, pd.SparseDtype):
                col = col.sparse.to_dense()
            return col.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        if col.dtype == object:
            return np.array([np.nan if _is_missing(v) else v for v in col], float)
        return np.array(col, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{label} is numeric (as typed at fit) but holds values that are "
            f"not numbers: {exc}"
        ) from exc


# ------------------------------------------------------------ the transforms
def _smooth_clip(x: np.ndarray) -> np.ndarray:
    np.clip(x, -_PRE_CLIP, _PRE_CLIP, out=x)
    denom = np.square(x / _CLIP)
    denom += 1.0
    np.sqrt(denom, out=denom)
    x /= denom
    return x


def _quantile_normal(x: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    refs = np.linspace(0.0, 1.0, quantiles.size)
    # mean of the forward and backward interpolation: ties (discrete columns)
    # map to the middle of their range of references, as scikit-learn does.
    u = np.interp(x, quantiles, refs)
    u -= np.interp(-x, -quantiles[::-1], -refs[::-1])
    u *= 0.5
    np.clip(u, _QUANTILE_EPS, 1 - _QUANTILE_EPS, out=u)
    return ndtri(u, out=u)


def _fit_numeric(x: np.ndarray, method, name: str, label: str, sample=None) -> dict:
    """Fit one numeric column (float64, NaN missing); ``sample``: row indices."""
    if np.isinf(x).any():
        raise ValueError(
            f"Input X contains infinity in {label}; replace it with NaN (treated "
            "as missing) or a finite value."
        )
    missing = np.isnan(x)
    has_nan = bool(missing.any())
    valid = x[~missing] if has_nan else x
    spec = {
        "name": name,
        "categorical": False,
        "encoding": "passthrough" if method is None else method,
        "missing": has_nan,
        "fill": 0.0,
        "center": 0.0,
        "scale": 1.0,
        "quantiles": None,
    }
    if valid.size == 0:  # all missing: a constant 0 and its indicator
        return spec
    sub = valid
    if sample is not None:
        sub = x[sample]
        sub = sub[~np.isnan(sub)] if has_nan else sub
        if sub.size == 0:
            sub = valid
    low, median, high = (float(v) for v in np.percentile(sub, [25, 50, 75]))
    spec["fill"] = median
    if method is None:
        return spec
    vmin, vmax = float(valid.min()), float(valid.max())
    if vmin < vmax and bool(np.all((valid == vmin) | (valid == vmax))):
        # two values (a 0/1 flag, one column of a one-hot block): 0/1
        spec.update(encoding="binary", center=vmin, scale=vmax - vmin)
        return spec
    if method == "robust":
        scale = (high - low) / _IQR_TO_SD
        if not scale > 0:
            scale = float(sub.std())
        if not (scale > 0 and math.isfinite(scale)):
            scale = 1.0
        spec.update(center=median, scale=scale)
    else:  # quantile
        refs = np.linspace(0, 100, min(_N_QUANTILES, sub.size))
        quantiles = np.maximum.accumulate(np.percentile(sub, refs))
        spec["quantiles"] = [float(q) for q in quantiles]
    return spec


def _apply_numeric(x: np.ndarray, spec: dict, label: str) -> np.ndarray:
    """Transform a float64 column in place; returns it."""
    if np.isinf(x).any():
        raise ValueError(
            f"Input X contains infinity in {label}; replace it with NaN (treated "
            "as missing) or a finite value."
        )
    np.copyto(x, spec["fill"], where=np.isnan(x))
    encoding = spec["encoding"]
    if encoding == "passthrough":
        if x.size and np.abs(x).max() > _FLOAT32_MAX:
            raise ValueError(
                f"Input X contains a value too large for dtype('float32') in "
                f"{label}; scale it, or use numeric='robust'."
            )
    elif encoding == "quantile":
        x = _quantile_normal(x, np.asarray(spec["quantiles"], dtype=np.float64))
    else:  # binary or robust
        x -= spec["center"]
        x /= spec["scale"]
        if encoding == "robust":
            _smooth_clip(x)
    return x


def _fit_categorical(
    col, name, label, min_frequency, max_onehot_levels, factorized=None
) -> dict:
    codes, uniques = factorized or _factorize(col, label)
    if not uniques:
        raise ValueError(
            f"{label} is categorical but all its values are missing at fit: "
            "drop it, or give it at least one level."
        )
    kinds = sorted({_value_kind(u) for u in uniques})
    if len(kinds) > 1 or kinds[0] not in ("str", "bool", "number"):
        raise TypeError(
            f"{label} holds values of types {kinds}: each argument must be a "
            "string or a number (or a bool), of one type per column. Convert "
            "the column, e.g. with .astype(str)."
        )
    levels = [_plain(u) for u in uniques]
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    n_missing = int((codes < 0).sum())
    if isinstance(min_frequency, Integral):
        threshold = int(min_frequency)
    else:
        threshold = math.ceil(min_frequency * codes.shape[0])
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    levels = [levels[i] for i in order]
    counts = counts[order]
    kept = [lv for lv, c in zip(levels, counts, strict=True) if c >= threshold]
    rare = [lv for lv, c in zip(levels, counts, strict=True) if c < threshold]
    # codes: 0 reserved (unseen), kept levels 1..k, then rare, then missing
    rare_code = len(kept) + 1 if rare else None
    nan_code = len(kept) + (2 if rare else 1) if n_missing else None
    n_levels = len(kept) + bool(rare) + bool(n_missing)
    if n_levels > max_onehot_levels:
        encoding = "embedding"
    else:
        encoding = "binary" if n_levels == 2 else "onehot"
    return {
        "name": name,
        "categorical": True,
        "encoding": encoding,
        "levels": kept,
        "rare": rare,
        "missing": bool(n_missing),
        "rare_code": rare_code,
        "nan_code": nan_code,
        "n_levels": n_levels,
    }


def _category_codes(col, spec: dict, label: str) -> np.ndarray:
    """Codes 0..n_levels of a column (0: unseen at fit, or missing without a level).

    A level unseen at fit goes to the rare level when the column has one (an
    unseen level is a rare one; scikit-learn's 'infrequent_if_exist'), else to
    the reserved code 0.
    """
    codes, uniques = _factorize(col, label)
    lookup = {(_value_kind(v), v): i + 1 for i, v in enumerate(spec["levels"])}
    rare_code = spec["rare_code"]
    for v in spec["rare"]:
        lookup[(_value_kind(v), v)] = rare_code
    unseen = rare_code or 0
    table = np.empty(len(uniques) + 1, dtype=np.intp)
    for i, u in enumerate(uniques):
        if isinstance(u, np.generic):
            u = u.item()
        table[i] = lookup.get((_value_kind(u), u), unseen)
    table[-1] = spec["nan_code"] or 0  # index -1: missing
    return table[codes]


class _ColumnWriter:
    """Fill a C-ordered matrix column by column through a small staging block.

    Writing a column of a row-major matrix touches one cache line per row;
    staging up to ``_STAGE_BYTES`` of columns contiguously and copying them
    in as a block made the transform of a 1,000,000 x 67 output 2x faster.
    """

    def __init__(self, out: np.ndarray):
        self.out = out
        n, m = out.shape
        width = max(1, min(m, _STAGE_BYTES // max(1, 4 * n)))
        self.stage = np.empty((width, n), dtype=np.float32)
        self.k = self.start = 0

    def put(self, column: np.ndarray) -> None:
        self.stage[self.k] = column
        self.k += 1
        if self.k == self.stage.shape[0]:
            self.flush()

    def flush(self) -> None:
        if self.k:
            self.out[:, self.start : self.start + self.k] = self.stage[: self.k].T
            self.start += self.k
            self.k = 0


def _n_out(spec: dict) -> int:
    if not spec["categorical"]:
        return 1
    return {"binary": 1, "embedding": 1}.get(spec["encoding"], spec["n_levels"])


def _level_names(spec: dict) -> list[str]:
    names = [str(v) for v in spec["levels"]]
    if spec["rare"]:
        names.append("rare")
    if spec["missing"]:
        names.append("nan")
    return names


# ---------------------------------------------------------------- estimator
class TabularEncoder(TransformerMixin, BaseEstimator):
    """Condition tabular input for a network: typing, scaling, categoricals, NaN.

    Fitted on the training rows; :meth:`transform` returns one float32
    C-contiguous matrix in this column order: the conditioned numeric columns,
    their missing indicators, the one-hot columns, then one integer code per
    embedded categorical column (stored as float32, exact below 2**24).

    Parameters
    ----------
    categorical_features : 'from_dtype', array-like or None, default='from_dtype'
        Which input columns are categorical. 'from_dtype': pandas
        ``category``, string and object-of-strings columns, and bool columns
        (numpy ``bool``, pandas ``boolean``; a bool's values are labels, and
        as a two-level category it still costs one 0/1 column, with a
        missing value its own level). Otherwise a boolean mask, integer
        indices or column names (as ``HistGradientBoostingClassifier``);
        ``None``: no categorical column. A string or category column that is
        not categorical is an error.
    numeric : {'robust', 'quantile'} or None, default='robust'
        Conditioning of numeric columns, fitted on the training rows.
        'robust': centre by the median, divide by IQR / 1.349 (the standard
        deviation when the IQR is 0, else 1) and clip smoothly,
        ``x / sqrt(1 + (x / 3)^2)``, as RealMLP-TD. 'quantile': map the
        empirical quantiles to a standard normal (at most 1000 quantiles
        from at most 100,000 rows). Two-valued columns (flags, one-hot
        columns already encoded) are mapped onto 0/1 in both. ``None``: no
        scaling (missing values are still imputed).
    max_onehot_levels : int, default=9
        Categorical columns with at most this many levels (rare and missing
        levels included) are one-hot encoded, a two-level one as a single
        0/1 column; those with more are given as integer codes for a learned
        embedding.
    min_frequency : int or float, default=5
        Levels seen in fewer training rows (a float: a fraction of the rows)
        are pooled into one 'rare' level.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fitted on a DataFrame with string column names.
    is_categorical_ : ndarray of bool of shape (n_features_in_,)
        Which input columns are categorical.
    categories_ : list
        Per input column: ``None`` for a numeric column, else its levels seen
        at fit (sorted; rare ones included, missing values not).
    rare_categories_ : list
        Per input column: ``None`` for a numeric column, else the levels
        pooled into its rare level.
    encodings_ : list of str
        Per input column: 'robust', 'quantile', 'passthrough' or 'binary'
        for a numeric column; 'binary', 'onehot' or 'embedding' for a
        categorical one.
    n_dense_out_ : int
        Number of leading float columns of the output (numeric, indicators,
        one-hot).
    continuous_out_ : ndarray of int
        Output columns that hold a numeric input column with more than two
        values. The other leading float columns are all 0/1 (flags,
        indicators, one-hot columns): the network folds their periodic
        embeddings into its first layer.
    embedding_cardinalities_ : list of int
        Number of codes of each embedded column (the trailing output
        columns), the reserved code 0 for unseen levels included.
    feature_names_out_ : list of str
        Names of the output columns.

    Notes
    -----
    Missing numeric values are imputed by the training median, and a 0/1
    indicator column follows for each column that had missing values at fit
    (a missing value at transform in another column is imputed, no
    indicator). A missing categorical value is its own level. A categorical
    level unseen at fit goes to the column's rare level when it has one,
    else to the reserved code 0 (all zeros in one-hot columns, 0.5 in a
    two-level column, the embedding's zero row). Infinite values are an
    error naming the column.

    Examples
    --------
    >>> import numpy as np
    >>> from skscor._preprocessing import TabularEncoder
    >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [np.nan, 1.0], [40.0, 0.0]])
    >>> enc = TabularEncoder().fit(X)
    >>> enc.encodings_, enc.n_dense_out_, enc.continuous_out_.tolist()
    (['robust', 'binary'], 3, [0])
    >>> enc.feature_names_out_
    ['x0', 'x1', 'x0_missing']
    >>> enc.transform(X)[:, 1:]
    array([[0., 0.],
           [1., 0.],
           [1., 1.],
           [0., 0.]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "numeric": [StrOptions({"robust", "quantile"}), None],
        "max_onehot_levels": [StrictInterval(Integral, 0, None, closed="left")],
        "min_frequency": [
            StrictInterval(Integral, 1, None, closed="left"),
            StrictInterval(RealNotInt, 0, 1, closed="neither"),
        ],
    }

    def __init__(
        self,
        categorical_features="from_dtype",
        numeric="robust",
        max_onehot_levels=9,
        min_frequency=5,
    ):
        self.categorical_features = categorical_features
        self.numeric = numeric
        self.max_onehot_levels = max_onehot_levels
        self.min_frequency = min_frequency

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ----------------------------------------------------------- fitting
    def fit(self, X, y=None, *, caller=None):
        """Type the columns of ``X`` and fit their encodings.

        Parameters
        ----------
        X : DataFrame, array-like or sparse matrix of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.
        caller : str, default=None
            Name used in error messages (the estimator that fits the
            encoder); the class name by default.

        Returns
        -------
        self : TabularEncoder
        """
        self._validate_params()
        caller = caller or type(self).__name__
        table = _Table(X, caller)
        table.check_size()
        names = table.feature_names()
        mask = self._categorical_mask(table, names)
        sample = None
        if table.shape[0] > _SAMPLE_ROWS:
            rng = np.random.default_rng(0)
            sample = np.sort(rng.choice(table.shape[0], _SAMPLE_ROWS, replace=False))
        columns = []
        for j in range(table.shape[1]):
            col, label = table.column(j), table.label(j)
            name = names[j] if names is not None else f"x{j}"
            kind, factorized = _dtype_kind(col, label), None
            if kind == "object":
                kind, factorized = _object_kind(col, label)
            categorical = bool(mask[j]) if mask is not None else None
            if categorical is None:  # from_dtype
                categorical = kind in ("bool", "category", "string", "empty")
            elif not categorical and kind in ("category", "string"):
                raise ValueError(
                    f"{label} holds {kind} values but is not among "
                    "categorical_features; list it there, or convert it to "
                    "numbers."
                )
            if categorical:
                spec = _fit_categorical(
                    col,
                    name,
                    label,
                    self.min_frequency,
                    self.max_onehot_levels,
                    factorized,
                )
            else:
                spec = _fit_numeric(
                    _numeric_values(col, label), self.numeric, name, label, sample
                )
            columns.append(spec)
        self._set_fitted(columns, table.shape[1], names)
        return self

    def _categorical_mask(self, table: _Table, names):
        spec = self.categorical_features
        if isinstance(spec, str):  # 'from_dtype'
            return None
        m = table.shape[1]
        if spec is None:
            return np.zeros(m, dtype=bool)
        spec = np.asarray(spec)
        if spec.size == 0:
            return np.zeros(m, dtype=bool)
        if spec.dtype.kind == "b":
            if spec.shape != (m,):
                raise ValueError(
                    f"categorical_features as a boolean mask must have {m} "
                    f"entries (one per column of X), got shape {spec.shape}."
                )
            return spec.astype(bool)
        mask = np.zeros(m, dtype=bool)
        if spec.dtype.kind in "iu":
            for j in spec.ravel():
                if not -m <= j < m:
                    raise ValueError(
                        f"categorical_features index {j} is out of range for X "
                        f"with {m} columns."
                    )
                mask[j] = True
            return mask
        if spec.dtype.kind in "OUS":
            if names is None:
                raise ValueError(
                    "categorical_features names columns, but X has no string "
                    "column names (pass a DataFrame, or give indices or a mask)."
                )
            index = {n: j for j, n in enumerate(names)}
            for name in spec.ravel():
                if name not in index:
                    raise ValueError(
                        f"categorical_features names column {str(name)!r}, which "
                        "is not in X."
                    )
                mask[index[name]] = True
            return mask
        raise ValueError(
            "categorical_features must be 'from_dtype', None, a boolean mask, "
            f"integer indices or column names; got dtype {spec.dtype}."
        )

    def _set_fitted(self, columns, n_features, names):
        self._columns = columns
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.is_categorical_ = np.array([c["categorical"] for c in columns], bool)
        self.categories_ = [
            sorted(c["levels"] + c["rare"]) if c["categorical"] else None
            for c in columns
        ]
        self.rare_categories_ = [
            list(c["rare"]) if c["categorical"] else None for c in columns
        ]
        self.encodings_ = [c["encoding"] for c in columns]
        # output layout: numeric, indicators, one-hot, embedded codes
        numeric = [c for c in columns if not c["categorical"]]
        indicators = [c for c in numeric if c["missing"]]
        onehot = [
            c for c in columns if c["categorical"] and c["encoding"] != "embedding"
        ]
        embedded = [
            c for c in columns if c["categorical"] and c["encoding"] == "embedding"
        ]
        self._layout = []  # (column index, kind, first output column)
        pos = 0
        index = {id(c): j for j, c in enumerate(columns)}
        continuous = []
        for c in numeric:
            self._layout.append((index[id(c)], "numeric", pos))
            if c["encoding"] != "binary":
                continuous.append(pos)
            pos += 1
        self.continuous_out_ = np.asarray(continuous, dtype=np.intp)
        for c in indicators:
            self._layout.append((index[id(c)], "indicator", pos))
            pos += 1
        for c in onehot:
            self._layout.append((index[id(c)], "onehot", pos))
            pos += _n_out(c)
        self.n_dense_out_ = pos
        for c in embedded:
            self._layout.append((index[id(c)], "embedding", pos))
            pos += 1
        self.embedding_cardinalities_ = [c["n_levels"] + 1 for c in embedded]
        self.feature_names_out_ = self._output_names([c["name"] for c in columns])

    def _output_names(self, input_names):
        out = []
        for j, kind, _ in self._layout:
            spec, name = self._columns[j], input_names[j]
            if kind == "numeric" or kind == "embedding":
                out.append(str(name))
            elif kind == "indicator":
                out.append(f"{name}_missing")
            elif spec["encoding"] == "binary":
                out.append(f"{name}_{_level_names(spec)[1]}")
            else:
                out.extend(f"{name}_{level}" for level in _level_names(spec))
        return out

    # -------------------------------------------------------- transform
    def transform(self, X, *, caller=None):
        """Encode ``X`` as the network's float32 input.

        Parameters
        ----------
        X : DataFrame, array-like or sparse matrix of shape (n_samples, n_features)
            Rows to encode, with the columns seen at fit.
        caller : str, default=None
            Name used in error messages; the class name by default.

        Returns
        -------
        Xt : ndarray of shape (n_samples, len(feature_names_out_)), float32
            C-contiguous; the first ``n_dense_out_`` columns are floats, the
            last ``len(embedding_cardinalities_)`` integer codes.
        """
        check_is_fitted(self, "_columns")
        caller = caller or type(self).__name__
        table = _Table(X, caller)
        self._check_columns(table, caller)
        n = table.shape[0]
        out = np.empty((n, len(self.feature_names_out_)), dtype=np.float32)
        writer = _ColumnWriter(out)
        cache = {}  # a numeric column's missing mask, for its indicator
        for j, kind, _ in self._layout:
            spec, label = self._columns[j], table.label(j)
            if kind == "indicator":
                writer.put(cache.pop(j))
                continue
            col = table.column(j)
            _dtype_kind(col, label)  # unsupported dtypes: an error naming it
            if kind == "numeric":
                x = _numeric_values(col, label)
                if spec["missing"]:
                    cache[j] = np.isnan(x)
                writer.put(_apply_numeric(x, spec, label))
                continue
            codes = _category_codes(col, spec, label)
            if kind == "embedding":
                writer.put(codes)
            elif spec["encoding"] == "binary":
                writer.put(np.array([0.5, 0.0, 1.0], np.float32)[codes])
            else:
                for level in range(1, spec["n_levels"] + 1):
                    writer.put(codes == level)
        writer.flush()
        return out

    def _check_columns(self, table: _Table, caller: str) -> None:
        table.check_size()
        names = table.feature_names()
        fitted = getattr(self, "feature_names_in_", None)
        if names is not None and fitted is None:
            warnings.warn(
                f"X has feature names, but {caller} was fitted without feature names",
                UserWarning,
                stacklevel=3,
            )
        elif names is None and fitted is not None:
            warnings.warn(
                f"X does not have valid feature names, but {caller} was fitted "
                "with feature names",
                UserWarning,
                stacklevel=3,
            )
        elif names is not None and list(fitted) != names:
            message = (
                "The feature names should match those that were passed during fit.\n"
            )
            unexpected = sorted(set(names) - set(fitted))
            missing = sorted(set(fitted) - set(names))

            def listed(items):
                lines = [f"- {name}\n" for name in items[:5]]
                return "".join(lines) + ("- ...\n" if len(items) > 5 else "")

            if unexpected:
                message += "Feature names unseen at fit time:\n" + listed(unexpected)
            if missing:
                message += "Feature names seen at fit time, yet now missing:\n"
                message += listed(missing)
            if not missing and not unexpected:
                message += (
                    "Feature names must be in the same order as they were in fit.\n"
                )
            raise ValueError(message)
        if table.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {table.shape[1]} features, but {caller} is expecting "
                f"{self.n_features_in_} features as input."
            )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; ``None`` uses ``feature_names_in_`` (or
            ``x0, x1, ...``).

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self, "_columns")
        if input_features is None:
            return np.asarray(self.feature_names_out_, dtype=object)
        input_features = [str(f) for f in np.asarray(input_features).ravel()]
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None and list(fitted) != input_features:
            raise ValueError("input_features is not equal to feature_names_in_")
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                "input_features should have length equal to number of features "
                f"({self.n_features_in_}), got {len(input_features)}"
            )
        return np.asarray(self._output_names(input_features), dtype=object)

    # ------------------------------------------------------------ state
    def get_state(self) -> dict:
        """The fitted encoder as plain data (dict, list, str, int, float, bool, None).

        It can be stored with ``torch.save(..., weights_only=True)`` compatible
        files and rebuilt with :meth:`from_state`.

        Returns
        -------
        state : dict
        """
        check_is_fitted(self, "_columns")
        params = {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in self.get_params().items()
        }
        cats = params["categorical_features"]
        if cats is not None and not isinstance(cats, str):
            params["categorical_features"] = [_plain(v) for v in np.ravel(cats)]
        names = getattr(self, "feature_names_in_", None)
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "params": params,
            "n_features_in": self.n_features_in_,
            "feature_names_in": None if names is None else [str(n) for n in names],
            "columns": [dict(c) for c in self._columns],
        }

    @classmethod
    def from_state(cls, state: dict) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`get_state`'s output.

        Parameters
        ----------
        state : dict

        Returns
        -------
        encoder : TabularEncoder
        """
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValueError("state is not a TabularEncoder state (get_state()).")
        if state.get("version") != _STATE_VERSION:
            raise ValueError(
                f"TabularEncoder state version {state.get('version')!r} is not "
                f"supported (this skscor reads version {_STATE_VERSION})."
            )
        encoder = cls(**state["params"])
        encoder._set_fitted(
            [dict(c) for c in state["columns"]],
            state["n_features_in"],
            state["feature_names_in"],
        )
        return encoder
