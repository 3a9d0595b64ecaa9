"""Probe: what ``numeric_embedding='auto'`` costs on image-like inputs.

scikit-learn's digits (8 x 8) upscaled by pixel repetition to ``8k x 8k``
pixels and ``--channels`` copies, plus N(0, 1) noise, 20,000 rows drawn with a
long tail (imbalance factor 100 over the ten classes, about 4,900 rows kept).
For each size, SCoR at its defaults once with the periodic candidate tried
(``MAX_PERIODIC_COLUMNS`` lifted, as before stop 36) and once with
``numeric_embedding=None``, one thread, after a warm-up fit that pays the
one-time imports; prints both times, their ratio and what ``'auto'`` chose on
which held-out losses.

    python -m benchmarks.probes.wide_inputs
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits

from skscor import SCoRClassifier, _training


def image_task(scale: int, channels: int, n: int = 20_000, seed: int = 0):
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(X), n)
    big = np.kron(X[idx].reshape(-1, 8, 8), np.ones((1, scale, scale)))
    big = np.concatenate([big.reshape(n, -1)] * channels, axis=1)
    big += rng.normal(0.0, 1.0, big.shape)
    labels = y[idx]
    counts = (n // 10 * 0.01 ** (np.arange(10) / 9)).astype(int)
    keep = np.concatenate([np.flatnonzero(labels == c)[: counts[c]] for c in range(10)])
    return big[keep].astype(np.float32), labels[keep]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x1,3x1,4x1,4x3", help="SCALExCHANNELS")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    SCoRClassifier(max_iter=2, n_threads=1).fit(*image_task(1, 1, n=500))
    limit = _training.MAX_PERIODIC_COLUMNS
    for size in args.sizes.split(","):
        scale, channels = (int(v) for v in size.split("x"))
        X, y = image_task(scale, channels)
        times = {}
        try:
            _training.MAX_PERIODIC_COLUMNS = 10**9
            for arm in ("auto", None):
                start = time.perf_counter()
                est = SCoRClassifier(
                    numeric_embedding=arm, random_state=0, n_threads=1
                ).fit(X, y)
                times[arm] = time.perf_counter() - start
                if arm == "auto":
                    chose = est.numeric_embedding_
                    scores = est.numeric_embedding_scores_
        finally:
            _training.MAX_PERIODIC_COLUMNS = limit
        cells = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
        print(
            f"{X.shape[0]} x {X.shape[1]}: auto (tried) {times['auto']:.1f} s, "
            f"none {times[None]:.1f} s, ratio {times['auto'] / times[None]:.2f}; "
            f"chose {chose} ({cells})",
            flush=True,
        )


if __name__ == "__main__":
    main()
