"""Network modules shipped with skscor (pure torch).

They live inside the package, not in user scripts, so that fitted estimators
unpickle in joblib and dask workers (a module class defined in ``__main__``
cannot be found there).
"""

from __future__ import annotations

import itertools
import math
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
    embeddings : sequence of int or of (int, int), default=()
        Learned embeddings of categorical columns. When given, the last
        ``len(embeddings)`` of the ``n_features`` input columns hold integer
        codes (as floats), one column per entry: its number of codes, or
        ``(n_codes, dim)``; with a number alone the width is
        ``min(8, round(1.6 * n_codes ** 0.56))``. Code 0 is the reserved
        code of levels unseen at fit: its vector is zero and not trained
        (``padding_idx=0``), and a code outside ``[0, n_codes)`` is read as
        0. The embedded vectors are concatenated after the leading
        ``n_features - len(embeddings)`` float columns, before the first
        hidden layer.
    periodic : bool, default=False
        Periodic embeddings of the leading float columns (PLR-lite,
        Gorishniy et al., NeurIPS 2022): column ``x_j`` also enters as
        ``relu(W [sin(2 pi c_j x_j), cos(2 pi c_j x_j)])``, with
        ``periodic_frequencies`` learned frequencies ``c_j`` per column,
        initialised from ``N(0, periodic_sigma^2)``, and one linear map
        ``W`` to ``periodic_dim`` dimensions shared by all columns. The
        embedded vectors are concatenated after the columns themselves.
    binary_columns : sequence of int, default=()
        With ``periodic``: leading float columns that hold 0/1 values (flags,
        one-hot and missing-indicator columns). The embedding of such a
        column takes two values only, at 0 (the same for every column:
        ``sin 0``, ``cos 0``) and at 1, so it is computed once per batch and
        interpolated, ``e(0) + x (e(1) - e(0))``, and folded into the first
        hidden layer (its weights on the column's embedding, ``B_j``, become
        a constant ``B_j e(0)`` and one weight ``B_j (e(1) - e(0))``). On
        0/1 inputs it is the same network, parameterised the same way
        (``body[0]`` holds the weights of the other inputs,
        ``binary_weight`` the blocks ``B_j``; for the same seed the same
        initial weights), but the first layer's product no longer reads
        ``periodic_dim`` inputs per 0/1 column: on a table whose columns are
        mostly one-hot, a network with the embeddings trains in about a
        quarter less time (SCoR; benchmarks/README.md). An input between 0 and 1 (a
        two-level category unseen at fit is 0.5) gets the interpolation.
        Without hidden layers there is nothing to fold into, and the
        columns are embedded like the others.
    periodic_frequencies : int, default=8
    periodic_dim : int, default=8
    periodic_sigma : float, default=1.0

    Attributes
    ----------
    n_dense : int
        Number of leading float input columns.
    embeddings : torch.nn.ModuleList
        One ``nn.Embedding`` per embedded column (empty without embeddings).
    frequencies : torch.nn.Parameter of shape (n_dense, periodic_frequencies)
        With ``periodic``: the learned frequencies ``c``.
    periodic_map : torch.nn.Linear or None
        With ``periodic``: the shared map ``W``.

    Examples
    --------
    >>> import torch
    >>> from skscor.modules import MLP
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.randn(2, 4)).shape
    torch.Size([2, 3])

    Two float columns and a categorical column with 12 codes (8-wide):

    >>> net = MLP(3, 2, hidden_layer_sizes=(8,), embeddings=[(12, 8)])
    >>> X = torch.tensor([[0.5, -1.0, 3.0], [0.1, 0.2, 11.0]])
    >>> net(X).shape, net.body[0].in_features
    (torch.Size([2, 2]), 10)

    Periodic embeddings of 4 float columns, 8 dimensions each, beside them:

    >>> net = MLP(4, 3, hidden_layer_sizes=(8,), periodic=True)
    >>> net(torch.randn(2, 4)).shape, net.body[0].in_features
    (torch.Size([2, 3]), 36)

    The same network, from the same seed, when the last two columns are 0/1
    flags, computed faster:

    >>> _ = torch.manual_seed(0)
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,), periodic=True)
    >>> _ = torch.manual_seed(0)
    >>> fast = MLP(4, 3, hidden_layer_sizes=(8,), periodic=True,
    ...            binary_columns=[2, 3])
    >>> X = torch.cat([torch.randn(5, 2), torch.randint(0, 2, (5, 2))], 1)
    >>> torch.allclose(fast(X), net(X), atol=1e-6)
    True
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        head: str = "linear",
        embeddings: Sequence[int | tuple[int, int]] = (),
        periodic: bool = False,
        binary_columns: Sequence[int] = (),
        periodic_frequencies: int = 8,
        periodic_dim: int = 8,
        periodic_sigma: float = 1.0,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        if head not in ("linear", "cosine"):
            raise ValueError(f"head must be 'linear' or 'cosine', got {head!r}.")
        specs = [_embedding_spec(e) for e in embeddings]
        self.n_dense = int(n_features) - len(specs)
        if self.n_dense < 0:
            raise ValueError(
                f"embeddings has {len(specs)} entries, more than the "
                f"{n_features} input features."
            )
        self.embeddings = nn.ModuleList(
            nn.Embedding(n_codes, dim, padding_idx=0) for n_codes, dim in specs
        )
        self.periodic_map = None
        binary = sorted(int(j) for j in binary_columns)
        if any(not 0 <= j < self.n_dense for j in binary) or len(set(binary)) < len(
            binary
        ):
            raise ValueError(
                f"binary_columns must be distinct indices in [0, {self.n_dense}) "
                f"(the leading float columns), got {list(binary_columns)}."
            )
        if periodic:
            if periodic_frequencies < 1 or periodic_dim < 1 or not periodic_sigma > 0:
                raise ValueError(
                    "periodic_frequencies and periodic_dim must be positive "
                    "integers and periodic_sigma a positive float."
                )
            self.frequencies = nn.Parameter(
                torch.randn(self.n_dense, int(periodic_frequencies))
                * float(periodic_sigma)
            )
            self.periodic_map = nn.Linear(
                2 * int(periodic_frequencies), int(periodic_dim)
            )
        layers: list[nn.Module] = []
        width = self.n_dense + sum(dim for _, dim in specs)
        # Folding the 0/1 columns needs a first nn.Linear before the head.
        fold = periodic and bool(binary) and len(hidden_layer_sizes) > 0
        # Not in the state_dict: the columns are an argument of the module.
        layout = self._binary_layout(binary if fold else [], width, int(periodic_dim))
        for name, value in layout.items():
            self.register_buffer(name, value, persistent=False)
        if periodic:
            width += self.n_dense * int(periodic_dim)
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, int(size)))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(size)
        self.binary_weight = None
        if fold:
            # The unfolded first layer, drawn as without binary_columns (same
            # initial network for the same seed), split in two: the weights
            # of the other inputs stay an nn.Linear, the 0/1 columns' blocks
            # become binary_weight.
            full = layers[0]
            with torch.random.fork_rng(devices=[]):  # its draws are overwritten
                layers[0] = nn.Linear(len(self.main_inputs), full.out_features)
            with torch.no_grad():
                layers[0].weight.copy_(full.weight[:, self.main_inputs])
                layers[0].bias.copy_(full.bias)
            # (column, unit, dimension): one batched product per forward
            self.binary_weight = nn.Parameter(
                full.weight.detach()[:, self.binary_inputs]
                .reshape(full.out_features, len(binary), int(periodic_dim))
                .permute(1, 0, 2)
                .contiguous()
            )
        self.body = nn.Sequential(*layers)
        self.head = (
            nn.Linear(width, n_classes)
            if head == "linear"
            else CosineLinear(width, n_classes)
        )

    def _binary_layout(self, binary: list[int], base: int, dim: int) -> dict:
        """Index buffers of the 0/1 columns and of the first layer's inputs.

        ``base``: the first layer's input columns before the periodic block
        (dense columns, categorical embeddings); column ``j``'s embedding
        follows at ``base + j * dim`` in the unfolded layer.
        ``main_inputs`` / ``binary_inputs``: the unfolded layer's columns
        that the folded one reads from its input / from ``binary_weight``.
        """
        names = ("binary_index", "other_index", "main_inputs", "binary_inputs")
        if not binary:
            return dict.fromkeys(names)
        other = [j for j in range(self.n_dense) if j not in set(binary)]

        def block(cols):
            return [base + j * dim + k for j in cols for k in range(dim)]

        values = (binary, other, list(range(base)) + block(other), block(binary))
        pairs = zip(names, values, strict=True)
        return {n: torch.tensor(v, dtype=torch.long) for n, v in pairs}

    def _periodic_embed(self, x: Tensor, frequencies: Tensor) -> Tensor:
        """``relu(W [sin(2 pi c x), cos(2 pi c x)])`` per row and column."""
        angle = (2 * math.pi) * x[..., None] * frequencies
        return torch.relu(
            self.periodic_map(torch.cat([angle.sin(), angle.cos()], dim=-1))
        )

    def forward(self, X: Tensor) -> Tensor:
        if self.binary_index is not None:
            return self._forward_folded(X)
        periodic = None
        if self.periodic_map is not None:
            periodic = self._periodic_embed(X[:, : self.n_dense], self.frequencies)
            periodic = periodic.flatten(1)
        if len(self.embeddings):
            X = self._embed(X)
        if periodic is not None:
            X = torch.cat([X, periodic], dim=1)
        return self.head(self.body(X))

    def _forward_folded(self, X: Tensor) -> Tensor:
        """The forward pass with the 0/1 columns folded into the first layer.

        A 0/1 column's embedding is ``e0 + x (e1_j - e0)`` (``e0`` the same
        for every column), so its block ``B_j`` of the first layer's weights
        adds ``B_j e0 + x B_j (e1_j - e0)``: a constant and one weight per
        column, computed once per batch. The first layer's matrix product
        reads only the other inputs, as wide as without the 0/1 columns'
        embeddings.
        """
        dense = X[:, : self.n_dense]
        other = self._periodic_embed(
            dense[:, self.other_index], self.frequencies[self.other_index]
        ).flatten(1)
        freq = self.frequencies[self.binary_index]
        e0 = self._periodic_embed(torch.zeros_like(freq[:1, 0]), freq[:1])
        e1 = self._periodic_embed(torch.ones_like(freq[:, 0]), freq)
        inputs = self._embed(X) if len(self.embeddings) else dense
        first = self.body[0]
        # B_j (e1_j - e0) and B_j e0 for every column j in one product
        both = torch.bmm(
            self.binary_weight, torch.stack([e1 - e0, e0.expand_as(e1)], dim=-1)
        )
        # The slopes join the weights the first layer already has on the
        # 0/1 columns themselves (the leading inputs): no gather of them.
        weight = first.weight.index_add(1, self.binary_index, both[..., 0].T)
        bias = first.bias + both[..., 1].sum(dim=0)
        out = F.linear(torch.cat([inputs, other], dim=1), weight, bias)
        for layer in itertools.islice(self.body, 1, None):
            out = layer(out)
        return self.head(out)

    def forward_stacked(self, params: dict, X: Tensor) -> tuple[Tensor, Tensor]:
        """The forward pass of ``k`` networks of this architecture at once.

        ``params`` maps each of this module's parameter names to the ``k``
        networks' values stacked along a new first dimension; ``X`` holds
        each network's batch, shape ``(k, n_rows, n_features)``. Returns the
        logits, ``(k, n_rows, n_classes)``, and the head's input (the
        penultimate features), ``(k, n_rows, width)``. Network ``i``'s slice
        is this module's ``forward`` with ``params[name][i]`` as its
        parameters (the same values and gradients up to float rounding), in
        one batched product per layer: the ensemble's members trained in
        lockstep (``skscor._lockstep``). Dropout draws its own mask per
        network and row.

        Examples
        --------
        >>> import torch
        >>> from skscor.modules import MLP
        >>> nets = [MLP(4, 3, hidden_layer_sizes=(8,)) for _ in range(2)]
        >>> params = {
        ...     name: torch.stack([dict(n.named_parameters())[name] for n in nets])
        ...     for name, _ in nets[0].named_parameters()
        ... }
        >>> X = torch.randn(2, 5, 4)
        >>> logits, features = nets[0].forward_stacked(params, X)
        >>> logits.shape, features.shape
        (torch.Size([2, 5, 3]), torch.Size([2, 5, 8]))
        >>> torch.allclose(logits[1], nets[1](X[1]), atol=1e-6)
        True
        """
        p = params
        if self.binary_index is not None:
            out = self._first_folded_stacked(p, X)
            start = 2  # the first Linear and its activation: done
        else:
            inputs = X[..., : self.n_dense]
            if len(self.embeddings):
                inputs = self._embed_stacked(p, X)
            if self.periodic_map is not None:
                periodic = self._periodic_stacked(
                    p, X[..., : self.n_dense], p["frequencies"]
                )
                inputs = torch.cat([inputs, periodic.flatten(2)], dim=-1)
            out, start = inputs, 0
        for i, layer in enumerate(self.body):
            if i < start:
                continue
            if isinstance(layer, nn.Linear):
                out = _linear_stacked(out, p[f"body.{i}.weight"], p[f"body.{i}.bias"])
            else:
                out = layer(out)  # activation or dropout: elementwise
        if isinstance(self.head, CosineLinear):
            weight = F.normalize(p["head.weight"], dim=-1)
            return torch.matmul(F.normalize(out, dim=-1), weight.mT), out
        return _linear_stacked(out, p["head.weight"], p["head.bias"]), out

    def _periodic_stacked(self, p: dict, x: Tensor, frequencies: Tensor) -> Tensor:
        """``_periodic_embed`` of ``k`` networks: ``x`` ``(k, rows, n)``,
        ``frequencies`` ``(k, n, F)``; returns ``(k, rows, n, periodic_dim)``."""
        angle = (2 * math.pi) * x[..., None] * frequencies[:, None]
        z = torch.cat([angle.sin(), angle.cos()], dim=-1)
        k, rows, n, width = z.shape
        # one product per network over all (row, column) pairs: a broadcast
        # matmul would run k * rows tiny ones (sizes spelled out: with no
        # column left beside the folded 0/1 ones, rows * n is 0)
        out = _linear_stacked(
            z.reshape(k, rows * n, width),
            p["periodic_map.weight"],
            p["periodic_map.bias"],
        )
        return torch.relu(out).reshape(k, rows, n, out.shape[-1])

    def _first_folded_stacked(self, p: dict, X: Tensor) -> Tensor:
        """``_forward_folded``'s first layer and its activation, ``k`` networks."""
        dense = X[..., : self.n_dense]
        freq = p["frequencies"]
        other = self._periodic_stacked(
            p, dense[..., self.other_index], freq[:, self.other_index]
        ).flatten(2)
        k = X.shape[0]
        fb = freq[:, self.binary_index]
        e0 = self._periodic_stacked(p, X.new_zeros(k, 1, 1), fb[:, :1])[:, 0]
        e1 = self._periodic_stacked(p, X.new_ones(k, 1, fb.shape[1]), fb)[:, 0]
        # (k, n_binary, D, 2) -> B_j (e1_j - e0) and B_j e0: (k, n_binary, H, 2)
        both = torch.matmul(
            p["binary_weight"], torch.stack([e1 - e0, e0.expand_as(e1)], dim=-1)
        )
        weight = p["body.0.weight"].index_add(
            2, self.binary_index, both[..., 0].transpose(1, 2)
        )
        bias = p["body.0.bias"] + both[..., 1].sum(dim=1)
        inputs = self._embed_stacked(p, X) if len(self.embeddings) else dense
        out = _linear_stacked(torch.cat([inputs, other], dim=-1), weight, bias)
        return self.body[1](out)

    def _embed_stacked(self, p: dict, X: Tensor) -> Tensor:
        """``_embed`` of ``k`` networks (code 0's vector stays zero and
        untrained: its rows are masked, as ``padding_idx`` does)."""
        codes = X[..., self.n_dense :].long()
        parts = [X[..., : self.n_dense]]
        members = torch.arange(X.shape[0], device=X.device)[:, None]
        for j, table in enumerate(self.embeddings):
            code = codes[..., j]
            code = code.masked_fill((code < 0) | (code >= table.num_embeddings), 0)
            vectors = p[f"embeddings.{j}.weight"][members, code]
            parts.append((vectors * (code != 0)[..., None]).to(X.dtype))
        return torch.cat(parts, dim=-1)

    def _embed(self, X: Tensor) -> Tensor:
        codes = X[:, self.n_dense :].long()
        parts = [X[:, : self.n_dense]]
        for j, table in enumerate(self.embeddings):
            code = codes[:, j]
            # out of range (or NaN, cast to a huge negative): the reserved 0
            code = code.masked_fill((code < 0) | (code >= table.num_embeddings), 0)
            parts.append(table(code).to(X.dtype))
        return torch.cat(parts, dim=1)


