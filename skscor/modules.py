"""Network modules shipped with skscor (pure torch).

They live inside the package, not in user scripts, so that fitted estimators
unpickle in joblib and dask workers (a module class defined in ``__main__``
cannot be found there).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MLP", "CosineLinear", "last_linear"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
}


class CosineLinear(nn.Module):
    r"""Linear layer on normalized inputs and normalized weight rows.

    Outputs cosine similarities in ``[-1, 1]``, the classifier head that LDAM
    is defined with: :math:`z_c = \frac{w_c^\top h}{\|w_c\|\,\|h\|}`.

    Parameters
    ----------
    in_features : int
        Size of each input row.
    out_features : int
        Number of classes.

    Examples
    --------
    >>> import torch
    >>> from skscor.modules import CosineLinear
    >>> head = CosineLinear(4, 3)
    >>> out = head(torch.randn(5, 4))
    >>> bool(out.abs().max() <= 1.0 + 1e-6)
    True
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(F.normalize(input, dim=1), F.normalize(self.weight, dim=1))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class MLP(nn.Module):
    """Multi-layer perceptron: the default network of every skscor estimator.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : sequence of int, default=(100,)
        Width of each hidden layer; empty for a linear model.
    activation : {'relu', 'tanh', 'logistic', 'identity', 'gelu'}, default='relu'
        Hidden-layer nonlinearity (names as in ``MLPClassifier``).
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    head : {'linear', 'cosine'}, default='linear'
        Output layer: ``nn.Linear`` or :class:`CosineLinear` (for LDAM).

    Examples
    --------
    >>> import torch
    >>> from skscor.modules import MLP
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.randn(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        head: str = "linear",
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        if head not in ("linear", "cosine"):
            raise ValueError(f"head must be 'linear' or 'cosine', got {head!r}.")
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, int(size)))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(size)
        self.body = nn.Sequential(*layers)
        self.head = (
            nn.Linear(width, n_classes)
            if head == "linear"
            else CosineLinear(width, n_classes)
        )

    def forward(self, X: Tensor) -> Tensor:
        return self.head(self.body(X))


def last_linear(module: nn.Module) -> nn.Module | None:
    """Return the last ``nn.Linear`` or :class:`CosineLinear` in registration order.

    Its input is taken as the penultimate representation (used by MR²).

    Examples
    --------
    >>> from skscor.modules import MLP, last_linear
    >>> last_linear(MLP(4, 3, hidden_layer_sizes=(8,)))
    Linear(in_features=8, out_features=3, bias=True)
    """
    found = None
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, CosineLinear)):
            found = sub
    return found
