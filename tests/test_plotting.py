import sys

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from torch import nn

from skscor.hessian import class_hessian_spectrum
from skscor.plotting import ClassRecallDisplay, HessianDensityDisplay, SpectrumDisplay
from skscor.spectral import spectral_report

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures_one_thread():
    # one torch thread: the Hessian products are tiny (see test_hessian.py)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
    plt.close("all")


def _mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))


class _FakeNet:
    def __init__(self, module):
        self.module_ = module


class _FakeClassifier(ClassifierMixin, BaseEstimator):
    """Predicts a fixed table; exposes what a fitted skscor estimator exposes."""

    def __init__(self, seed=0, predictions=None):
        self.seed = seed
        self.predictions = predictions

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        self.net_ = _FakeNet(_mlp(self.seed))
        return self

    def predict(self, X):
        return np.asarray(self.predictions)


def test_spectrum_display_several_estimators_side_by_side():
    X, y = np.zeros((3, 6)), np.array([0, 1, 2])
    a = _FakeClassifier(seed=0).fit(X, y)
    b = _FakeClassifier(seed=1).fit(X, y)
    b.spectral_report_ = spectral_report(b.net_.module_)  # used when present
    disp = SpectrumDisplay.from_estimator([a, b], names=["CE", "SCoR"])
    assert disp.layers_ == ["0.weight", "2.weight"]
    assert disp.ax_.shape == (2,)
    assert disp.figure_ is disp.ax_[0].figure
    assert disp.lines_.shape == (2, 2)
    # each line holds that model's singular values
    np.testing.assert_allclose(
        disp.lines_[1, 1].get_ydata(), b.spectral_report_["2.weight"].singular_values
    )
    assert [t.get_text() for t in disp.ax_[0].get_legend().get_texts()] == [
        "CE",
        "SCoR",
    ]
    assert disp.ax_[0].get_yscale() == "log"


def test_spectrum_display_from_reports_chosen_layer_and_ax():
    reports = [spectral_report(_mlp(s)) for s in range(3)]
    fig, ax = plt.subplots()
    disp = SpectrumDisplay.from_reports(reports, layers="2.weight", ax=ax, logy=False)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.lines_.shape == (1, 3)
    assert disp.names == ["report 0", "report 1", "report 2"]
    assert ax.get_yscale() == "linear"
    # positions work too, and plot() can be called again on new axes
    again = disp.plot(layers=[0])
    assert again is disp and disp.layers_ == ["0.weight"]


def test_spectrum_display_errors():
    report = spectral_report(_mlp(0))
    with pytest.raises(ValueError, match="layers: 'nope' not found"):
        SpectrumDisplay.from_reports(report, layers="nope")
    with pytest.raises(ValueError, match="names has 2 entries"):
        SpectrumDisplay.from_reports(report, names=["a", "b"])
    with pytest.raises(TypeError, match="SpectralReport"):
        SpectrumDisplay.from_reports([object()])
    with pytest.raises(NotFittedError):
        SpectrumDisplay.from_estimator(_FakeClassifier())
    with pytest.raises(TypeError, match="neither spectral_report_ nor net_"):
        SpectrumDisplay.from_estimator(object())
    other = spectral_report(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="share no layer"):
        SpectrumDisplay.from_reports([report, other])


def test_class_recall_display_sorted_by_training_frequency():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])  # recalls 1/2, 1, 1/2
    clf = _FakeClassifier(predictions=y_pred).fit(np.zeros((6, 6)), y_true)
    y_train = np.array([2] * 50 + [0] * 10 + [1] * 3)
    disp = ClassRecallDisplay.from_estimator(
        clf, np.zeros((6, 6)), y_true, y_train=y_train
    )
    np.testing.assert_array_equal(disp.order_, [2, 0, 1])  # frequent to rare
    heights = [bar.get_height() for bar in disp.bars_]
    np.testing.assert_allclose(heights, [0.5, 0.5, 1.0])
    assert disp.ax_.get_title() == "_FakeClassifier"
    ticks = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert ticks == ["2\nn=50", "0\nn=10", "1\nn=3"]
    assert disp.mean_line_.get_ydata()[0] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="not both"):
        ClassRecallDisplay.from_estimator(
            clf, np.zeros((6, 6)), y_true, y_train=y_train, class_counts=[1, 2, 3]
        )


def test_class_recall_display_from_predictions_absent_class():
    disp = ClassRecallDisplay.from_predictions(
        ["a", "a", "b"], ["a", "c", "b"], class_counts={"a": 5, "b": 9, "c": 1}
    )
    np.testing.assert_array_equal(disp.labels[disp.order_], ["b", "a", "c"])
    ticks = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert ticks[-1] == "c\nabsent"
    assert disp.bars_[2].get_height() == 0.0
    with pytest.raises(ValueError, match="class_counts has no count"):
        ClassRecallDisplay.from_predictions([0, 1], [0, 1], class_counts={0: 1})
    with pytest.raises(ValueError, match="class_counts has 3 entries"):
        ClassRecallDisplay.from_predictions([0, 1], [0, 1], class_counts=[1, 2, 3])


