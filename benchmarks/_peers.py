"""Benchmark-only peers: the models a practitioner would pick instead of skscor.

Each entry of :data:`PEERS` is ``name -> (description, factory(cfg, seed, epochs,
batch_size))``; the quality benchmark and the defaults study take their peers
from here. These libraries (and LightGBM or pytabkit when they join) are never
dependencies of the package.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from skscor.modules import MLP


class SkorchCE:
    """A plain skorch NeuralNetClassifier: same MLP, Adam, cross-entropy.

    skorch's own data path (a DataLoader over rows, shuffled) and the same
    stopping rule as the others (training loss not improved by 1e-4 for 10
    epochs).
    """

    def __init__(self, hidden, epochs, batch_size, seed):
        self.hidden, self.epochs = hidden, epochs
        self.batch_size, self.seed = batch_size, seed

    def fit(self, X, y):
        from skorch import NeuralNetClassifier
        from skorch.callbacks import EarlyStopping

        n_classes = int(y.max()) + 1
        self.net_ = NeuralNetClassifier(
            MLP,
            module__n_features=X.shape[1],
            module__n_classes=n_classes,
            module__hidden_layer_sizes=self.hidden,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=[
                EarlyStopping(
                    monitor="train_loss",
                    patience=10,
                    threshold=1e-4,
                    threshold_mode="abs",
                    load_best=False,
                    sink=lambda *a: None,
                )
            ],
            device="cpu",
            verbose=0,
        )
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.net_.fit(X.astype(np.float32), y.astype(np.int64))
        self.n_iter_ = len(self.net_.history)
        return self

    def predict(self, X):
        return self.net_.predict(X.astype(np.float32))

    @property
    def module_(self):
        return self.net_.module_


# Peers from scikit-learn, imbalanced-learn and skorch: name -> (description,
# factory(cfg, seed, epochs, batch_size)). Registry names are lower case with
# '+' for a modification; peers follow the same style.
def _logreg(cfg, seed, epochs, batch):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(class_weight="balanced", max_iter=2000)


def _balanced_rf(cfg, seed, epochs, batch):
    from imblearn.ensemble import BalancedRandomForestClassifier

    return BalancedRandomForestClassifier(
        n_estimators=cfg["brf_trees"], random_state=seed, n_jobs=1
    )


def _hgb(cfg, seed, epochs, batch):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        class_weight="balanced", max_iter=cfg["hgb_max_iter"], random_state=seed
    )


def _lgbm(cfg, seed, epochs, batch):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        class_weight="balanced", random_state=seed, verbose=-1, n_jobs=1
    )


def _sklearn_mlp(cfg, seed, epochs, batch):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=cfg["hidden"],
        max_iter=epochs,
        batch_size=batch,
        random_state=seed,
    )


def _skorch_ce(cfg, seed, epochs, batch):
    return SkorchCE(cfg["hidden"], epochs, batch, seed)


PEERS = {
    "logreg+balanced": (
        "LogisticRegression(class_weight='balanced', max_iter=2000)",
        _logreg,
    ),
    "balanced-rf": (
        "imblearn BalancedRandomForestClassifier (trees: see the settings)",
        _balanced_rf,
    ),
    "hgb+balanced": (
        "HistGradientBoostingClassifier(class_weight='balanced') (boosting "
        "rounds: see the settings)",
        _hgb,
    ),
    "sklearn-mlp": (
        "sklearn MLPClassifier, the shared network and budget",
        _sklearn_mlp,
    ),
    "skorch-ce": ("plain skorch NeuralNetClassifier with cross-entropy", _skorch_ce),
}
# LightGBM only where it is installed (a benchmark-only dependency; the test
# environment lacks it, and the quality benchmark runs every peer by default)
if importlib.util.find_spec("lightgbm") is not None:
    PEERS["lgbm+balanced"] = (
        "LightGBM LGBMClassifier(class_weight='balanced', n_jobs=1) at its "
        "defaults (benchmark-only dependency)",
        _lgbm,
    )
