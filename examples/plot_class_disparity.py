"""
Class disparity: cross-entropy vs MR² on a long tail
====================================================

:class:`~skscor.MR2Classifier` divides each sample's logits by a per-class
temperature :math:`c\\,\\gamma_y` that grows with the spread of that class's
penultimate features, and adds a term that tightens each class's features.
This example measures what that does to the *disparity* between classes
(worst-class recall, the spread of the per-class recalls) on digits subsampled
to a long tail, against plain cross-entropy and against cross-entropy with
``class_weight="balanced"``, and draws the per-class recalls with
:class:`~skscor.plotting.ClassRecallDisplay`.
"""

# %%
# Data and models
# ---------------
# The long tail keeps ``n_max * 20^(-i/9)`` training rows of digit ``i``
# (122 of digit 0 down to 6 of digit 9); the test set keeps the nearly
# uniform class profile of the digits.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skscor import MR2Classifier, SCoRClassifier
from skscor.datasets import long_tail
from skscor.metrics import class_disparity
from skscor.plotting import ClassRecallDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
X_lt, y_lt = long_tail(X_train, y_train, imbalance_factor=20, random_state=0)
print("training rows per digit:", np.bincount(y_lt).tolist())

common = {
    "hidden_layer_sizes": (64,),
    "learning_rate_init": 3e-3,
    "max_iter": 60,
    "batch_size": 32,
    # one network each, trained on every row: the losses are compared, not
    # the defaults' early-stopped ensemble
    "n_members": 1,
    "early_stopping": False,
}
makers = {
    "CE": lambda seed: SCoRClassifier(alpha=0.0, random_state=seed, **common),
    "MR²": lambda seed: MR2Classifier(random_state=seed, **common),
    "CE, balanced weights": lambda seed: SCoRClassifier(
        alpha=0.0, class_weight="balanced", random_state=seed, **common
    ),
}

# %%
# Three seeds each
# ----------------
# :func:`~skscor.metrics.class_disparity` gives every aggregate in one
# :class:`~skscor.metrics.DisparityReport`.
fitted, rows = {}, []
for name, make in makers.items():
    for seed in range(3):
        clf = make(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budget
            clf.fit(X_lt, y_lt)
        fitted[name, seed] = clf
        report = class_disparity(y_test, clf.predict(X_test))
        rows.append({"model": name, **report.summary})

pd.set_option("display.width", 200)
table = pd.DataFrame(rows).groupby("model", sort=False).agg(["mean", "std"])
print(table.T.round(3))

# %%
# MR²'s per-class temperatures
# ----------------------------
# The fitted loss keeps its moving averages of the feature statistics; the
# resulting :math:`\gamma_k` (one per class, mean one) are what divide the
# logits of each class's samples during training.
gamma = fitted["MR²", 0].net_.criterion_.class_gamma().numpy()
print("gamma_k by digit:", " ".join(f"{g:.3f}" for g in gamma))

# %%
# Per-class recall, seed 0
# ------------------------
# Classes run from frequent to rare (by training count); the dashed line is
# the mean recall, i.e. balanced accuracy.
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), sharey=True)
for ax, name in zip(axes, makers, strict=True):
    ClassRecallDisplay.from_estimator(
        fitted[name, 0], X_test, y_test, y_train=y_lt, name=name, ax=ax
    )
fig.tight_layout()

# %%
# What the numbers show
# ---------------------
# Plain cross-entropy leaves a clear gap: the two rarest digits, 8 and 9 (9
# and 6 training images), are recalled far worse than the head classes. MR²
# does not narrow it at this scale: its worst-class recall, recall spread and
# balanced accuracy are within the seed-to-seed spread of plain
# cross-entropy's. Its temperatures stay within about 5% of one (larger for
# the head classes, smaller for the tail), so its margins are mild here.
# Re-weighting the loss (``class_weight="balanced"``) does narrow the gap, a
# little but consistently across seeds. MR²'s published results are on large
# long-tailed image benchmarks with deep networks, a regime this example does
# not reach. Every skscor estimator accepts ``class_weight``, so the two can be
# combined (``MR2Classifier(class_weight="balanced")``).
plt.show()
