"""
Quickstart: fit, evaluate per class, save
=========================================

:class:`~skscor.SCoRClassifier` is an ordinary scikit-learn classifier that
trains a small torch network. This example fits it on scikit-learn's digits
with one class cut to a tenth of its rows, evaluates it class by class on a
balanced test set, and saves it both ways skscor supports.
"""

# %%
# Imbalanced data
# ---------------
# :func:`~skscor.datasets.load_imbalanced_digits` keeps 50 test images per
# digit (a balanced test set) and cuts the training rows of digit 3 by a
# factor of 10, the protocol of the SCoR paper.
import io
import pickle

import matplotlib.pyplot as plt
import numpy as np

from skscor import SCoRClassifier
from skscor.datasets import load_imbalanced_digits
from skscor.metrics import class_disparity
from skscor.plotting import ClassRecallDisplay

data = load_imbalanced_digits(reduced_class=3, factor=10, random_state=0)
print("training rows per digit:", np.bincount(data.y_train).tolist())
print("test rows per digit:    ", np.bincount(data.y_test).tolist())

# %%
# Fit
# ---
# The parameters follow :class:`~sklearn.neural_network.MLPClassifier`
# (``hidden_layer_sizes``, ``max_iter`` in epochs, ``batch_size``, ...);
# ``alpha`` is SCoR's own. ``random_state`` seeds initialization, shuffling,
# the held-out splits and SCoR's random split, so this run is reproducible on
# a CPU.
#
# By default the estimator trains five networks, each early-stopped on its
# own held-out fifth of every class (the folds of a stratified 5-fold) and
# restored to its best epoch, and averages their probabilities: the ensemble
# trains on every row, and each row's out-of-fold prediction gives an honest
# balanced accuracy for free (``best_validation_score_``).
clf = SCoRClassifier(
    alpha=1e-4,
    hidden_layer_sizes=(64,),
    batch_size=64,
    random_state=0,
)
clf.fit(data.X_train, data.y_train)
print(
    f"{len(clf.members_)} members, at most {clf.n_iter_} epochs each; "
    f"out-of-fold balanced accuracy {clf.best_validation_score_:.3f}"
)

# %%
# Evaluate class by class
# -----------------------
# Accuracy hides what happens to a rare class. :func:`skscor.metrics.class_disparity`
# reports every class's recall together with worst-class recall, recall spread,
# balanced accuracy, macro-F1 and the geometric mean.
report = class_disparity(data.y_test, clf.predict(data.X_test))
print(report)

# %%
# The reduced digit 3, with 13 training images against about 130 for the
# others, is the worst class by a wide margin while every other digit is
# recalled almost perfectly: that gap, not the overall accuracy, is what the
# methods in skscor target. The other examples compare them on it.

# %%
# The fitted estimator also carries ``disparity_report_``, computed at the end
# of ``fit`` on the members' out-of-fold predictions (rows each member did not
# train on), and ``spectral_report_``, the singular values of the first
# member's weight matrices.
print("out-of-fold worst-class recall:", clf.disparity_report_.worst_class_recall)
print(clf.spectral_report_)

# %%
# Plots: the first member's loss curve and the per-class recall on the test set, classes
# ordered from frequent to rare by their training counts.
fig, (ax_loss, ax_recall) = plt.subplots(
    1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 2]}
)
ax_loss.plot(np.arange(1, len(clf.loss_curve_) + 1), clf.loss_curve_)
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (first member)")
ClassRecallDisplay.from_estimator(
    clf, data.X_test, data.y_test, y_train=data.y_train, name="SCoR", ax=ax_recall
)
fig.tight_layout()

# %%
# Save and load
# -------------
# A fitted estimator pickles (and therefore works with joblib, dask and
# ``GridSearchCV(n_jobs=...)``). ``save_weights`` writes only tensors and
# plain values, which ``load_weights`` reads with
# ``torch.load(weights_only=True)``: loading such a file cannot run code,
# unlike unpickling. Load into an estimator built with the same
# hyperparameters.
restored = pickle.loads(pickle.dumps(clf))

buffer = io.BytesIO()  # or a path such as "scor.pt"
clf.save_weights(buffer)
buffer.seek(0)
from_weights = SCoRClassifier(hidden_layer_sizes=(64,)).load_weights(buffer)

same = [
    np.array_equal(model.predict(data.X_test), clf.predict(data.X_test))
    for model in (restored, from_weights)
]
print("same predictions after pickle / after load_weights:", same)
