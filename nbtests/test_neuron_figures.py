"""The neurons chapter's interactive figures, driven headlessly: each live
slider changes the lines it should, extreme settings draw with a clear note and
no warning, and the static faces hold the same frames within the page budget."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bs4 import BeautifulSoup

from nnbook import neuron_figures as figs
from nnbook.neurons import LIF, firing_rate, logistic_loss, rheobase, simulate_lif, train_logistic
from nnbook.sliders import live_figure, static_figure


# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


@pytest.fixture(scope="module")
def problem():
    with jax.enable_x64(True):
        p = figs.NeuronProblem()
        ws, bs = train_logistic(jnp.zeros(2), 0.0, p.data.X, p.data.y, 2.0, 3000)
        p.trained = (ws[-1], bs[-1])
        return p


def lines(live):
    return {name: (line.get_xdata().copy(), line.get_ydata().copy()) for name, line in live.lines.items()}


def set_value(live, spec, name, value):
    control = {c.name: c for c in spec.controls}[name]
    live.sliders[name].value = 10**value if control.scale == "log" else value


# --- the LIF figure ---------------------------------------------------------------------------


def test_drawn_trace_keeps_every_spike_at_its_time():
    params = LIF()
    v, spikes = simulate_lif(params, jnp.full(1000, 5.0), 0.1)
    t, y = (np.asarray(a) for a in figs.drawn_trace(v, spikes, 0.1))
    assert len(t) == 1000 // figs.BLOCK + 1  # fixed shape: 0.5 ms per drawn point
    peaks = t[y == figs.V_PEAK]
    np.testing.assert_allclose(peaks, np.flatnonzero(np.asarray(spikes)) * 0.1, atol=1e-12)
    assert np.all(np.diff(t) > 0)
    # away from spikes the drawn points are the simulated voltages
    quiet = y != figs.V_PEAK
    np.testing.assert_allclose(y[quiet], np.asarray(v)[np.round(t[quiet] / 0.1).astype(int)])


def test_lif_live_sliders_each_change_the_figure():
    spec = figs.lif_spec(live=True)
    live = live_figure(spec)
    assert live.note.get_text() == "63.3 Hz simulated, 63.0 Hz formula"  # I = 2 nA, tau = 10 ms
    before = lines(live)
    assert np.max(before["trace"][1]) == figs.V_PEAK

    live.sliders["tau_m"].value = 40.0
    after = lines(live)
    assert np.all(after["fi"][1] <= before["fi"][1])  # a slower membrane fires less at every current
    assert after["point"][1][0] < before["point"][1][0]
    assert np.sum(after["trace"][1] == figs.V_PEAK) < np.sum(before["trace"][1] == figs.V_PEAK)

    live.sliders["v_th"].value = -55.0  # threshold 10 mV above rest: rheobase 1 nA
    assert live.lines["rheobase"].get_xdata()[0] == pytest.approx(1.0)
    assert live.lines["threshold"].get_ydata()[0] == pytest.approx(-55.0)

    live.sliders["current"].value = 0.5
    assert live.note.get_text() == "no spikes: I below rheobase 1.00 nA"
    assert np.max(live.lines["trace"].get_ydata()) < -55.0


def test_lif_notes_at_the_extremes_and_at_the_rheobase():
    spec = figs.lif_spec(live=True)
    live = live_figure(spec)
    live.sliders["current"].value = 0.0
    assert live.note.get_text() == "I = 0: no input, V stays at rest (-65 mV)"
    assert len(live.lines["point"].get_xdata()) == 0  # I = 0 has no place on the log axis
    np.testing.assert_array_equal(live.lines["trace"].get_ydata(), -65.0)

    live.sliders["current"].value = 1.5  # exactly the rheobase: V approaches V_th and never gets there
    assert live.note.get_text() == "no spikes: I below rheobase 1.50 nA"
    assert np.max(live.lines["trace"].get_ydata()) < -50.0

    live.sliders["current"].value = 50.0  # the ceiling: Euler's interval is a few steps, rate below formula
    note = live.note.get_text()
    assert "ceiling 1/t_ref = 500 Hz" in note
    simulated, formula = (float(s.split(" Hz")[0]) for s in note.split(", "))
    assert simulated < formula < 500.0


@pytest.mark.parametrize("v_th", np.linspace(-62.0, -40.0, 12))
def test_the_note_agrees_with_the_simulation_at_the_rheobase(v_th):
    params = LIF(v_th=float(v_th))
    i_th = float(rheobase(params))
    for current, fires in ((i_th, False), (i_th * (1 + 1e-6), True)):
        frame = figs.lif_frame(current, 10.0, float(v_th))
        assert frame.note.startswith("no spikes") != fires
        out = figs.lif_summary(params, current)
        assert (int(out["count"]) > 0) == fires


def test_lif_extremes_draw_without_warnings():
    spec = figs.lif_spec(live=True)
    live = live_figure(spec)
    for name, slider in live.sliders.items():
        for value in (slider.min, slider.max):
            set_value(live, spec, name, value)
            assert "cannot draw" not in live.note.get_text()
            for line in live.lines.values():
                assert np.all(np.isfinite(line.get_xydata()))


def static_data(spec):
    fig = static_figure(spec)
    soup = BeautifulSoup(fig.html, "html.parser")
    return fig, json.loads(soup.find("script", type="application/json").string)


def test_static_lif_face_covers_the_grid_with_the_right_notes():
    fig, data = static_data(figs.lif_spec())
    assert data["sizes"] == [len(figs.LIF_CURRENTS), len(figs.LIF_TAUS)]
    assert len(fig.html) < 300_000  # the page budget per static figure
    for params, drawn, note in fig.frames:
        current, tau = params["current"], params["tau_m"]
        if current == 0.0:
            assert note.startswith("I = 0")
        elif current < 1.5:
            assert note == "no spikes: I below rheobase 1.50 nA"
            assert np.max(drawn["trace"][1]) < -50.0
        else:
            simulated, formula = (float(s.split(" Hz")[0]) for s in note.split(" (")[0].split(", "))
            assert formula == pytest.approx(float(firing_rate(LIF(tau_m=tau), current)), abs=0.05)
            assert simulated == pytest.approx(formula, rel=0.05)  # Euler error, dt = 0.1 ms


def test_lif_frame_is_the_simulation_the_chapter_teaches():
    frame = figs.lif_frame(3.0, 20.0)
    params = LIF(tau_m=20.0)
    v, spikes = simulate_lif(params, jnp.full(figs.RATE_STEPS, 3.0), figs.DT)
    t, y = frame.lines["trace"]
    expected_t, expected_y = figs.drawn_trace(v[: figs.DRAW_STEPS + 1], spikes[: figs.DRAW_STEPS + 1], figs.DT)
    np.testing.assert_allclose(t, expected_t)
    np.testing.assert_allclose(y, expected_y)
    np.testing.assert_allclose(frame.lines["fi"][1], firing_rate(params, jnp.asarray(figs.FI_CURRENTS)))


# --- the artificial-neuron figure ------------------------------------------------------------


@pytest.mark.parametrize("w1, w2, c", [(1.0, 1.0, 0.0), (2.0, -1.0, 1.5), (0.0, 3.0, 2.0), (1.0, 0.0, -2.0),
                                       (4.5, 4.5, -0.3)])
def test_clip_line_ends_on_the_square_and_on_the_line(w1, w2, c):
    x, y = figs.clip_line(w1, w2, c)
    assert len(x) == 2
    lo, hi = figs.PLANE
    for a, b in zip(x, y):
        assert w1 * a + w2 * b == pytest.approx(c, abs=1e-12)
        assert lo - 1e-12 <= a <= hi + 1e-12 and lo - 1e-12 <= b <= hi + 1e-12
        assert min(abs(a - lo), abs(a - hi), abs(b - lo), abs(b - hi)) < 1e-12  # on the edge


def test_clip_line_misses_and_zero_weights():
    assert figs.clip_line(1.0, 0.0, 5.0) == ([], [])  # x1 = 5 is outside the square
    assert figs.clip_line(1.0, 1.0, 10.0) == ([], [])
    assert figs.clip_line(0.0, 0.0, 1.0) == ([], [])


def test_neuron_frame_notes_and_claims(problem):
    trained_loss = float(logistic_loss(*problem.trained, problem.data.X, problem.data.y))
    # "try w1 = w2 = 4.5, b = 0, close to the trained neuron"
    near = problem.frame(4.5, 4.5, 0.0)
    loss = float(near.note.split("loss ")[1].split(",")[0])
    assert loss == pytest.approx(trained_loss, abs=0.01)
    assert near.note.endswith("accuracy 94%")
    # "w = 0: the same output for every flower"
    zero = problem.frame(0.0, 0.0, 1.5)
    assert zero.note.startswith("w = 0: output σ(b) = 0.82 for every flower, no boundary")
    assert all(len(x) == 0 for x, _ in zero.lines.values())
    # "flip the sign of both weights": the mirror image, every correct answer becomes wrong
    assert problem.frame(-4.5, -4.5, 0.0).note.endswith("accuracy 6%")
    # the boundary leaves the square: everyone is on the side of the origin, sign of b
    out = problem.frame(1.5, 0.0, 6.0)
    assert out.note.startswith("boundary outside the square: every flower here is called virginica")
    assert problem.frame(1.5, 0.0, -6.0).note.startswith("boundary outside the square: every flower here is called versicolor")


def test_level_lines_close_in_as_the_weights_grow_and_w_points_to_virginica(problem):
    def spacing(w1, w2):
        frame = problem.frame(w1, w2, 0.0)
        # distance between the parallel lines sigma = 0.1 and sigma = 0.9: 2 ln 9 / |w|
        p10 = np.array(frame.lines["p10"])[:, 0]
        w = np.array([w1, w2])
        return abs(w @ p10 - (-math.log(9))) / np.linalg.norm(w), 2 * math.log(9) / np.linalg.norm(w)

    assert spacing(1.5, 1.5)[1] > spacing(3.0, 3.0)[1] > spacing(6.0, 6.0)[1]
    assert spacing(1.5, 1.5)[0] == pytest.approx(0.0, abs=1e-12)  # p10 really is w.x = -ln 9
    w = np.array([3.0, -1.5])
    boundary_point = np.array(problem.frame(3.0, -1.5, 0.0).lines["boundary"])[:, 0]
    assert jax.nn.sigmoid(w @ (boundary_point + 0.1 * w)) > 0.5  # a step along w: "virginica" side


def test_neuron_live_sliders_each_change_the_figure(problem):
    spec = figs.neuron_spec(problem, live=True)
    live = live_figure(spec)
    before = lines(live)
    for name, value in (("w1", 4.0), ("w2", 2.0), ("b", -1.0)):
        set_value(live, spec, name, value)
        after = lines(live)
        assert not np.allclose(after["boundary"][0], before["boundary"][0]) or not np.allclose(
            after["boundary"][1], before["boundary"][1]), name
        before = after
    # the drawn boundary is where w.x + b = 0
    x, y = live.lines["boundary"].get_data()
    np.testing.assert_allclose(4.0 * np.asarray(x) + 2.0 * np.asarray(y) - 1.0, 0.0, atol=1e-9)


def test_neuron_extremes_draw_without_warnings(problem):
    spec = figs.neuron_spec(problem, live=True)
    live = live_figure(spec)
    for name, slider in live.sliders.items():
        for value in (slider.min, slider.max, 0.0):
            set_value(live, spec, name, value)
            assert "cannot draw" not in live.note.get_text()
    for name in ("w1", "w2"):
        live.sliders[name].value = 0.0
    assert live.note.get_text().startswith("w = 0")


def test_static_neuron_face_is_complete_and_light(problem):
    fig, data = static_data(figs.neuron_spec(problem))
    assert data["sizes"] == [9, 9, 9]
    assert len(data["frames"]) == 729
    assert len(fig.html) < 300_000
