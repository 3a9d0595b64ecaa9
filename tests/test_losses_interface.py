"""The loss interface: BatchContext, reductions, CrossEntropyLoss, ClassWeighted."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skscor.losses import (
    BatchContext,
    ClassWeighted,
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    Loss,
    MR2Loss,
    SCoRLoss,
    VSLoss,
    scor_penalty,
)

COUNTS = [50.0, 10.0, 2.0]


def _losses():
    return [
        CrossEntropyLoss(),
        SCoRLoss(),
        FocalLoss(),
        LDAMLoss(COUNTS),
        VSLoss(COUNTS),
        MR2Loss(3),
    ]


@pytest.mark.parametrize("loss", _losses(), ids=lambda m: type(m).__name__)
def test_every_loss_follows_the_interface(loss):
    assert isinstance(loss, Loss)
    assert loss.reduction == "mean"
    g = torch.Generator().manual_seed(0)
    z, y = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    ctx = BatchContext(generator=g, shuffled=True, features=torch.randn(6, 4))
    out = loss(z, y, sample_weight=torch.ones(6), context=ctx)
    assert out.ndim == 0 and torch.isfinite(out)


@pytest.mark.parametrize(
    "make",
    [
        lambda r: CrossEntropyLoss(reduction=r),
        lambda r: SCoRLoss(reduction=r),
        lambda r: FocalLoss(reduction=r),
        lambda r: LDAMLoss(COUNTS, reduction=r),
        lambda r: VSLoss(COUNTS, reduction=r),
        lambda r: MR2Loss(3, reduction=r),
    ],
)
def test_reduction_is_validated_in_init(make):
    with pytest.raises(ValueError, match="reduction"):
        make("average")


def test_scor_has_no_per_sample_reduction():
    with pytest.raises(ValueError, match="no reduction='none'"):
        SCoRLoss(reduction="none")


def test_scor_sum_reduction_matches_definition():
    z, y = torch.randn(8, 3, dtype=torch.float64), torch.randint(0, 3, (8,))
    w = torch.rand(8, dtype=torch.float64)
    ctx = BatchContext(shuffled=True)  # the halves as they come
    got = SCoRLoss(alpha=0.3, reduction="sum")(z, y, sample_weight=w, context=ctx)
    ce = (F.cross_entropy(z, y, reduction="none") * w).sum()
    expected = ce + 0.3 * scor_penalty(z, permute=False)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_loss_equals_torch_value_and_gradient(dtype):
    g = torch.Generator().manual_seed(1)
    z = torch.randn(16, 4, dtype=dtype, generator=g, requires_grad=True)
    y = torch.randint(0, 4, (16,), generator=g)
    ours = CrossEntropyLoss(label_smoothing=0.1)(z, y)
    (grad_ours,) = torch.autograd.grad(ours, z)
    ref = F.cross_entropy(z, y, label_smoothing=0.1)
    (grad_ref,) = torch.autograd.grad(ref, z)
    assert torch.equal(ours, ref) and torch.equal(grad_ours, grad_ref)
    w = torch.rand(16, dtype=dtype, generator=g)
    per = CrossEntropyLoss(reduction="none")(z, y, sample_weight=w)
    torch.testing.assert_close(per, F.cross_entropy(z, y, reduction="none") * w)


def test_class_weighted_weights_and_offsets_match_definition():
    g = torch.Generator().manual_seed(2)
    z, y = torch.randn(10, 3, generator=g), torch.randint(0, 3, (10,), generator=g)
    crit = ClassWeighted(CrossEntropyLoss(), 3)
    torch.testing.assert_close(crit(z, y), F.cross_entropy(z, y))
    cw = torch.tensor([0.5, 2.0, 1.0])
    crit.set_class_weight(cw)
    expected = (F.cross_entropy(z, y, reduction="none") * cw[y]).mean()
    torch.testing.assert_close(crit(z, y), expected)
    # Loss form of logit adjustment: CE on z + tau log pi (balanced softmax).
    pi = torch.tensor([0.7, 0.2, 0.1])
    crit.set_class_weight(None)
    crit.set_logit_offset(torch.log(pi))
    torch.testing.assert_close(crit(z, y), F.cross_entropy(z + torch.log(pi), y))
    crit.set_logit_offset(None)
    assert torch.equal(crit(z, y), F.cross_entropy(z, y))
    with pytest.raises(ValueError, match="logit_offset"):
        crit.set_logit_offset([0.0, np.inf, 0.0])
    with pytest.raises(ValueError, match="class_weight"):
        crit.set_class_weight([1.0, -1.0, 1.0])


def test_class_weighted_state_round_trip_restores_fast_path_flags():
    crit = ClassWeighted(CrossEntropyLoss(), 2)
    crit.set_class_weight([1.0, 3.0])
    fresh = ClassWeighted(CrossEntropyLoss(), 2)
    fresh.load_state_dict(crit.state_dict())
    z, y = torch.randn(4, 2), torch.tensor([0, 1, 1, 0])
    assert torch.equal(fresh(z, y), crit(z, y))


def test_class_weighted_reads_through_to_the_inner_loss():
    crit = ClassWeighted(MR2Loss(3), 3)
    assert crit.needs_features
    assert crit.ema_m.shape == (3,)
    assert crit.decision_logits(torch.ones(1, 3)).tolist() == [[1.0, 1.0, 1.0]]
    ldam = ClassWeighted(LDAMLoss(COUNTS, scale=30.0), 3)
    assert ldam.decision_logits(torch.ones(1, 3)).tolist() == [[30.0, 30.0, 30.0]]