def _tick_boxes(disp):
    fig = disp.figure_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return fig.bbox, [t.get_window_extent(renderer) for t in disp.ax_.get_xticklabels()]


def _assert_ticks_fit(disp):
    figure, boxes = _tick_boxes(disp)
    for box in boxes:
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1, (box, figure)
        assert figure.y0 <= box.y0 and box.y1 <= figure.y1, (box, figure)
    for left, right in zip(boxes[:-1], boxes[1:], strict=True):
        assert not left.overlaps(right), (left, right)
    # the axis label below the ticks is not cut off either
    xlabel = disp.ax_.xaxis.label.get_window_extent(disp.figure_.canvas.get_renderer())
    assert xlabel.y0 >= figure.y0


@pytest.mark.parametrize(
    "n_classes, long_names, n_models",
    [(3, False, 1), (10, False, 1), (12, True, 1), (40, False, 1), (10, False, 3)],
)
def test_class_recall_display_tick_labels_fit_standalone(
    n_classes, long_names, n_models
):
    rng = np.random.RandomState(0)
    labels = [f"class_{i:02d}_of_many" if long_names else i for i in range(n_classes)]
    y_true = np.repeat(labels, 4)
    y_preds = [rng.permutation(y_true) for _ in range(n_models)]
    counts = {label: 1000 - 7 * i for i, label in enumerate(labels)}
    disp = ClassRecallDisplay.from_predictions(
        y_true, y_preds if n_models > 1 else y_preds[0], class_counts=counts
    )
    assert len(disp.ax_.get_xticklabels()) == n_classes
    _assert_ticks_fit(disp)


def test_class_recall_display_turns_labels_on_narrow_axes():
    fig, ax = plt.subplots(figsize=(3, 3))
    labels = [f"label_{i}" for i in range(8)]
    disp = ClassRecallDisplay.from_predictions(labels, labels, ax=ax)
    assert disp.figure_ is fig
    assert fig.get_size_inches().tolist() == [3, 3]  # the caller's figure is kept
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {90.0}
    _, boxes = _tick_boxes(disp)
    for left, right in zip(boxes[:-1], boxes[1:], strict=True):
        assert not left.overlaps(right)


def test_class_recall_display_several_estimators_grouped():
    X = np.zeros((6, 6))
    y_true = np.array([0, 0, 1, 1, 2, 2])
    good = _FakeClassifier(predictions=y_true).fit(X, y_true)
    bad = _FakeClassifier(predictions=[0, 1, 1, 1, 2, 0]).fit(X, y_true)
    y_train = np.array([2] * 50 + [0] * 10 + [1] * 3)
    disp = ClassRecallDisplay.from_estimator([good, bad], X, y_true, y_train=y_train)
    np.testing.assert_array_equal(disp.order_, [2, 0, 1])
    assert len(disp.bars_) == 2 and len(disp.mean_line_) == 2
    np.testing.assert_allclose([b.get_height() for b in disp.bars_[0]], [1, 1, 1])
    np.testing.assert_allclose([b.get_height() for b in disp.bars_[1]], [0.5, 0.5, 1])
    np.testing.assert_allclose(disp.mean_line_[1].get_ydata(), [2 / 3, 2 / 3])
    # grouped: per class, the first model's bar left of the second's, no overlap
    for first, second in zip(disp.bars_[0], disp.bars_[1], strict=True):
        assert first.get_x() + first.get_width() <= second.get_x() + 1e-12
        assert abs(second.get_x() - first.get_x()) < 0.5
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["_FakeClassifier (0)", "_FakeClassifier (1)", "mean recall"]
    assert disp.ax_.get_title() == ""
    _assert_ticks_fit(disp)

    named = ClassRecallDisplay.from_estimator(
        (good, bad), X, y_true, name=["CE", "SCoR"]
    )
    legend = [t.get_text() for t in named.ax_.get_legend().get_texts()]
    assert legend == ["CE", "SCoR", "mean recall"]
    with pytest.raises(ValueError, match="name has 1 entries for 2 inputs"):
        ClassRecallDisplay.from_estimator([good, bad], X, y_true, name=["CE"])


def test_class_recall_display_from_several_predictions():
    y_true = ["a", "a", "b", "b"]
    disp = ClassRecallDisplay.from_predictions(
        y_true, [["a", "a", "b", "a"], ["a", "b", "b", "b"]]
    )
    np.testing.assert_allclose(disp.recall, [[1.0, 0.5], [0.5, 1.0]])
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["model 0", "model 1", "mean recall"]
    # a single list of labels is one model, not several
    one = ClassRecallDisplay.from_predictions(y_true, ["a", "a", "b", "a"], name="m")
    assert one.recall.shape == (2,) and one.ax_.get_title() == "m"
    assert len(one.bars_) == 2  # a BarContainer: one bar per class


