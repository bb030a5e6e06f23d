"""The gradient-descent chapter's interactive figures, driven headlessly:
both faces start at the spec's values, each live slider changes the lines it
should (checked against a heavy-ball loop written out in NumPy), a diverging
setting says so without a warning, and the static face holds the frames the
chapter's claims need."""

import jax
import numpy as np
import pytest

from conftest import check_extremes_draw, check_faces_start_at_initial, live_lines, static_data
from nnbook import descent_figures as figs
from nnbook.optim import QUADRATIC_CURVATURES, QUADRATIC_START, sgd_problem
from nnbook.sliders import live_figure

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


@pytest.fixture(scope="module")
def problem():
    with jax.enable_x64(True):
        return sgd_problem(jax.random.key(7))


def heavy_ball_by_hand(w0, eta, beta, steps):
    """The heavy ball on L(w) = (a_min w1^2 + a_max w2^2)/2, written out: v <- beta v - eta A w, w <- w + v."""
    curvature = np.array(QUADRATIC_CURVATURES)
    w, v, path = np.array(w0, dtype=float), np.zeros(2), [np.array(w0, dtype=float)]
    for _ in range(steps):
        v = beta * v - eta * curvature * w
        w = w + v
        path.append(w)
    return np.array(path)


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "sgd", "adam"])
def test_both_faces_start_at_the_initial_values(name, problem):
    spec = {"quadratic": figs.quadratic_spec, "rosenbrock": figs.rosenbrock_spec,
            "sgd": lambda: figs.sgd_spec(problem), "adam": figs.adam_spec}[name]()
    check_faces_start_at_initial(spec)


def test_quadratic_live_sliders_each_change_the_figure():
    live = live_figure(figs.quadratic_spec())
    before = live_lines(live)
    # the path drawn is the heavy-ball trajectory at the slider values
    expected = heavy_ball_by_hand(QUADRATIC_START, 0.2, 0.0, 60)
    np.testing.assert_allclose(np.column_stack(before["path"]), expected, rtol=1e-12, atol=1e-14)
    assert len(before["loss"][0]) == 61

    live.update(momentum=0.5)
    after = live_lines(live)
    np.testing.assert_allclose(np.column_stack(after["path"]), heavy_ball_by_hand(QUADRATIC_START, 0.2, 0.5, 60),
                               rtol=1e-12, atol=1e-14)

    live.update(start_w1=3.0, start_w2=-2.0)
    assert live.lines["path"].get_xdata()[0] == 3.0 and live.lines["path"].get_ydata()[0] == -2.0
    assert list(live.lines["start"].get_xydata()[0]) == [3.0, -2.0]

    live.update(steps=100)
    assert len(live.lines["loss"].get_xdata()) == 101

    live.update(learning_rate=0.01)
    assert not live.note.get_visible()
    assert live.lines["loss"].get_ydata()[-1] > 1e-3  # tiny steps: far from the minimum


@pytest.mark.parametrize("learning_rate", [0.3, 0.5])
def test_diverging_learning_rate_shows_the_message_and_no_warning(learning_rate):
    live = live_figure(figs.quadratic_spec())
    live.update(momentum=0.0, learning_rate=learning_rate)
    assert live.note.get_visible()
    assert live.note.get_text().startswith("diverged after ")
    steps = int(live.note.get_text().split()[2])
    assert len(live.lines["path"].get_xdata()) <= steps + 1
    # all drawn numbers are finite (the axes stay readable)
    for line in live.lines.values():
        assert np.all(np.isfinite(line.get_xydata()))


def test_extreme_slider_values_are_drawn_without_warnings(problem):
    for spec in (figs.quadratic_spec(), figs.rosenbrock_spec(), figs.sgd_spec(problem), figs.adam_spec()):
        check_extremes_draw(live_figure(spec))


