"""Chapter 3's interactive figures, driven headlessly: the lines are the
chapter's functions (the loss figure checked against the gradients by hand,
the outlier figure against independent fits), each live slider changes what it
should, the extremes draw without a warning, and the static faces hold the
same frames."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_extremes_draw, check_faces_start_at_initial, live_lines, static_data
from nnbook import loss_figures as figs
from nnbook.activations import sigmoid
from nnbook.losses import (
    binary_cross_entropy,
    binary_cross_entropy_gradient,
    corrupt,
    hinge,
    hinge_gradient,
    sigmoid_squared_error,
    sigmoid_squared_error_gradient,
)
from nnbook.sliders import live_figure

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


def line_data():
    """A line like the chapter's (its own key): 30 sorted x in [-1, 1], y = 1 + 2x + noise."""
    kx, ke = jax.random.split(jax.random.key(7))
    x = jnp.sort(jax.random.uniform(kx, (30,), minval=-1.0, maxval=1.0))
    return jnp.column_stack([jnp.ones_like(x), x]), 1.0 + 2.0 * x + 0.3 * jax.random.normal(ke, (30,))


def specs():
    return [figs.loss_spec(), figs.outlier_spec(*line_data())]


@pytest.mark.parametrize("index", [0, 1], ids=["losses", "outliers"])
def test_both_faces_start_at_the_initial_values(index):
    check_faces_start_at_initial(specs()[index])


# --- the losses figure -------------------------------------------------------------------------


@pytest.mark.parametrize("target,logit", [(1.0, -3.0), (0.0, 2.0), (0.25, 0.0), (0.5, -5.0), (0.75, 5.0)])
def test_loss_lines_and_moving_point_are_the_chapter_losses(target, logit):
    frame = figs.loss_frame(target, logit)
    z, bce = frame.lines["bce"]
    np.testing.assert_allclose(bce, binary_cross_entropy(jnp.asarray(z), target), rtol=1e-13)
    np.testing.assert_allclose(
        frame.lines["d-bce"][1], binary_cross_entropy_gradient(jnp.asarray(z), target), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(frame.lines["sq"][1], sigmoid_squared_error(jnp.asarray(z), target), rtol=1e-13)
    np.testing.assert_allclose(
        frame.lines["d-sq"][1], sigmoid_squared_error_gradient(jnp.asarray(z), target), rtol=1e-12, atol=1e-15
    )
    # the hinge polyline through its corners equals the hinge at every z (it is piecewise linear)
    hz, hl = frame.lines["hinge"]
    fine = np.linspace(*figs.Z_RANGE, 1001)
    np.testing.assert_allclose(np.interp(fine, hz, hl), hinge(jnp.asarray(fine), target), atol=1e-12)
    gz, g = frame.lines["d-hinge"]  # a step: constant on each side of the kink
    off_kink = np.abs(fine * (2 * target - 1) - 1) > 1e-6
    np.testing.assert_allclose(
        np.interp(fine[off_kink], gz, g), hinge_gradient(jnp.asarray(fine[off_kink]), target), atol=1e-12
    )
    # the moving point sits on each curve at the chosen logit
    for key, f in (("bce", binary_cross_entropy), ("sq", sigmoid_squared_error), ("hinge", hinge)):
        px, py = frame.lines[f"at-{key}"]
        assert np.all(px == logit) and py[0] == pytest.approx(float(f(logit, target)), rel=1e-13, abs=1e-15)
    assert frame.note.startswith(f"p = {float(sigmoid(logit)):.3f};")


def test_loss_note_reports_the_two_gradients():
    note = figs.loss_frame(1.0, -3.0).note
    assert note == "p = 0.047; slopes: cross-entropy \u22120.953, squared \u22120.043"


def test_loss_live_sliders_move_the_point_and_mirror_the_curves():
    live = live_figure(figs.loss_spec())
    live.update(logit=2.0)
    assert np.all(live.lines["at-bce"].get_xdata() == pytest.approx(2.0))
    assert np.all(live.lines["cursor"].get_xdata() == pytest.approx(2.0))
    at_one = live_lines(live)["bce"][1].copy()
    live.update(target=0.0)
    # binary cross-entropy with y = 0 is the y = 1 curve mirrored: l(z, 0) = l(-z, 1)
    np.testing.assert_allclose(live_lines(live)["bce"][1], at_one[::-1], rtol=1e-12)
    assert live.note.get_text().startswith("p = 0.881")


# --- the outlier figure ------------------------------------------------------------------------


@pytest.mark.parametrize("size,delta", [(0.0, 1.0), (8.0, 1.0), (10.0, 0.1), (5.0, 10.0)])
def test_outlier_lines_are_the_fits_and_the_corrupted_points(size, delta):
    X, y = line_data()
    frame = figs.outlier_frame(X, y, size, delta)
    corrupted = np.asarray(corrupt(y, size))
    x = np.asarray(X[:, 1])
    # the squared-error line is numpy's least squares on the corrupted targets
    intercept, slope = np.linalg.lstsq(np.asarray(X), corrupted, rcond=None)[0]
    ends, values = frame.lines["squared error"]
    np.testing.assert_allclose(ends, [x.min(), x.max()])
    np.testing.assert_allclose(values, intercept + slope * ends, rtol=1e-10)
    # the corrupted points: from the clean value up by `size`, at the three rightmost x
    for k in range(figs.OUTLIERS):
        i = len(x) - figs.OUTLIERS + k
        np.testing.assert_allclose(frame.lines[f"outlier-{k}"][0], [x[i], x[i]])
        np.testing.assert_allclose(frame.lines[f"outlier-{k}"][1], [float(y[i]), corrupted[i]])
    assert frame.note.startswith(f"slopes: squared error {slope:.2f},")


def test_outlier_live_sliders_tilt_only_the_squared_error_line():
    live = live_figure(figs.outlier_spec(*line_data()))
    live.update(size=0.0)
    clean = live_lines(live)
    live.update(size=10.0)
    moved = live_lines(live)
    def slope(line):
        (x0, x1), (y0, y1) = line
        return (y1 - y0) / (x1 - x0)

    tilt = {name: slope(moved[name]) - slope(clean[name]) for name, _ in figs.OUTLIER_LINES}
    assert tilt["squared error"] > 1.0
    assert max(abs(tilt["absolute error"]), abs(tilt["Huber"])) < 0.15 * tilt["squared error"]
    live.update(delta=20.0)  # every residual in the Gaussian core: Huber is squared error
    big = live_lines(live)
    np.testing.assert_allclose(big["Huber"][1], big["squared error"][1], rtol=1e-9)


def test_extreme_slider_values_are_drawn_without_warnings():
    for spec in specs():
        check_extremes_draw(live_figure(spec))


# --- the static faces ------------------------------------------------------------------------


def test_static_faces_hold_every_grid_point():
    for spec in specs():
        fig, data = static_data(spec)
        assert data["sizes"] == [len(c.grid) for c in spec.controls if len(c.grid) > 1]
        assert len(data["frames"]) == int(np.prod(data["sizes"]))
        assert all(len(frame["lines"]) == len(spec.styles) for frame in data["frames"])
    fig, _ = static_data(figs.loss_spec())
    notes = {(p["target"], p["logit"]): n for p, _, n in fig.frames}
    assert notes[1.0, -3.0] == figs.loss_frame(1.0, -3.0).note
