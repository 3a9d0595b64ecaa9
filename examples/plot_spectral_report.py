"""
Weight spectra of cross-entropy and SCoR
========================================

The SCoR paper analyses the singular values of the learned weight matrices and
reports that its covariance regularizer lowers the minimum singular values,
which it links to better generalization on imbalanced data. Every fitted skscor
estimator carries this analysis in ``spectral_report_``
(:class:`~skscor.spectral.SpectralReport`), and
:class:`~skscor.plotting.SpectrumDisplay` draws it. This example compares plain
cross-entropy (``SCoRClassifier(alpha=0)``, which is exactly CE) with SCoR at
its default ``alpha=1e-4`` over three seeds on digits with digit 3 cut to a
tenth.
"""

# %%
# Fit both models for three seeds
# -------------------------------
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score, recall_score

from skscor import SCoRClassifier
from skscor.datasets import load_imbalanced_digits
from skscor.plotting import SpectrumDisplay

data = load_imbalanced_digits(reduced_class=3, factor=10, random_state=0)

models, rows = {}, []
for name, alpha in [("CE", 0.0), ("SCoR", 1e-4)]:
    for seed in range(3):
        clf = SCoRClassifier(
            alpha=alpha,
            hidden_layer_sizes=(64, 128),
            max_iter=30,
            batch_size=64,
            # one network trained for the budget, as in the paper (the
            # default trains five early-stopped members)
            n_members=1,
            early_stopping=False,
            random_state=seed,
        )
        with warnings.catch_warnings():
            # a fixed 30-epoch budget, as in the paper's protocol
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(data.X_train, data.y_train)
        models[name, seed] = clf
        pred = clf.predict(data.X_test)
        row = {
            "method": name,
            "seed": seed,
            "balanced acc": balanced_accuracy_score(data.y_test, pred),
            "recall of 3": recall_score(data.y_test, pred, average=None)[3],
        }
        for layer in clf.spectral_report_:
            row[f"σ_min {layer.name}"] = layer.sigma_min
            row[f"σ_max {layer.name}"] = layer.sigma_max
        rows.append(row)

results = pd.DataFrame(rows)

# %%
# One fitted report
# -----------------
# The report lists every weight matrix (biases are skipped) with its rank,
# extreme singular values, condition number, stable rank and effective rank.
print(models["SCoR", 0].spectral_report_)

# %%
# Mean over the three seeds
# -------------------------
pd.set_option("display.width", 200)
summary = results.drop(columns="seed").groupby("method").agg(["mean", "std"])
print(summary.T.round(3))

# %%
# The singular values of every layer, seed 0
# ------------------------------------------
disp = SpectrumDisplay.from_estimator(
    [models["CE", 0], models["SCoR", 0]], names=["CE", "SCoR (alpha=1e-4)"]
)

# %%
# What the numbers show
# ---------------------
# At this scale (an MLP with about 14,000 weights, 30 epochs, 1,177 training
# images), SCoR clearly and consistently *shrinks the largest* singular value
# of every layer, the classifier head most of all. Its effect on the *smallest*
# singular values, the quantity of the paper's claim, is small and within the
# seed-to-seed spread here, so this run neither confirms nor refutes it. The
# recall of the reduced digit is lower with SCoR than with plain
# cross-entropy, and balanced accuracy slightly lower: at this scale SCoR does
# not help the minority class (``python -m skscor demo`` shows the same over
# five seeds). The paper's gains are on larger image data sets and networks;
# treat ``alpha`` as a hyperparameter to tune, with ``alpha=0`` in the grid.
#
# Note that the penalty :math:`\alpha\,\|A^\top B\|_F` is not divided by the
# batch size, so it grows with ``batch_size``: re-tune ``alpha`` when you
# change the batch size.
plt.show()
