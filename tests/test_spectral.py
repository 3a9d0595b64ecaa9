import math
import pickle
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from skscor.spectral import LayerSpectrum, SpectralReport, spectral_report


def _linear_with(weight: np.ndarray, dtype=torch.float64) -> nn.Linear:
    m, n = weight.shape
    layer = nn.Linear(n, m, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=dtype))
    return layer


def test_diagonal_matrix_hand_values():
    # diag(3, 2, 1): s = (3, 2, 1); ||W||_F^2 = 14; p = (1/2, 1/3, 1/6)
    layer = _linear_with(np.diag([1.0, 3.0, 2.0]))
    spec = spectral_report(layer)["weight"]
    np.testing.assert_allclose(spec.singular_values, [3.0, 2.0, 1.0], rtol=1e-12)
    assert spec.rank == 3
    assert spec.sigma_max == pytest.approx(3.0)
    assert spec.sigma_min == pytest.approx(1.0)
    assert spec.condition_number == pytest.approx(3.0)
    assert spec.stable_rank == pytest.approx(14 / 9)
    entropy = -(0.5 * math.log(0.5) + math.log(1 / 3) / 3 + math.log(1 / 6) / 6)
    assert spec.effective_rank == pytest.approx(math.exp(entropy))


def test_orthogonal_matrix_is_perfectly_conditioned():
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))
    spec = spectral_report(_linear_with(q))["weight"]
    np.testing.assert_allclose(spec.singular_values, np.ones(6), atol=1e-12)
    assert spec.condition_number == pytest.approx(1.0)
    assert spec.stable_rank == pytest.approx(6.0)
    assert spec.effective_rank == pytest.approx(6.0)
    assert spec.rank == 6


def test_random_rectangular_matches_numpy_svd():
    w = np.random.default_rng(1).standard_normal((7, 4))
    spec = spectral_report(_linear_with(w))["weight"]
    s = np.linalg.svd(w, compute_uv=False)
    np.testing.assert_allclose(spec.singular_values, s, rtol=1e-12)
    assert spec.matrix_shape == (7, 4)
    assert spec.sigma_min == pytest.approx(s[-1])  # smallest of min(m, n)
    assert spec.stable_rank == pytest.approx((w**2).sum() / s[0] ** 2)


def test_rank_deficient_and_default_tolerance():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 5))  # rank 2
    spec = spectral_report(_linear_with(w, dtype=torch.float32))["weight"]
    w32 = w.astype(np.float32)
    assert spec.rank == 2 == np.linalg.matrix_rank(w32)
    expected_tol = spec.sigma_max * 8 * np.finfo(np.float32).eps
    assert spec.tol == pytest.approx(expected_tol)
    assert spec.dtype == "float32"
    # float32 roundoff leaves the null singular values tiny but non-zero
    assert 0 < spec.sigma_min < spec.tol
    assert math.isfinite(spec.condition_number)


def test_rtol_overrides_tolerance():
    layer = _linear_with(np.diag([1.0, 0.1, 0.01]))
    assert spectral_report(layer)["weight"].rank == 3
    assert spectral_report(layer, rtol=0.05)["weight"].rank == 2
    assert spectral_report(layer, rtol=0.5)["weight"].rank == 1
    assert spectral_report(layer, rtol=0.05)["weight"].tol == pytest.approx(0.05)


def test_singular_matrix_has_infinite_condition_number():
    spec = spectral_report(_linear_with(np.diag([2.0, 0.0])))["weight"]
    assert spec.sigma_min == 0.0
    assert spec.condition_number == math.inf
    assert spec.rank == 1


def test_zero_matrix():
    spec = spectral_report(_linear_with(np.zeros((3, 2))))["weight"]
    assert spec.rank == 0
    assert spec.stable_rank == 0.0 and spec.effective_rank == 0.0
    assert spec.condition_number == math.inf


def test_nonfinite_weights_reported_not_raised():
    spec = spectral_report(_linear_with(np.array([[1.0, np.nan], [0.0, 1.0]])))[0]
    assert spec.rank == -1
    assert np.isnan(spec.sigma_max) and np.isnan(spec.singular_values).all()