@pytest.fixture(scope="module")
def density_spectrum():
    net = _mlp(0)
    X, y = torch.randn(45, 6), torch.arange(45) % 3
    return net, X, y, class_hessian_spectrum(
        net, X, y, density=True, n_hutchinson=0, lanczos_steps=10, n_slq=1,
        random_state=0,
    )  # fmt: skip


def test_hessian_density_display(density_spectrum):
    *_, spectrum = density_spectrum
    disp = HessianDensityDisplay.from_spectrum(spectrum)
    assert len(disp.lines_) == len(disp.min_markers_) == len(disp.max_markers_) == 3
    np.testing.assert_allclose(disp.lines_[1].get_ydata(), spectrum[1].density)
    assert disp.min_markers_[0].get_xdata()[0] == spectrum[0].lambda_min
    assert disp.figure_ is disp.ax_.figure
    fig, ax = plt.subplots()
    sub = HessianDensityDisplay(spectrum=spectrum, classes=[2]).plot(ax=ax, logy=False)
    assert sub.ax_ is ax and len(sub.lines_) == 1


def test_hessian_density_display_y_limits_bounded(density_spectrum):
    *_, spectrum = density_spectrum
    # the tails of the Gaussian-broadened density reach far below the peak
    peak = max(spectrum[label].density.max() for label in spectrum.labels)
    assert min(spectrum[label].density.min() for label in spectrum.labels) < 1e-30
    disp = HessianDensityDisplay.from_spectrum(spectrum)
    bottom, top = disp.ax_.get_ylim()
    assert disp.ax_.get_yscale() == "log"
    assert bottom == pytest.approx(1e-6 * peak)
    assert peak < top <= 2 * peak
    # the standalone figure keeps its axis labels inside
    disp.figure_.canvas.draw()
    renderer = disp.figure_.canvas.get_renderer()
    assert disp.ax_.xaxis.label.get_window_extent(renderer).y0 >= 0
    linear = HessianDensityDisplay.from_spectrum(spectrum, logy=False)
    assert linear.ax_.get_ylim()[1] < 1.1 * peak


def test_hessian_density_display_from_estimator(density_spectrum):
    net, X, y, _ = density_spectrum
    disp = HessianDensityDisplay.from_estimator(
        net, X, y, classes=[0, 2], random_state=0,
        spectrum_kw={"n_hutchinson": 0, "lanczos_steps": 5, "n_slq": 1},
    )  # fmt: skip
    assert [line.get_label() for line in disp.lines_] == ["0", "2"]


def test_hessian_density_display_requires_density(density_spectrum):
    net, X, y, _ = density_spectrum
    no_density = class_hessian_spectrum(net, X, y, n_hutchinson=0, random_state=0)
    with pytest.raises(ValueError, match="density=True"):
        HessianDensityDisplay.from_spectrum(no_density)
    with pytest.raises(TypeError, match="ClassHessianSpectrum"):
        HessianDensityDisplay.from_spectrum({})


def test_missing_matplotlib_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    report = spectral_report(_mlp(0))
    with pytest.raises(ImportError, match=r"pip install skscor\[plot\]"):
        SpectrumDisplay.from_reports(report)
    with pytest.raises(ImportError, match=r"pip install skscor\[plot\]"):
        ClassRecallDisplay.from_predictions([0, 1], [0, 1])


class _DemoModel:
    """What the demo's figure reads of a fitted model."""

    def __init__(self, seed, y_pred):
        self.classes_ = np.arange(10)
        torch.manual_seed(seed)
        self.spectral_report_ = spectral_report(nn.Linear(8, 10))
        self.y_pred = y_pred

    def predict(self, X):
        return self.y_pred


def test_demo_figure_legend_covers_nothing(monkeypatch, tmp_path):
    import skscor.__main__ as cli
    from skscor.datasets import load_imbalanced_digits

    data = load_imbalanced_digits(random_state=0)
    methods = ["ce", "ce+balanced", "focal", "scor", "scor+ls", "sam", "mr2"]
    # every test row recalled: the bars reach the top of the axes in every class
    results = {
        m: {"models": [_DemoModel(i, data.y_test)]} for i, m in enumerate(methods)
    }
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure
    cli._plot(results, data, str(tmp_path / "demo.png"))
    (fig,) = figures
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    legends = [legend for legend in legends if legend is not None]
    assert legends, "the figure names the methods"
    names = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert set(methods) <= set(names)
    bars = fig.axes[0].patches
    assert len(bars) == 10 * len(methods)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        # wholly in the figure, and over no bar nor any axes' plotting area
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
        covered = [bar for bar in bars if box.overlaps(bar.get_window_extent())]
        assert not covered, f"the legend covers {len(covered)} bars"
        for ax in fig.axes:
            assert not box.overlaps(ax.bbox), "the legend lies over an axes"
