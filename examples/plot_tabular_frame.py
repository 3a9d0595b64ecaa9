"""
A raw DataFrame: strings, missing values and heavy tails
========================================================

Imbalanced tabular data (fraud, credit, churn) usually lives in a pandas
DataFrame with string columns, missing values and numbers on every scale.
skscor's estimators take such a frame as it is: they type its columns, scale
the numeric ones, encode the categorical ones and impute missing values
themselves, fitted on the training rows and stored in ``preprocessor_``. No
hand-built :class:`~sklearn.compose.ColumnTransformer` is needed. This example
fits :class:`~skscor.SCoRClassifier` on a simulated fraud table and looks at
what it did with each column. :doc:`/user_guide/tabular` covers every column
type.
"""

# %%
# A raw frame
# -----------
# 2,000 simulated card payments, about one in ten fraudulent. The columns are
# what a fraud table holds: the customer's ``city`` (a few levels, sometimes
# missing), the shop's ``zip`` code (40 codes, a few of them rare), a yearly
# ``income`` in euros with 10% missing, a heavy-tailed payment ``amount``,
# the customer's ``age`` as integers and whether the payment was made
# ``online``. Zip codes are labels, not quantities: they are kept as strings,
# so that they are typed as categorical.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skscor import SCoRClassifier
from skscor.metrics import class_disparity
from skscor.plotting import ClassRecallDisplay

rng = np.random.default_rng(0)
n = 2000
cities = np.array(["lyon", "marseille", "nantes", "paris", "toulouse"])
city = rng.choice(cities, n, p=[0.2, 0.15, 0.1, 0.4, 0.15]).astype(object)
city[rng.random(n) < 0.03] = None
zips = np.array([str(code) for code in range(75001, 75041)])
zip_share = 1 / np.arange(1, 41) ** 1.2
zip_code = rng.choice(zips, n, p=zip_share / zip_share.sum())
zip_risk = dict(zip(zips, rng.normal(0, 1.2, 40), strict=True))
income = rng.lognormal(np.log(40_000), 0.5, n)
amount = rng.pareto(1.5, n) * 100
age = rng.integers(18, 90, n)
online = rng.random(n) < 0.4

logit = (
    -4.3
    + 1.5 * (city == "marseille")
    - 0.8 * (city == "paris")
    + np.array([zip_risk[z] for z in zip_code])
    - 2.4 * np.log(income / 40_000)
    + 0.9 * np.log1p(amount / 100)
    + 0.03 * (age - 50)
    + 0.8 * online
)
y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "fraud", "legit")
income[rng.random(n) < 0.1] = np.nan

df = pd.DataFrame(
    {
        "city": city,
        "zip": zip_code,
        "income": income.round(-1),
        "amount": amount.round(2),
        "age": age,
        "online": online,
    }
)
print(df.head())
print(df.dtypes)
print(pd.Series(y).value_counts())

# %%
# Fit on the frame
# ----------------
# The frame goes straight into the estimator; 30% of the rows are held out
# (stratified) for the evaluation below. ``fit`` sees the strings, the NaN
# and the raw euros as they are.
#
# With 1,400 training rows, the network keeps lowering its training loss for
# all 200 epochs of the default budget while it overfits: it ends with a
# :class:`~sklearn.exceptions.ConvergenceWarning`, and on this split with a
# balanced accuracy near 0.69 instead of the 0.75 below. ``early_stopping=True``
# holds out 10% of the training rows (stratified) and stops when their
# class-balanced loss no longer improves: the honest way to end training here.
X_train, X_test, y_train, y_test = train_test_split(
    df, y, test_size=0.3, stratify=y, random_state=0
)
clf = SCoRClassifier(early_stopping=True, random_state=0)
clf.fit(X_train, y_train)
print(f"trained {clf.n_iter_} epochs; classes {clf.classes_.tolist()}")

# %%
# What became of each column
# --------------------------
# ``preprocessor_`` is the fitted input conditioning. ``encodings_`` says what
# it did with each column: the numeric ones are scaled robustly (median and
# interquartile range, smoothly clipped, so the euros and the heavy tail of
# ``amount`` need no care); ``online`` is a two-valued column and stays one
# 0/1 column; ``city`` has few levels and is one-hot encoded (its missing
# value is a level of its own); ``zip`` has more than 9 levels and gets a
# learned embedding in the network, with the zip codes seen in fewer than 5
# training rows pooled into one rare level. (``levels`` counts the levels
# seen at fit, the pooled ones included; 0 for a numeric column.)
pre = clf.preprocessor_
summary = pd.DataFrame(
    {
        "dtype": X_train.dtypes.astype(str),
        "categorical": pre.is_categorical_,
        "encoding": pre.encodings_,
        "levels": [0 if c is None else len(c) for c in pre.categories_],
        "pooled as rare": [0 if r is None else len(r) for r in pre.rare_categories_],
    },
    index=pre.feature_names_in_,
)
print(summary)

# %%
# The network's input: the numeric columns, a missing-value indicator for
# ``income``, the 0/1 and one-hot columns, then the zip codes as integer
# codes for the embedding (code 0 is reserved for codes unseen at fit).
print(pre.feature_names_out_)
print("embedding codes:", pre.embedding_cardinalities_)
print(clf.net_.module_.embeddings)

# %%
# Evaluate class by class
# -----------------------
# :func:`skscor.metrics.class_disparity` on the held-out rows: the recall of
# each class, the worst of them and balanced accuracy.
report = class_disparity(y_test, clf.predict(X_test))
print(report)

# %%
# A city never seen in training
# -----------------------------
# A level unseen at fit is no error at predict time. ``"bordeaux"`` gets
# ``city``'s reserved slot: all zeros in its one-hot columns. In a column with
# pooled rare levels an unseen level joins them: the zip code ``"75099"``
# gets the code of ``zip``'s rare level, the last one. The missing income is
# imputed by the training median (0 after scaling) and flagged in
# ``income_missing``, as in training.
new = pd.DataFrame(
    {
        "city": ["bordeaux", "paris"],
        "zip": ["75001", "75099"],
        "income": [np.nan, 25_000.0],
        "amount": [950.0, 12.5],
        "age": [34, 71],
        "online": [True, False],
    }
)
proba = clf.predict_proba(new)
print(pd.DataFrame(proba, columns=clf.classes_, index=new["city"]).round(3))
encoded = pre.transform(new)
print(
    pd.DataFrame(encoded.T, index=pre.feature_names_out_, columns=new["city"]).round(3)
)

# %%
# Per-class recall on the held-out rows, classes from frequent to rare (the
# dashed line is the balanced accuracy).
ClassRecallDisplay.from_estimator(
    clf, X_test, y_test, y_train=y_train, name="SCoR on the raw frame"
)
plt.show()

# %%
# No :class:`~sklearn.compose.ColumnTransformer` (a median imputer, a missing
# indicator and a scaler for the numeric columns, a one-hot encoder for the
# strings) had to be built by hand in front of the estimator, and the
# conditioning is part of the model: ``preprocessor_`` pickles with it and
# travels with ``save_weights``, so the frame at predict time is given as it
# is too, with the columns seen at fit.