def test_conv_kernel_reshaped_and_biases_skipped():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 5, 3), nn.BatchNorm2d(5), nn.Flatten(), nn.LayerNorm(4)
    )
    report = spectral_report(net)
    assert report.names == ["0.weight"]  # conv bias, BN and LN params skipped
    spec = report["0.weight"]
    assert spec.shape == (5, 2, 3, 3)
    assert spec.matrix_shape == (5, 18)
    w = net[0].weight.detach().numpy().reshape(5, 18).astype(np.float64)
    np.testing.assert_allclose(
        spec.singular_values, np.linalg.svd(w, compute_uv=False), rtol=1e-6
    )


def test_parametrized_weights_report_effective_weight():
    from torch.nn.utils.parametrizations import weight_norm

    torch.manual_seed(0)
    net = nn.Sequential(weight_norm(nn.Linear(4, 3)), nn.Linear(3, 2))
    report = spectral_report(net)
    assert report.names == ["0.weight", "1.weight"]
    w = net[0].weight.detach().double().numpy()
    np.testing.assert_allclose(
        report[0].singular_values, np.linalg.svd(w, compute_uv=False), rtol=1e-6
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # legacy API is deprecated
        legacy = nn.utils.weight_norm(nn.Linear(4, 3))
    report = spectral_report(legacy)
    assert report.names == ["weight"]
    assert report[0].shape == (3, 4)


def test_shared_weights_reported_once():
    layer = nn.Linear(3, 3)
    assert len(spectral_report(nn.Sequential(layer, nn.Tanh(), layer))) == 1


def test_report_container_and_summary():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    report = spectral_report(net)
    assert len(report) == 2
    assert [layer.name for layer in report] == report.names == ["0.weight", "2.weight"]
    assert report[-1] is report["2.weight"]
    with pytest.raises(KeyError, match="available"):
        report["nope"]
    summary = report.summary
    assert summary["last_layer"] == "2.weight"
    assert summary["last_sigma_min"] == report[-1].sigma_min
    assert summary["min_sigma_min"] == min(layer.sigma_min for layer in report)
    assert summary["mean_condition_number"] == pytest.approx(
        np.mean([layer.condition_number for layer in report])
    )
    assert spectral_report(nn.ReLU()).summary["n_layers"] == 0


def test_pickle_round_trip_holds_no_tensors():
    report = spectral_report(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)))
    clone = pickle.loads(pickle.dumps(report))
    assert isinstance(clone, SpectralReport)
    assert isinstance(clone[0], LayerSpectrum)
    np.testing.assert_array_equal(clone[1].singular_values, report[1].singular_values)
    for layer in clone:
        for value in vars(layer).values():
            assert not isinstance(value, torch.Tensor)


def test_to_frame_and_repr():
    report = spectral_report(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)))
    frame = report.to_frame()
    assert list(frame["name"]) == ["0.weight", "1.weight"]
    assert list(frame.columns) == [
        "name",
        "shape",
        "rank",
        "sigma_max",
        "sigma_min",
        "condition_number",
        "stable_rank",
        "effective_rank",
    ]
    assert frame.loc[1, "sigma_min"] == report[1].sigma_min
    text = repr(report)
    assert text.splitlines()[0] == "SpectralReport(2 weight matrices)"
    assert "1.weight" in text and "2x3" in text
    assert "singular_values" not in repr(report[0])


def test_to_frame_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    report = spectral_report(nn.Linear(2, 2))
    with pytest.raises(ImportError, match="pip install pandas"):
        report.to_frame()


def test_invalid_arguments():
    with pytest.raises(TypeError, match="module"):
        spectral_report(np.eye(2))
    with pytest.raises(ValueError, match="rtol"):
        spectral_report(nn.Linear(2, 2), rtol=-1.0)


def test_speed_mlp_128():
    import time

    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128))
    spectral_report(net)
    start = time.perf_counter()
    for _ in range(5):
        spectral_report(net)
    # a few ms per call; generous bound for slow shared CI machines
    assert (time.perf_counter() - start) / 5 < 0.25


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_module():
    net = nn.Linear(4, 3).cuda()
    report = spectral_report(net)
    w = net.weight.detach().cpu().double().numpy()
    np.testing.assert_allclose(
        report[0].singular_values, np.linalg.svd(w, compute_uv=False), rtol=1e-6
    )
