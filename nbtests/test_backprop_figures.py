"""The backpropagation chapter's figures: the computation-graph drawing, the
decision-boundary tracing, the nested-width training runs (and the claims the
chapter makes about them), and both faces of the interactive figure, driven
headlessly."""

import jax
import matplotlib.pyplot as plt
import numpy as np
import pytest

from chapter_code import run_chapter
from conftest import check_extremes_draw, check_faces_start_at_initial, live_lines, static_data
from nnbook import backprop_figures as figs
from nnbook.autodiff import Value
from nnbook.mlp import CURVE_STEPS, MAX_WIDTH, WIDTH_LEARNING_RATE, at_step, loss, train, width_params
from nnbook.sliders import live_figure

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


@pytest.fixture(scope="module")
def chapter():
    """The chapter's own code, run: its data, keys, runs and linear model."""
    with jax.enable_x64(True):
        return run_chapter("05_backpropagation.ipynb")


@pytest.fixture(scope="module")
def runs(chapter):
    return chapter["runs"]


@pytest.fixture(scope="module")
def spec(chapter):
    with jax.enable_x64(True):
        return figs.boundary_spec(chapter["runs"], chapter["linear_accuracy"])


def curve_at(runs, which, width, step):
    return float(runs.curves[which][width - 1, list(CURVE_STEPS).index(step)])


def accuracy_by_hand(params, X, labels):
    """Test accuracy of a tanh network, written out in NumPy (no nnbook code)."""
    (l1, l2) = [{k: np.asarray(v) for k, v in layer.items()} for layer in params]
    hidden = np.tanh(np.asarray(X) @ l1["W"].T + l1["b"])
    logits = hidden @ l2["W"].T + l2["b"]
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(labels)))


# --- the computation graph ------------------------------------------------------------------


def test_graph_layout_puts_inputs_left_of_their_results():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = (a * b + a).tanh()
    where = figs.graph_layout(c)
    assert len(where) == 5
    assert where[id(a)][0] == where[id(b)][0] == 0
    assert where[id(c)][0] == 3  # a*b, then +, then tanh
    c.backward()
    fig, ax = plt.subplots()
    figs.draw_graph(ax, c)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "grad 1.000" in texts and f"value {c.data:.3f}" in texts and "tanh" in texts
    plt.close(fig)


# --- tracing the boundary -------------------------------------------------------------------


def test_boundary_lines_trace_a_known_circle_and_two_pieces():
    gx, gy = np.linspace(-2, 2, 81), np.linspace(-2, 2, 61)
    X, Y = np.meshgrid(gx, gy)
    circle = 1 / (1 + np.exp(X**2 + Y**2 - 1))  # 1/2 exactly on the unit circle
    (piece,) = figs.boundary_lines(gx, gy, circle)
    np.testing.assert_allclose(np.hypot(piece[:, 0], piece[:, 1]), 1.0, atol=0.01)
    two = (np.abs(X) > 1).astype(float)  # class 1 on both sides: two vertical boundaries
    pieces = figs.boundary_lines(gx, gy, two)
    assert len(pieces) == 2 and len(pieces[0]) >= len(pieces[1])
    assert figs.boundary_lines(gx, gy, np.full_like(X, 0.9)) == []


# --- the runs: exactness of the nested widths and the chapter's claims -----------------------


def test_switched_off_units_stay_zero_and_the_padded_run_is_the_narrow_run(runs):
    init = runs.init
    for width in (1, 3, 8):
        narrow = width_params(runs, width, 0)
        np.testing.assert_array_equal(narrow[0]["W"], init[0]["W"][:width])
        np.testing.assert_allclose(narrow[1]["W"], init[1]["W"][:, :width] * np.sqrt(16 / width), rtol=1e-15)
        full = jax.tree.map(lambda h: h[width - 1], runs.history)
        assert not np.any(np.asarray(full[0]["W"][:, width:]))  # every step, exactly zero
        assert not np.any(np.asarray(full[0]["b"][:, width:]))
        assert not np.any(np.asarray(full[1]["W"][:, :, width:]))
        # the narrow network trained on its own follows the padded run (to rounding,
        # which the plateau of widths 3-5 amplifies later: compare the first 100 steps)
        alone = train(narrow, runs.X, runs.labels, WIDTH_LEARNING_RATE, 100)
        for k in (1, 10, 100):
            for got, want in zip(jax.tree.leaves(width_params(runs, width, k)), jax.tree.leaves(at_step(alone, k))):
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_one_hidden_unit_draws_a_straight_boundary(runs):
    frame = figs.boundary_frame(runs)
    for step in (10, 200, 2000):
        (piece,) = [v for k, v in frame(step, 1).lines.items() if k.startswith("boundary")]
        points = np.column_stack(piece)
        centred = points - points.mean(axis=0)
        residual = np.linalg.svd(centred, compute_uv=False)[1] / np.sqrt(len(points))
        assert residual < 0.01  # distance from the best straight line: grid-interpolation error only


def test_widths_one_and_two_stay_linear_three_to_five_plateau_six_and_more_learn_fast(runs):
    for width in (1, 2):
        assert curve_at(runs, 2, width, 2000) < 0.90
    for width in (3, 4, 5):
        assert curve_at(runs, 2, width, 600) < 0.90  # still at the linear model's accuracy
        assert curve_at(runs, 2, width, 2000) > 0.95  # then found the bend
        # the plateau: the training loss barely moves between steps 200 and 600
        assert curve_at(runs, 0, width, 600) == pytest.approx(curve_at(runs, 0, width, 200), rel=0.03)
    for width in range(6, MAX_WIDTH + 1):
        assert curve_at(runs, 2, width, 200) > 0.95


