"""Chapter 2's interactive figure, driven headlessly: the lines are the
chapter's functions (checked against the derivatives by hand, not against
autodiff), each live slider changes what it should, the extremes draw without
a warning, and the static faces hold the same frames and stay light."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_extremes_draw, check_faces_start_at_initial, live_lines, static_data
from nnbook import activation_figures as figs
from nnbook.activations import (
    gelu,
    gelu_derivative,
    leaky_relu,
    leaky_relu_derivative,
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    silu,
    silu_derivative,
    softplus,
    softplus_derivative,
    tanh,
    tanh_derivative,
)
from nnbook.sliders import live_figure

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


def by_hand(slope):
    return {
        "sigmoid": (sigmoid, sigmoid_derivative),
        "tanh": (tanh, tanh_derivative),
        "relu": (relu, relu_derivative),
        "leaky": (lambda z: leaky_relu(z, slope), lambda z: leaky_relu_derivative(z, slope)),
        "softplus": (softplus, softplus_derivative),
        "gelu": (gelu, gelu_derivative),
        "silu": (silu, silu_derivative),
    }


def test_both_faces_start_at_the_initial_values():
    check_faces_start_at_initial(figs.explorer_spec())


# --- the activations explorer -----------------------------------------------------------------


@pytest.mark.parametrize("scale,bias,slope", [(1.0, 0.0, 0.1), (8.0, 0.0, 0.1), (0.3, -2.0, 0.4)])
def test_explorer_lines_are_the_activations_and_their_hand_derivatives(scale, bias, slope):
    frame = figs.explorer_frame(scale, bias, slope)
    for key, (f, f_prime) in by_hand(slope).items():
        x, value = frame.lines[f"value-{key}"]
        _, derivative = frame.lines[f"slope-{key}"]
        z = scale * jnp.asarray(x) + bias
        np.testing.assert_allclose(value, f(z), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(derivative, f_prime(z), rtol=1e-12, atol=1e-13)
        assert x[0] == figs.X_RANGE[0] and x[-1] == figs.X_RANGE[1] and len(x) == figs.X_POINTS


def flat_fraction(key, scale):
    names = [name for name, _, _ in figs.EXPLORER]
    return float(figs.explorer_curves(scale, 0.0, figs.LEAKY_SLOPE)[3][names.index(key)])


def test_explorer_note_measures_flatness_as_the_chapter_says():
    fine = np.linspace(*figs.X_RANGE, figs.FLAT_POINTS)
    for scale in (0.25, 1.0, 8.0):  # the note's fraction, recomputed from the hand derivative
        # what backpropagation sees: d/dx sigmoid(a x) = a sigmoid'(a x), not sigmoid'(a x) alone
        expected = np.mean(np.abs(scale * np.asarray(sigmoid_derivative(scale * fine))) < figs.FLAT_SLOPE)
        assert flat_fraction("sigmoid", scale) == pytest.approx(expected, abs=1e-12)
    # the two measures differ at scale 8 (86% for sigmoid'(8x) alone), so this test tells them apart
    slope_alone = np.mean(np.abs(np.asarray(sigmoid_derivative(8 * fine))) < figs.FLAT_SLOPE)
    assert slope_alone > flat_fraction("sigmoid", 8.0) + 0.05
    # closed form at scale 8: 8 sigmoid'(8x) < 0.01 where |8x| > z*, sigmoid'(z*) = 0.01 / 8; the grid is 801 points
    z_star = 2 * math.acosh(math.sqrt(8 / 0.01) / 2)  # sigmoid'(z) = 1 / (4 cosh^2(z / 2))
    assert flat_fraction("sigmoid", 8.0) == pytest.approx(1 - z_star / 8 / 4, abs=2 / figs.FLAT_POINTS)
    grid = [c for c in figs.explorer_spec().controls if c.name == "scale"][0].grid
    sigmoid_flat = [flat_fraction("sigmoid", a) for a in grid]
    tanh_flat = [flat_fraction("tanh", a) for a in grid]
    assert sigmoid_flat[grid.index(1.0)] == 0.0  # "nowhere flat at scale 1"
    assert all(a <= b for a, b in zip(sigmoid_flat, sigmoid_flat[1:]))  # flatter as the scale grows
    assert all(a <= b for a, b in zip(tanh_flat, tanh_flat[1:]))
    assert sigmoid_flat[-1] > 0.75 and tanh_flat[-1] > 0.85  # 79% and 87% at scale 8
    # ReLU: flat for x < 0 (and at the grid point that rounds to 0), half of the
    # symmetric grid up to one point, the same at every scale
    relu_flat = {flat_fraction("relu", a) for a in grid}
    assert len(relu_flat) == 1 and abs(relu_flat.pop() - 0.5) <= 1 / figs.FLAT_POINTS
    assert "sigmoid 0%" in figs.explorer_frame(1.0).note and "ReLU 50%" in figs.explorer_frame(8.0).note


def test_explorer_live_sliders_each_change_the_right_lines():
    live = live_figure(figs.explorer_spec())
    before = live_lines(live)
    live.update(scale=4.0)
    after = live_lines(live)
    assert not np.allclose(after["value-sigmoid"][1], before["value-sigmoid"][1])
    # relu(a x) = a relu(x): the slope line does not move with the scale
    np.testing.assert_allclose(after["slope-relu"][1], before["slope-relu"][1])

    live.update(bias=2.0)
    shifted = live_lines(live)
    x = shifted["value-sigmoid"][0]
    np.testing.assert_allclose(shifted["value-sigmoid"][1], sigmoid(4.0 * x + 2.0), rtol=1e-12)

    live.update(slope=0.5)
    leaky = live_lines(live)
    negative = 4.0 * x + 2.0 < 0
    np.testing.assert_allclose(leaky["slope-leaky"][1][negative], 0.5)
    np.testing.assert_allclose(leaky["value-leaky"][1][~negative], shifted["value-leaky"][1][~negative])


def test_extreme_slider_values_are_drawn_without_warnings():
    check_extremes_draw(live_figure(figs.explorer_spec()))


# --- the static faces ------------------------------------------------------------------------


def test_static_face_holds_every_grid_point():
    spec = figs.explorer_spec()
    fig, data = static_data(spec)
    assert data["sizes"] == [len(c.grid) for c in spec.controls if len(c.grid) > 1]
    assert len(data["frames"]) == int(np.prod(data["sizes"]))
    assert all(len(frame["lines"]) == len(spec.styles) for frame in data["frames"])
