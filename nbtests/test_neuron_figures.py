"""The neurons chapter's interactive figures, driven headlessly: both faces
start at the spec's values, each live slider changes the lines it should,
extreme settings draw with a clear note and no warning, and the static faces
hold the same frames. References are closed forms of the LIF model and of the
logistic neuron's level lines, not the code under test."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_extremes_draw, check_faces_start_at_initial, live_lines, static_data
from nnbook import neuron_figures as figs
from nnbook.data import iris_petals
from nnbook.neurons import LIF, logistic_loss, rheobase, simulate_lif, train_logistic
from nnbook.sliders import live_figure

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


@pytest.fixture(scope="module")
def petals():
    with jax.enable_x64(True):
        return iris_petals()


@pytest.fixture(scope="module")
def trained(petals):
    with jax.enable_x64(True):
        ws, bs = train_logistic(jnp.zeros(2), 0.0, petals.X, petals.y, 2.0, 3000)
        return ws[-1], bs[-1]


@pytest.fixture(scope="module")
def frame(petals):
    with jax.enable_x64(True):
        return figs.neuron_frame(petals)


def closed_form_rate(current, tau_m=10.0, v_th=-50.0):
    """f = 1 / (t_ref + tau_m ln(R I / (R I - (V_th - V_rest)))) in Hz, with the
    LIF defaults written out (R = 10 MOhm, V_rest = V_reset = -65 mV, t_ref = 2 ms)."""
    drive, gap = 10.0 * current, v_th + 65.0
    return 0.0 if drive <= gap else 1000.0 / (2.0 + tau_m * math.log(drive / (drive - gap)))


def rates_in(note):
    simulated, formula = (float(s.split(" Hz")[0]) for s in note.split(" (")[0].split(", "))
    return simulated, formula


EULER_TOLERANCE = 0.025  # rel.: Euler at dt = 0.1 ms; the chapter measures at most 2.1% over its currents


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


def test_lif_faces_start_at_the_initial_values():
    check_faces_start_at_initial(figs.lif_spec())


def test_lif_live_sliders_each_change_the_figure():
    live = live_figure(figs.lif_spec())
    simulated, formula = rates_in(live.note.get_text())  # I = 2 nA, tau = 10 ms
    assert f"{formula:.1f}" == f"{closed_form_rate(2.0):.1f}"  # 63.0 Hz
    assert simulated == pytest.approx(formula, rel=EULER_TOLERANCE)
    before = live_lines(live)
    assert np.max(before["trace"][1]) == figs.V_PEAK

    live.update(tau_m=40.0)
    after = live_lines(live)
    assert np.all(after["fi"][1] <= before["fi"][1])  # a slower membrane fires less at every current
    assert after["point"][1][0] < before["point"][1][0]
    assert np.sum(after["trace"][1] == figs.V_PEAK) < np.sum(before["trace"][1] == figs.V_PEAK)

    live.update(v_th=-55.0)  # threshold 10 mV above rest: rheobase 1 nA
    assert live.lines["rheobase"].get_xdata()[0] == pytest.approx(1.0)
    assert live.lines["threshold"].get_ydata()[0] == pytest.approx(-55.0)

    live.update(current=0.5)
    assert live.note.get_text() == "no spikes: I below rheobase 1.00 nA"
    assert np.max(live.lines["trace"].get_ydata()) < -55.0


def test_lif_notes_at_the_extremes_and_at_the_rheobase():
    live = live_figure(figs.lif_spec())
    live.update(current=0.0)
    assert live.note.get_text() == "I = 0: no input, V stays at rest (-65 mV)"
    assert len(live.lines["point"].get_xdata()) == 0  # I = 0 has no place on the log axis
    np.testing.assert_array_equal(live.lines["trace"].get_ydata(), -65.0)

    live.update(current=1.5)  # exactly the rheobase: V approaches V_th and never gets there
    assert live.note.get_text() == "no spikes: I below rheobase 1.50 nA"
    assert np.max(live.lines["trace"].get_ydata()) < -50.0

    live.update(current=50.0)  # the ceiling: Euler's interval is a few steps, rate below formula
    note = live.note.get_text()
    assert "ceiling 1/t_ref = 500 Hz" in note
    simulated, formula = rates_in(note)
    assert simulated < formula < 500.0
    assert f"{formula:.1f}" == f"{closed_form_rate(50.0):.1f}"


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
    check_extremes_draw(live_figure(figs.lif_spec()))


def test_static_lif_face_covers_the_grid_with_the_right_notes():
    fig, data = static_data(figs.lif_spec())
    # the threshold is fixed on the page (a live-only slider)
    assert data["sizes"] == [len(figs.LIF_CURRENTS), len(figs.LIF_TAUS)]
    for params, drawn, note in fig.frames:
        current, tau = params["current"], params["tau_m"]
        if current == 0.0:
            assert note.startswith("I = 0")
        elif current < 1.5:
            assert note == "no spikes: I below rheobase 1.50 nA"
            assert np.max(drawn["trace"][1]) < -50.0
        else:
            simulated, formula = rates_in(note)
            assert formula == pytest.approx(closed_form_rate(current, tau), abs=0.05)  # printed to 0.1 Hz
            # rel. 5%: at 50 nA and tau 5 ms one interval is only ~30 Euler steps, so Euler is off by ~3%
            assert simulated == pytest.approx(formula, rel=0.05)


def test_lif_frame_charges_and_fires_as_the_closed_form_says():
    tau, current, dt = 20.0, 3.0, figs.DT
    frame = figs.lif_frame(current, tau)
    t, y = frame.lines["trace"]
    # before the first spike V(t) = V_inf + (V_rest - V_inf) exp(-t / tau): Euler's first-order error only
    v_inf = -65.0 + 10.0 * current
    first_spike = tau * math.log(10.0 * current / (10.0 * current - 15.0))  # ms, time to threshold
    rising = t < first_spike - 1.0
    np.testing.assert_allclose(y[rising], v_inf + (-65.0 - v_inf) * np.exp(-t[rising] / tau), atol=0.1)
    # spikes every t_ref + time to threshold, each drawn at its step (one Euler step late at most)
    spikes = t[y == figs.V_PEAK]
    period = 2.0 + first_spike
    np.testing.assert_allclose(spikes, first_spike + period * np.arange(len(spikes)), atol=2 * dt * (1 + len(spikes)))
    assert len(spikes) == int((figs.DRAW_STEPS * dt - first_spike) // period) + 1
    # the f-I line is the closed-form rate
    np.testing.assert_allclose(frame.lines["fi"][1], [closed_form_rate(i, tau) for i in figs.FI_CURRENTS], rtol=1e-12)


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


def test_neuron_frame_notes_and_claims(petals, trained, frame):
    trained_loss = float(logistic_loss(*trained, petals.X, petals.y))
    # "try w1 = w2 = 4.5, b = 0, close to the trained neuron"
    near = frame(4.5, 4.5, 0.0)
    loss = float(near.note.split("loss ")[1].split(",")[0])
    assert loss == pytest.approx(trained_loss, abs=0.01)
    assert near.note.endswith("accuracy 94%")
    # "w = 0: the same output for every flower"
    zero = frame(0.0, 0.0, 1.5)
    assert zero.note.startswith(f"w = 0: output σ(b) = {1 / (1 + math.exp(-1.5)):.2f} for every flower, no boundary")
    assert all(len(x) == 0 for x, _ in zero.lines.values())
    # "flip the sign of both weights": the mirror image, every correct answer becomes wrong
    assert frame(-4.5, -4.5, 0.0).note.endswith("accuracy 6%")
    # the boundary leaves the square: everyone is on the side of the origin, sign of b
    out = frame(1.5, 0.0, 6.0)
    assert out.note.startswith("boundary outside the square: every flower here is called virginica")
    assert frame(1.5, 0.0, -6.0).note.startswith("boundary outside the square: every flower here is called versicolor")


def test_level_lines_close_in_as_the_weights_grow_and_w_points_to_virginica(frame):
    def drawn_spacing(w1, w2):
        """Distance between the drawn lines sigma = 0.1 and sigma = 0.9, measured on the drawing."""
        lines = frame(w1, w2, 0.0).lines
        p10, p90 = np.array(lines["p10"]).T, np.array(lines["p90"]).T  # two end points each
        along = p10[1] - p10[0]
        normal = np.array([-along[1], along[0]]) / np.linalg.norm(along)
        assert abs((p90[1] - p90[0]) @ normal) < 1e-12  # parallel
        return abs((p90[0] - p10[0]) @ normal)

    spacings = [drawn_spacing(a, a) for a in (1.5, 3.0, 6.0)]
    for a, spacing in zip((1.5, 3.0, 6.0), spacings):
        # sigma(z) = 0.9 at z = ln 9 and 0.1 at z = -ln 9: 2 ln 9 / |w| apart
        assert spacing == pytest.approx(2 * math.log(9) / math.hypot(a, a), rel=1e-12)
    assert spacings[0] > spacings[1] > spacings[2]
    w = np.array([3.0, -1.5])
    boundary_point = np.array(frame(3.0, -1.5, 0.0).lines["boundary"])[:, 0]
    assert jax.nn.sigmoid(w @ (boundary_point + 0.1 * w)) > 0.5  # a step along w: "virginica" side


def test_neuron_faces_start_at_the_initial_values(petals, trained):
    check_faces_start_at_initial(figs.neuron_spec(petals, trained))


def test_neuron_live_sliders_each_change_the_figure(petals, trained):
    live = live_figure(figs.neuron_spec(petals, trained))
    before = live_lines(live)
    for name, value in (("w1", 4.0), ("w2", 2.0), ("b", -1.0)):
        live.update(**{name: value})
        after = live_lines(live)
        assert not np.allclose(after["boundary"][0], before["boundary"][0]) or not np.allclose(
            after["boundary"][1], before["boundary"][1]), name
        before = after
    # the drawn boundary is where w.x + b = 0
    x, y = live.lines["boundary"].get_data()
    np.testing.assert_allclose(4.0 * np.asarray(x) + 2.0 * np.asarray(y) - 1.0, 0.0, atol=1e-9)


def test_neuron_extremes_draw_without_warnings(petals, trained):
    live = live_figure(figs.neuron_spec(petals, trained))
    check_extremes_draw(live)
    live.update(w1=0.0, w2=0.0)
    assert live.note.get_text().startswith("w = 0")


def test_static_neuron_face_is_complete(petals, trained):
    fig, data = static_data(figs.neuron_spec(petals, trained))
    assert data["sizes"] == [9, 9, 9]
    assert len(data["frames"]) == 729