def test_late_training_loss_falls_test_loss_turns_up_accuracy_barely_moves(runs):
    train_loss, test_loss, test_accuracy = runs.curves
    for width in range(6, MAX_WIDTH + 1):
        i = width - 1
        assert np.all(np.diff(train_loss[i]) < 0)
        assert test_loss[i, -1] > 1.1 * test_loss[i].min()
        assert test_accuracy[i].max() - test_accuracy[i, -1] < 0.01


# --- the interactive figure, both faces ------------------------------------------------------


def test_both_faces_start_at_the_initial_values(spec):
    assert spec.initial_params() == {"step": 2000, "width": 8}
    check_faces_start_at_initial(spec)


def test_live_sliders_change_the_boundary_and_the_curves(spec, runs):
    live = live_figure(spec)
    start = live_lines(live)
    assert start["train_loss"][0][-1] == 2000
    live.update(step=100)
    early = live_lines(live)
    assert early["train_loss"][0][-1] == 100 and len(early["train_loss"][0]) < len(start["train_loss"][0])
    assert not np.array_equal(early["boundary"][0], start["boundary"][0])
    # the value drawn at the current step is the loss of the parameters after that step
    want = float(loss(width_params(runs, 8, 100), runs.X, runs.labels))
    assert early["train_loss"][1][-1] == pytest.approx(want, rel=1e-12)
    live.update(width=1)
    assert not np.array_equal(live_lines(live)["boundary"][0], early["boundary"][0])


def test_live_extremes_draw_without_warnings_or_errors(spec):
    live = live_figure(spec)
    check_extremes_draw(live)
    for step, width in ((0, 1), (0, MAX_WIDTH), (2000, 1), (2000, MAX_WIDTH)):
        live.update(step=step, width=width)
        assert len(live.lines["boundary"].get_xdata()) > 1


def test_frame_rejects_settings_outside_the_runs(runs):
    frame = figs.boundary_frame(runs)
    with pytest.raises(ValueError, match="width must be in 1..16"):
        frame(100, 17)
    with pytest.raises(ValueError, match="step in 0..2000"):
        frame(2001, 4)


def test_static_face_covers_the_grid(spec, runs):
    fig, data = static_data(spec)
    assert data["sizes"] == [len(figs.STATIC_STEPS), len(figs.STATIC_WIDTHS)]
    for params, frame_lines, note in fig.frames:
        assert "boundary" in frame_lines, params  # every setting shows a boundary
        assert not note.startswith("cannot")
    # the accuracy drawn is the test accuracy of the network at that step, computed by hand
    for params, frame_lines, _ in fig.frames[-3:]:
        width, step = params["width"], params["step"]
        want = accuracy_by_hand(width_params(runs, width, step), runs.X_test, runs.labels_test)
        assert frame_lines["test_accuracy"][1][-1] == pytest.approx(100 * want, abs=1e-9)


# --- the static figures and the cost table ----------------------------------------------------


def test_cost_table_lists_every_number_and_the_ratios():
    methods = {"reverse": None, "forward": None}
    sizes = (10, 100)
    evaluations = {(m, n): 1 for m in methods for n in sizes}
    flop_ratio = {("reverse", 10): 2.0, ("reverse", 100): 2.0, ("forward", 10): 12.0, ("forward", 100): 103.0}
    seconds = {("reverse", 10): 1e-5, ("reverse", 100): 2e-5, ("forward", 10): 3e-5, ("forward", 100): 6e-4}
    text = figs.cost_table(methods, sizes, evaluations, flop_ratio, {10: 1e-10, 100: 2e-9}, seconds)
    assert "n=100: forward / reverse = 30x (measured)" in text
    assert "103.0" in text and "2e-09" in text and "0.600 ms" in text


def test_signal_variance_figure_normalises_at_the_start_of_each_pass():
    forward = np.array([[2.0, 1.0, 0.5], [2.0, 2.0, 2.0]])
    backward = np.array([[0.25, 0.5, 1.0], [3.0, 3.0, 3.0]])
    fig, (left, right) = plt.subplots(1, 2)
    figs.draw_signal_variances(left, right, ["shrinks", "level"], forward, backward)
    np.testing.assert_allclose(left.lines[0].get_ydata(), [1.0, 0.5, 0.25])  # / layer 1
    np.testing.assert_allclose(right.lines[0].get_ydata(), [0.25, 0.5, 1.0])  # / top layer
    np.testing.assert_allclose(right.lines[1].get_ydata(), [1.0, 1.0, 1.0])
    plt.close(fig)


def test_static_figures_draw_the_chapter_runs(chapter):
    fig, axes = plt.subplots(1, 2)
    figs.draw_boundaries(axes, {"linear": chapter["linear_trained"], "net": chapter["trained"]},
                         chapter["X_test"], chapter["y_test"])
    assert f"{chapter['mlp_accuracy']:.1%}" in axes[1].get_title()
    plt.close(fig)
    fig, (left, right) = plt.subplots(1, 2)
    figs.draw_deep_signals(left, right, chapter["delta_norms"], chapter["weight_norms"])
    assert len(left.lines) == len(chapter["scales"])
    plt.close(fig)
