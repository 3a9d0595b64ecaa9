"""The probes' own mechanics, checked against their definitions.

A probe's records are quoted in benchmarks/README.md, so what it computes
must be what it says. These tests touch no global state: the probes patch
skscor only in their ``main``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.probes import balanced_sampling, piecewise_linear
from skscor.losses import ClassWeighted, CrossEntropyLoss


def _ple_reference(x, edges):
    """Gorishniy et al. (2022), eq. for PLE: bin t of T, the first bin
    unclipped below, the last unclipped above."""
    T = len(edges) - 1
    out = np.empty((len(x), T))
    for t in range(T):
        r = (x - edges[t]) / (edges[t + 1] - edges[t])
        lo = -np.inf if t == 0 else 0.0
        hi = np.inf if t == T - 1 else 1.0
        out[:, t] = np.clip(r, lo, hi)
    return out


def test_piecewise_linear_encoding_matches_its_definition(monkeypatch):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.standard_normal(400), rng.integers(0, 2, 400)])
    X[:, 0] = np.exp(X[:, 0])  # skewed: bins of unequal width
    monkeypatch.setitem(piecewise_linear._CURRENT, "X", X)
    net = piecewise_linear.make_ple_mlp(4, "always")(2, 2, binary_columns=[1])
    edges = piecewise_linear.quantile_edges(X[:, 0], 4)
    assert net.n_ple == 4  # the 0/1 column is not encoded
    seen = {}
    monkeypatch.setattr(
        piecewise_linear.MLP,
        "forward",
        lambda self, Z: seen.setdefault("Z", Z) @ torch.zeros(Z.shape[1], 2),
    )
    x = np.array([-3.0, 0.1, 1.0, 2.5, 50.0])
    Z = torch.tensor(np.column_stack([x, np.ones(5)]), dtype=torch.float32)
    net(Z)
    # the encoding follows the dense columns, which pass as they are
    got = seen["Z"][:, 2:6].numpy()
    np.testing.assert_allclose(got, _ple_reference(x, edges), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(seen["Z"][:, :2].numpy(), Z.numpy())


def test_balanced_sampling_draws_by_class_weight_and_unweights_the_loss(monkeypatch):
    y = torch.tensor([0] * 95 + [1] * 5)
    crit = ClassWeighted(CrossEntropyLoss(), 2)
    crit.set_class_weight([100 / 190, 100 / 10])

    class Net:
        criterion_ = crit

    hook = balanced_sampling.SampleByWeight(y, power=1.0)
    monkeypatch.setattr(balanced_sampling, "_STATE", {})
    hook.on_epoch_begin(Net, {})
    assert not crit.weighted  # the weights moved into the draw
    g = torch.Generator().manual_seed(0)
    idx = balanced_sampling._Torch().randperm(100, generator=g)
    assert idx.shape == (100,)
    draws = torch.cat([
        balanced_sampling._Torch().randperm(100, generator=g) for _ in range(200)
    ])  # fmt: skip
    assert float(y[draws].float().mean()) == pytest.approx(0.5, abs=0.02)
    # a later epoch keeps drawing by the phase's weights
    hook.on_epoch_begin(Net, {})
    assert float(balanced_sampling._STATE["probs"][-1]) == pytest.approx(10.0)


def test_balanced_sampling_square_root_splits_the_weight(monkeypatch):
    y = torch.tensor([0] * 90 + [1] * 10)
    crit = ClassWeighted(CrossEntropyLoss(), 2)
    crit.set_class_weight([1.0, 9.0])

    class Net:
        criterion_ = crit

    monkeypatch.setattr(balanced_sampling, "_STATE", {})
    hook = balanced_sampling.SampleByWeight(y, power=0.5)
    for _ in range(2):  # the loss weight it writes is not taken for a new phase
        hook.on_epoch_begin(Net, {})
        np.testing.assert_allclose(crit.class_weight.numpy(), [1.0, 3.0])
        assert float(balanced_sampling._STATE["probs"][-1]) == pytest.approx(3.0)


def test_front_scale_is_a_fast_diagonal_scale_of_the_first_layer():
    from benchmarks.probes import front_scale
    from skscor.modules import MLP

    torch.manual_seed(0)
    plain = MLP(5, 3, hidden_layer_sizes=(7,))
    torch.manual_seed(0)
    net = front_scale.scaled_mlp(30.0)(5, 3, hidden_layer_sizes=(7,))
    X = torch.randn(11, 5)
    # it starts as the default network (s = 1) ...
    torch.testing.assert_close(net(X), plain(X))
    # ... and its first layer reads W diag(1 + K u)
    scale = net.body[0].parametrizations.weight[0]
    with torch.no_grad():
        scale.u.copy_(torch.linspace(-0.05, 0.05, 5))
        plain.body[0].weight.mul_(1 + 30.0 * scale.u)
    torch.testing.assert_close(net(X), plain(X))
    # under Adam the scale moves K times a plain parameter's step
    opt = torch.optim.Adam([scale.u], lr=1e-3)
    before = scale.u.detach().clone()
    net(X).sum().backward()
    opt.step()
    moved = (30.0 * (scale.u.detach() - before)).abs()
    torch.testing.assert_close(moved, torch.full((5,), 30e-3), rtol=1e-3, atol=0)


def test_data_bias_init_puts_every_kink_inside_the_rows():
    from benchmarks.probes import data_bias_init
    from skscor.modules import MLP

    torch.manual_seed(0)
    net = MLP(4, 2, hidden_layer_sizes=(16, 8))
    # rows far from the origin: PyTorch's small random biases leave every
    # first-layer unit on for all of them or off for all of them
    X = torch.randn(300, 4) * torch.tensor([1.0, 10.0, 0.1, 3.0]) + 50.0
    first, second = net.body[0], net.body[2]
    before = (first(X) > 0).float().mean(0)
    assert float(((before > 0) & (before < 1)).float().mean()) < 0.5
    data_bias_init._set_biases(net, X, torch.Generator().manual_seed(0))
    # the definition, layer by layer with the same draws: minus a convex
    # combination (flat Dirichlet weights) of five rows' pre-activations
    g = torch.Generator().manual_seed(0)
    for layer, inputs in [(first, X), (second, torch.relu(first(X)))]:
        z = inputs @ layer.weight.T  # pre-activations without the bias
        units = z.shape[1]
        rows = torch.randint(0, len(X), (units, 5), generator=g)
        w = torch.empty(units, 5).exponential_(generator=g)
        w /= w.sum(1, keepdim=True)
        expected = -(z[rows, torch.arange(units)[:, None]] * w).sum(1)
        kink = -layer.bias.detach()
        torch.testing.assert_close(layer.bias.detach(), expected)
        # a convex combination of rows' pre-activations: within their range
        assert bool(((kink >= z.min(0).values) & (kink <= z.max(0).values)).all())
    # now each unit is on for some rows and off for others, or nearly so
    active = (first(X) > 0).float().mean(0)
    assert float(((active > 0) & (active < 1)).float().mean()) > 0.8


def test_tempered_weights_raise_the_requested_weights_to_the_power(monkeypatch):
    from benchmarks.probes import tempered_weights
    from skscor import _training

    monkeypatch.setattr(_training, "resolve_balance", _training.resolve_balance)
    mass = np.array([900.0, 100.0, 25.0])
    balanced = mass.sum() / (3 * mass)
    tempered_weights._install(0.5)
    got = _training.resolve_balance(mass, balanced, logit_adjustment="post-hoc")
    # weights proportional to n_k ** -0.5, scaled to mean one over the rows
    expected = mass**-0.5 * mass.sum() / (mass**0.5).sum()
    np.testing.assert_allclose(got.main.weight, expected)
    np.testing.assert_allclose(got.main.prior, mass**0.5 / (mass**0.5).sum())
    # no weights requested: none made up
    assert not _training.resolve_balance(mass, None).main.weighted


def test_mixup_step_trains_on_mixed_rows_with_the_mixed_loss(monkeypatch):
    from types import SimpleNamespace

    from benchmarks.probes import mixup
    from skscor.losses import BatchContext
    from skscor.modules import MLP

    torch.manual_seed(0)
    net = MLP(4, 3, hidden_layer_sizes=(5,), embeddings=[4])  # 3 dense + 1 code
    crit = ClassWeighted(CrossEntropyLoss(), 3)
    crit.set_class_weight([1.0, 2.0, 3.0])
    X = torch.cat(
        [torch.randn(6, 3), torch.tensor([[1.0], [2], [3], [1], [2], [3]])], 1
    )
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    fake = SimpleNamespace(
        module_=net, criterion_=crit, _params=list(net.parameters()),
        optimizer_=torch.optim.SGD(net.parameters(), lr=0.0),
        _ctx=BatchContext(generator=torch.Generator().manual_seed(3)),
    )  # fmt: skip
    monkeypatch.setattr(
        torch.distributions.Beta, "sample", lambda self: torch.tensor(0.3)
    )
    loss = mixup.mixed_step(0.2)(fake, X, y, None)
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(3))
    lam = 0.7  # max(0.3, 0.7): each mixed row stays closest to its own
    mixed = X.clone()
    mixed[:, :3] = lam * X[:, :3] + (1 - lam) * X[perm, :3]  # codes: row i's
    out = net(mixed)
    expected = lam * crit(out, y) + (1 - lam) * crit(out, y[perm])
    torch.testing.assert_close(loss, expected.detach())


def test_optimizer_kernels_probe_arms_reach_the_fit_and_restore(monkeypatch):
    from benchmarks.probes import optimizer_kernels as probe
    from skscor import SCoRClassifier, _training, _variants

    tiny = _variants.Variant(
        SCoRClassifier, {"hidden_layer_sizes": (4,), "max_iter": 2}, "tiny", "baseline"
    )
    monkeypatch.setitem(_variants.VARIANTS, "tiny", tiny)
    fitted = []

    def fit_and_score(est, *args):
        fitted.append(est.fit(*args[:2]))
        return {}

    monkeypatch.setattr(probe, "fit_and_score", fit_and_score)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    for fused in (False, True):
        probe._fit("tiny", X, y, X, y, 0, fused)
        group = fitted[-1].members_[0].optimizer_.param_groups[0]
        # the fused arm: what the estimators choose on this torch
        chosen = probe._CHOSEN({"foreach": True}, "cpu") if fused else {}
        assert bool(group.get("foreach")) is (not chosen.get("fused"))
        assert _training.optimizer_kernels is probe._CHOSEN  # restored


def test_offset_criterion_weights_define_what_the_offsets_maximise():
    from benchmarks.probes import offset_criterion
    from skscor import _decision

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(900, int), np.ones(150, int)]
    logits = np.column_stack([np.zeros(len(y)), rng.normal(-1.0 + 1.5 * y, 1.0)])
    # w = 1 is the estimator's own criterion, and the patch is undone
    original = _decision._criterion
    b1 = offset_criterion._tune(logits, y, 2, 1.0)
    assert _decision._criterion is original
    np.testing.assert_array_equal(b1, _decision.tune_offsets(logits, y, 2))
    r = np.array([[0.9, 0.5]])
    assert float(_decision._criterion(r)[0]) == pytest.approx(0.7 + 0.5)
    # each weight's offset is the grid's best for its own criterion
    for w in (0.0, 2.0):
        b = offset_criterion._tune(logits, y, 2, w)

        def score(shift, w=w):
            pred = np.argmax(logits + [0.0, shift], 1)
            bacc, worst = offset_criterion._scores(y, pred, 2)
            return bacc + w * worst

        best = max(score(g) for g in _decision.GRID)
        assert score(b[1]) == pytest.approx(best, abs=1e-12)
    from sklearn.metrics import balanced_accuracy_score, recall_score

    pred = (logits[:, 1] > 0).astype(int)
    bacc, worst = offset_criterion._scores(y, pred, 2)
    assert bacc == pytest.approx(balanced_accuracy_score(y, pred))
    assert worst == pytest.approx(recall_score(y, pred, average=None).min())


@pytest.mark.parametrize("n_classes", [2, 3])
def test_offset_variants_rules_against_their_definitions(n_classes):
    from benchmarks.probes import offset_variants
    from skscor import _decision

    rng = np.random.default_rng(1)
    counts = [700, 200, 150][:n_classes]
    y = np.concatenate([np.full(c, k) for k, c in enumerate(counts)])
    logits = rng.normal(size=(len(y), n_classes))
    logits[np.arange(len(y)), y] += 1.0
    logits[:, 0] += 0.7  # the majority favoured: offsets have work to do
    default = _decision.tune_offsets(logits, y, n_classes)
    assert np.any(default)
    rules = offset_variants.RULES
    np.testing.assert_array_equal(rules["default"](logits, y, n_classes), default)
    np.testing.assert_array_equal(rules["plain"](logits, y, n_classes), 0.0)
    np.testing.assert_array_equal(
        rules["shrink0.5"](logits, y, n_classes), 0.5 * default
    )
    # a window of zero width is the default; on two classes the smoothed
    # criterion is the grid's best of the window-averaged criterion
    np.testing.assert_array_equal(
        offset_variants.tune(logits, y, n_classes, smooth=0.0), default
    )
    if n_classes == 2:

        def criterion(shift, w):
            pred = np.argmax(logits + [0.0, shift], 1)
            r = np.array([np.mean(pred[y == c] == c) for c in range(2)])
            return r.mean() + w * r.min()

        grid = _decision.GRID
        raw = np.array([criterion(g, 1.0) for g in grid])
        window = np.convolve(np.pad(raw, 2, mode="edge"), np.ones(5) / 5, "valid")
        b = offset_variants.tune(logits, y, 2, smooth=0.1)
        assert window[np.flatnonzero(grid == b[1])[0]] == pytest.approx(window.max())
        wcr = rules["wcr"](logits, y, 2)
        best = max(criterion(g, 1e3) for g in grid)
        assert criterion(wcr[1], 1e3) == pytest.approx(best)
    # the bootstrap mean stays within the grid's range
    bag = offset_variants.bagged(logits, y, n_classes, draws=3)
    assert np.all(np.abs(bag) <= _decision.GRID.max())


def test_offset_variants_chooses_between_two_ensembles_on_their_held_out_rows(
    tmp_path,
):
    from benchmarks.probes import offset_variants

    rng = np.random.default_rng(2)
    y = np.r_[np.zeros(300, int), np.ones(120, int)]
    test_y = np.r_[np.zeros(100, int), np.ones(40, int)]

    def save(folder, name, sharpness, test_pred):
        folder.mkdir(exist_ok=True)
        z = rng.normal(size=(len(y), 2))
        z[np.arange(len(y)), y] += sharpness  # the better fit: lower loss
        oof = z - np.logaddexp(z[:, :1], z[:, 1:])
        test = np.zeros((len(test_y), 2))
        test[np.arange(len(test_y)), test_pred] = 1.0
        np.savez(
            folder / name, oof=oof, oof_y=y, test=test, test_y=test_y,
            chosen=np.zeros(2),
        )  # fmt: skip

    right, wrong = test_y, 1 - test_y
    # task a: the second fit's held-out loss is far lower (and its test
    # decisions right); task b: the two tie, so the first stays under 1se
    save(tmp_path / "one", "a-scor-0.npz", 0.0, wrong)
    save(tmp_path / "two", "a-scor-0.npz", 3.0, right)
    save(tmp_path / "one", "b-scor-0.npz", 1.0, wrong)
    save(tmp_path / "two", "b-scor-0.npz", 1.0, right)
    res = offset_variants._choices(tmp_path / "one", tmp_path / "two")
    assert res[("scor", "first")]["a"] == [(0.0, 0.0)]
    assert res[("scor", "second")]["a"] == [(1.0, 1.0)]
    assert res[("scor", "lower")]["a"] == [(1.0, 1.0)]
    assert res[("scor", "1se")]["a"] == [(1.0, 1.0)]
    assert res[("scor", "1se")]["b"] == [(0.0, 0.0)]


def test_cut_minority_reaches_the_natural_benchmark_or_is_refused(monkeypatch, capsys):
    # --cut-minority is passed on to `benchmarks.natural` by the probes that
    # run it, and refused where it would be ignored (the quality tasks)
    from benchmarks import natural
    from benchmarks.probes import params
    from skscor import _variants

    # the probe registers its variant: on a copy of the registry
    monkeypatch.setattr(_variants, "VARIANTS", dict(_variants.VARIANTS))
    seen = []
    monkeypatch.setattr(natural, "main", lambda argv: seen.append(argv))
    argv = ["--set", "alpha=0.01", "--suffix", "x", "--out", "f.jsonl"]
    params.main([*argv, "--cut-minority", "8"])
    assert seen[-1][-2:] == ["--cut-minority", "8"]
    params.main(argv)
    assert "--cut-minority" not in seen[-1]
    with pytest.raises(SystemExit):
        params.main([*argv, "--bench", "defaults_study", "--cut-minority", "8"])
    assert "--cut-minority applies to --bench natural only" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    [
        "balanced_sampling",
        "data_bias_init",
        "front_scale",
        "linear_skip",
        "mixup",
        "piecewise_linear",
        "weight_averaging",
    ],
)
def test_probes_that_patch_the_network_reach_every_member(name, monkeypatch):
    # The lockstep trains the members through MLP.forward_stacked and its own
    # fused step, so a probe that replaces the network's forward or the net's
    # step must train the members one by one (each through _SkNet.run), or
    # its records are the defaults' for every member after the first.
    import importlib

    from benchmarks import natural
    from skscor import SCoRClassifier, _net, _training, _variants

    probe = importlib.import_module(f"benchmarks.probes.{name}")
    # everything the probes patch comes back after the test
    mixin = _training._TrainingMixin
    for owner, attr in [
        (_training, "MLP"),
        (_net, "torch"),
        (mixin, "_lockstep"),
        (mixin, "_train"),
        (mixin, "_train_members"),
        (mixin, "_choose_embedding"),
        *[(_net._SkNet, a) for a in ("run", "validation_scores", "_begin_epoch",
                                     "__getstate__", "_step")],
        (_net._SAMNet, "_begin_epoch"),
        (_net._SAMNet, "_step"),
    ]:  # fmt: skip
        monkeypatch.setattr(owner, attr, getattr(owner, attr))
    monkeypatch.setattr(_variants, "VARIANTS", dict(_variants.VARIANTS))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(120) > 0.8).astype(int)
    runs = []

    def fit_instead(argv):
        run = _net._SkNet.run

        def counted(net, *args, **kwargs):
            runs.append(net)
            return run(net, *args, **kwargs)

        monkeypatch.setattr(_net._SkNet, "run", counted)
        SCoRClassifier(
            n_members=3, max_iter=3, numeric_embedding=None, random_state=0
        ).fit(X, y)

    monkeypatch.setattr(natural, "main", fit_instead)
    probe.main(["--tasks", "default", "--out", "unused.jsonl"])
    assert len(runs) == 3