def test_rosenbrock_live_learning_rate_and_momentum():
    live = live_figure(figs.rosenbrock_spec())
    live.update(learning_rate=0.002)
    plain = live_lines(live)["loss"][1][-1]
    live.update(momentum=0.9)
    assert live_lines(live)["loss"][1][-1] < plain / 100
    live.update(learning_rate=0.01)
    assert live.note.get_text().startswith("diverged after")


def test_sgd_live_batch_size_changes_the_cost_axis(problem):
    live = live_figure(figs.sgd_spec(problem))
    live.update(batch_size=32)
    x = live.lines["loss"].get_xdata()
    assert x[-1] == 32 * figs.SGD_STEPS  # examples processed = b per step
    live.update(steps=10)
    assert len(live.lines["path"].get_xdata()) == 11


def test_push_momentum_to_point_nine_overshoots_and_spirals_slowly():
    # the chapter: at eta = 0.25, beta = 0.25 is tuned; beta = 0.9 is much slower
    tuned = figs.quadratic_frame(0.25, 0.25).lines["loss"][1][-1]
    heavy = figs.quadratic_frame(0.25, 0.9).lines["loss"][1][-1]
    assert heavy > 1e6 * tuned
    path = np.array(figs.quadratic_frame(0.25, 0.9).lines["path"])
    assert np.sum(np.diff(np.sign(path[0])) != 0) >= 5  # w1 crosses the minimum again and again


def test_static_quadratic_face_covers_the_grid_and_marks_divergence():
    fig, data = static_data(figs.quadratic_spec())
    # start and steps are fixed on the page: only the two sliders the prose names move
    assert data["sizes"] == [len(figs.QUADRATIC_LEARNING_RATES), len(figs.QUADRATIC_MOMENTA)]
    notes = {(p["learning_rate"], p["momentum"]): n for p, _, n in fig.frames}
    # plain GD: stable below 2/lambda_max = 0.222, diverging above (the chapter's claim)
    for eta in figs.QUADRATIC_LEARNING_RATES:
        assert notes[eta, 0.0].startswith("diverged") == (eta > 2 / 9)
    # momentum moves the limit to 2(1 + beta)/lambda_max: 0.25 diverges without momentum but not with 0.25
    assert notes[0.25, 0.25] == ""


def adam_by_hand(gradient, w0, eta, decay, steps):
    """Adam (Kingma & Ba 2015, Algorithm 1) with eta_k = eta / (1 + decay k), written out in NumPy."""
    w, m, v, path = np.array(w0, dtype=float), np.zeros(2), np.zeros(2), [np.array(w0, dtype=float)]
    for k in range(1, steps + 1):
        g = gradient(w)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - eta / (1 + decay * (k - 1)) * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
        path.append(w)
    return np.array(path)


def test_adam_live_sliders_move_adam_and_not_the_heavy_ball():
    live = live_figure(figs.adam_spec())
    assert set(live.lines) == {"adam_quadratic", "adam_valley"}  # the heavy ball is background: it never moves
    curvature = np.array(QUADRATIC_CURVATURES)
    for eta, decay in [(0.5, 0.0), (0.1, 0.01)]:
        live.update(learning_rate=eta, decay=decay)
        drawn = np.column_stack(live_lines(live)["adam_quadratic"])
        np.testing.assert_allclose(drawn, adam_by_hand(lambda w: curvature * w, QUADRATIC_START, eta, decay,
                                                       figs.ADAM_STEPS), rtol=1e-9, atol=1e-12)
        assert live.note.get_text().startswith(f"Adam after {figs.ADAM_STEPS} steps")


def test_adam_static_face_covers_both_sliders():
    fig, data = static_data(figs.adam_spec())
    assert data["sizes"] == [len(figs.ADAM_LEARNING_RATES), len(figs.ADAM_DECAYS)]
    assert len(fig.frames) == len(figs.ADAM_LEARNING_RATES) * len(figs.ADAM_DECAYS)
