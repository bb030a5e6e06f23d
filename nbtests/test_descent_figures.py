"""The gradient-descent chapter's interactive figures, driven headlessly:
each live slider changes the lines it should, a diverging setting says so
without a warning, and the static face holds the same frames."""

import json

import jax
import numpy as np
import pytest
from bs4 import BeautifulSoup

from nnbook import descent_figures as figs
from nnbook.optim import momentum_descent
from nnbook.sliders import live_figure, static_figure


# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


@pytest.fixture(scope="module")
def problem():
    return figs.SGDProblem(jax.random.key(7))


def lines(live):
    return {name: (line.get_xdata().copy(), line.get_ydata().copy()) for name, line in live.lines.items()}


def test_quadratic_live_sliders_each_change_the_figure():
    live = live_figure(figs.quadratic_spec(live=True))
    before = lines(live)
    # the path drawn is the trajectory of momentum_descent at the slider values
    expected = np.asarray(momentum_descent(figs.quadratic_loss, np.array(figs.QUADRATIC_START), 0.2, 0.0, 60))
    np.testing.assert_allclose(before["path"][0], expected[:, 0], rtol=1e-6)
    assert len(before["loss"][0]) == 61

    live.sliders["momentum"].value = 0.5
    after = lines(live)
    assert not np.allclose(after["path"][1], before["path"][1])

    live.sliders["start_w1"].value = 3.0
    assert live.lines["path"].get_xdata()[0] == pytest.approx(3.0, abs=0.05)

    live.sliders["start_w2"].value = -2.0
    assert live.lines["path"].get_ydata()[0] == pytest.approx(-2.0, abs=0.03)

    live.sliders["steps"].value = 150
    assert len(live.lines["loss"].get_xdata()) == 151

    live.sliders["learning_rate"].value = 0.01
    assert not live.note.get_visible()
    assert live.lines["loss"].get_ydata()[-1] > 1e-3  # tiny steps: far from the minimum


@pytest.mark.parametrize("learning_rate", [0.3, 0.5])
def test_diverging_learning_rate_shows_the_message_and_no_warning(learning_rate):
    live = live_figure(figs.quadratic_spec(live=True))
    live.sliders["momentum"].value = 0.0
    live.sliders["learning_rate"].value = learning_rate
    assert live.note.get_visible()
    assert live.note.get_text().startswith("diverged after ")
    steps = int(live.note.get_text().split()[2])
    assert len(live.lines["path"].get_xdata()) <= steps + 1
    # all drawn numbers are finite (the axes stay readable)
    for line in live.lines.values():
        assert np.all(np.isfinite(line.get_xydata()))


def test_extreme_slider_values_are_drawn_without_warnings(problem):
    for spec in (figs.quadratic_spec(live=True), figs.rosenbrock_spec(live=True), figs.sgd_spec(problem, live=True)):
        live = live_figure(spec)
        for name, slider in live.sliders.items():
            for value in (slider.min, slider.max):
                slider.value = 10**value if spec.controls[[c.name for c in spec.controls].index(name)].scale == "log" else value
                assert "cannot draw" not in live.note.get_text()


def test_rosenbrock_live_learning_rate_and_momentum():
    live = live_figure(figs.rosenbrock_spec(live=True))
    live.sliders["learning_rate"].value = 0.002
    plain = lines(live)["loss"][1][-1]
    live.sliders["momentum"].value = 0.9
    assert lines(live)["loss"][1][-1] < plain / 100
    live.sliders["learning_rate"].value = 0.01
    assert live.note.get_text().startswith("diverged after")


def test_sgd_live_batch_size_changes_the_cost_axis(problem):
    live = live_figure(figs.sgd_spec(problem, live=True))
    live.sliders["batch_size"].value = 32
    x = live.lines["loss"].get_xdata()
    assert x[-1] == 32 * figs.SGD_STEPS  # examples processed = b per step
    live.sliders["steps"].value = 10
    assert len(live.lines["path"].get_xdata()) == 11


def test_push_momentum_to_point_nine_overshoots_and_spirals_slowly():
    # the chapter: at eta = 0.25, beta = 0.25 is tuned; beta = 0.9 is much slower
    tuned = figs.quadratic_frame(0.25, 0.25).lines["loss"][1][-1]
    heavy = figs.quadratic_frame(0.25, 0.9).lines["loss"][1][-1]
    assert heavy > 1e6 * tuned
    path = np.array(figs.quadratic_frame(0.25, 0.9).lines["path"])
    assert np.sum(np.diff(np.sign(path[0])) != 0) >= 5  # w1 crosses the minimum again and again


def static_data(spec):
    fig = static_figure(spec)
    soup = BeautifulSoup(fig.html, "html.parser")
    return fig, json.loads(soup.find("script", type="application/json").string)


def test_static_quadratic_face_covers_the_grid_and_marks_divergence():
    fig, data = static_data(figs.quadratic_spec())
    assert data["sizes"] == [len(figs.QUADRATIC_LEARNING_RATES), len(figs.QUADRATIC_MOMENTA)]
    notes = {(p["learning_rate"], p["momentum"]): n for p, _, n in fig.frames}
    # plain GD: stable below 2/L = 0.222, diverging above (the chapter's claim)
    for eta in figs.QUADRATIC_LEARNING_RATES:
        assert notes[eta, 0.0].startswith("diverged") == (eta > 2 / 9)
    # momentum moves the limit to 2(1 + beta)/L: 0.25 diverges without momentum but not with 0.25
    assert notes[0.25, 0.25] == ""


def test_static_page_weight_of_the_chapter_figures(problem):
    sizes = [len(static_figure(spec).html) for spec in (figs.quadratic_spec(), figs.rosenbrock_spec(), figs.sgd_spec(problem))]
    assert sum(sizes) < 1_000_000  # the page budget is 3 MB with everything else