def _linear_stacked(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """``F.linear`` of ``k`` networks: ``x`` ``(k, rows, in)``, ``weight``
    ``(k, out, in)``, ``bias`` ``(k, out)``."""
    return torch.baddbmm(bias[:, None], x, weight.mT)


def _embedding_dim(n_codes: int, max_dim: int = 8) -> int:
    """Width of an embedding with ``n_codes`` codes.

    fastai's rule ``round(1.6 * n_codes ** 0.56)`` capped at ``max_dim``: 6 to
    8 dimensions for the 10 to 20 codes just above the one-hot threshold.

    Examples
    --------
    >>> from skscor.modules import _embedding_dim
    >>> [_embedding_dim(n) for n in (2, 11, 16, 1000)]
    [2, 6, 8, 8]
    """
    return int(max(1, min(max_dim, round(1.6 * n_codes**0.56))))


def _embedding_spec(entry) -> tuple[int, int]:
    """``(n_codes, dim)`` of one ``embeddings`` entry."""
    if isinstance(entry, Sequence) or hasattr(entry, "__len__"):
        if len(entry) != 2:
            raise ValueError(
                f"an embeddings entry is n_codes or (n_codes, dim), got {entry!r}."
            )
        n_codes, dim = (int(v) for v in entry)
    else:
        n_codes = int(entry)
        dim = _embedding_dim(n_codes)
    if n_codes < 1 or dim < 1:
        raise ValueError(
            f"an embedding needs n_codes >= 1 and dim >= 1, got ({n_codes}, {dim})."
        )
    return n_codes, dim


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
