"""The interactive figures of the neurons chapter, both faces.

Each ``*_frame`` function is pure: slider values in, line data out, computed
by the functions of :mod:`nnbook.neurons` that the chapter teaches, in one
jitted call with fixed shapes (a slider never changes an array shape, so it
never triggers a recompilation). The ``*_spec`` builders add the sliders, the
line styles and the background; the chapter shows each with
:func:`nnbook.sliders.interactive_figure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs on every slider move
from nnbook.neurons import (
    LIF,
    accuracy,
    firing_rate,
    logistic_loss,
    rate_from_intervals,
    rheobase,
    simulate_lif,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

# ----------------------------------------------------------------------------
# The LIF neuron under a constant current
# ----------------------------------------------------------------------------

DT = 0.1  # ms, Euler step of every simulation in the figure
RATE_STEPS = 10_000  # 1 s: the firing rate in the note is measured over this
DRAW_STEPS = 1_000  # 100 ms of the run are drawn
BLOCK = 5  # one drawn sample per 0.5 ms (keeps the in-page figure light)
V_PEAK = 20.0  # mV: where a spike is drawn (the LIF model has no spike shape)
FI_CURRENTS = np.geomspace(0.1, 100.0, 40)  # nA, the f-I curve on a log axis
LIF_CURRENTS = (0.0, 0.5, 1.0, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 20.0, 50.0)
LIF_TAUS = (5.0, 10.0, 20.0, 40.0, 80.0)


def drawn_trace(v, spikes, dt, block=BLOCK):
    """A membrane trace thinned for drawing: one sample per ``block`` steps,
    except that a block holding a spike is drawn as the spike, at its exact
    time and at V_PEAK. Pure JAX, fixed shapes."""
    n = (v.shape[0] - 1) // block
    v_blocks = v[: n * block].reshape(n, block)
    s_blocks = spikes[: n * block].reshape(n, block)
    has_spike = s_blocks.any(axis=1)
    start = jnp.arange(n) * block
    t = jnp.where(has_spike, start + jnp.argmax(s_blocks, axis=1), start) * dt
    y = jnp.where(has_spike, V_PEAK, v_blocks[:, 0])
    return jnp.append(t, n * block * dt), jnp.append(y, v[n * block])


@jax.jit(compiler_options=OPTIMISED)
def lif_summary(params: LIF, current):
    """Everything the LIF figure shows, in one compiled call: the drawn trace
    of the first 100 ms, the number of spikes and the rate (mean inter-spike
    interval) over 1 s, the closed-form rate and f-I curve."""
    v, spikes = simulate_lif(params, jnp.full(RATE_STEPS, current), DT)
    t_drawn, v_drawn = drawn_trace(v[: DRAW_STEPS + 1], spikes[: DRAW_STEPS + 1], DT)
    return dict(
        t=t_drawn,
        v=v_drawn,
        count=jnp.sum(spikes),
        rate=rate_from_intervals(spikes, DT),
        formula=firing_rate(params, current),
        fi=firing_rate(params, jnp.asarray(FI_CURRENTS)),
    )


def lif_note(params: LIF, current: float, count: int, rate: float, formula: float) -> str:
    """What the figure says about one setting, in words and Hz."""
    i_th = float(rheobase(params))
    if current == 0.0:
        return f"I = 0: no input, V stays at rest ({params.v_rest:g} mV)"
    if current <= i_th:
        return f"no spikes: I below rheobase {i_th:.2f} nA"
    if count < 2:
        return f"{count} spike(s) in 1 s: rate below 1 Hz (formula {formula:.2f} Hz)"
    note = f"{rate:.1f} Hz simulated, {formula:.1f} Hz formula"
    if formula > 0.8 * 1000.0 / params.t_ref:
        note += f" (ceiling 1/t_ref = {1000.0 / params.t_ref:.0f} Hz)"
    return note


def lif_frame(current, tau_m=10.0, v_th=-50.0) -> Frame:
    """Membrane trace of a LIF neuron under a constant current, and where that
    current sits on the f-I curve."""
    params = LIF(tau_m=float(tau_m), v_th=float(v_th))
    out = {k: np.asarray(a) for k, a in lif_summary(params, float(current)).items()}
    count, rate, formula = int(out["count"]), float(out["rate"]), float(out["formula"])
    v_inf = params.v_rest + params.r_m * current
    t_end = DRAW_STEPS * DT
    lines = {
        "trace": (out["t"], out["v"]),
        "threshold": ([0.0, t_end], [v_th, v_th]),
        "v_inf": ([0.0, t_end], [v_inf, v_inf]),
        "fi": (FI_CURRENTS, out["fi"]),
        "rheobase": ([float(rheobase(params))] * 2, [0.0, 600.0]),
        # log axis: I = 0 has no place on it (the note says what happens)
        "point": ([current], [rate]) if current > 0 else ([], []),
    }
    return Frame(lines, lif_note(params, float(current), count, rate, formula))


LIF_STYLES = {
    "trace": Style(axes=0, color="C0", width=1.3, label="V(t), spikes drawn to +20 mV"),
    "threshold": Style(axes=0, color="C3", width=1.2, dashed=True, label="threshold V_th"),
    "v_inf": Style(axes=0, color="0.45", width=1.2, dashed=True, label="V_rest + R I (where V heads)"),
    "fi": Style(axes=1, color="C0", width=1.6, label="f-I formula"),
    "rheobase": Style(axes=1, color="C3", width=1.0, dashed=True, label="rheobase I_th"),
    "point": Style(axes=1, color="C1", width=2.0, marker=True, label="simulated rate"),
}


def _lif_setup(fig):
    trace, fi = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    trace.set(xlim=(0, DRAW_STEPS * DT), ylim=(-80, 35), xlabel="time t (ms)", ylabel="membrane potential V (mV)")
    trace.set_title("membrane potential, first 100 ms", fontsize=9)
    fi.set_xscale("log")
    fi.axhline(1000.0 / LIF().t_ref, color="0.5", linestyle=":", linewidth=1.2, label="ceiling 1/t_ref")
    fi.set(xlim=(FI_CURRENTS[0], FI_CURRENTS[-1]), ylim=(0, 560), xlabel="input current I (nA)",
           ylabel="firing rate f (Hz)")
    fi.set_title("f-I curve and the rate of this run", fontsize=9)
    return [trace, fi]


def lif_spec() -> FigureSpec:
    controls = [
        Control("current", "input current I (nA)", 2.0, live=(0.0, 50.0, 0.125), grid=LIF_CURRENTS, fmt=".3g"),
        Control("tau_m", "time constant τ_m (ms)", 10.0, live=(2.0, 80.0, 1.0), grid=LIF_TAUS, fmt="g"),
        Control("v_th", "threshold V_th (mV)", -50.0, live=(-62.0, -40.0, 0.5), grid=(-50.0,), fmt="g"),
    ]
    return FigureSpec(
        name="lif",
        frame=lif_frame,
        controls=controls,
        styles=LIF_STYLES,
        setup=_lif_setup,
        alt=(
            "Left: the membrane potential of a leaky integrate-and-fire neuron over 100 ms under a constant "
            "input current, rising towards V_rest + R I, with spikes drawn where it reaches the dashed "
            "threshold. Right: the firing rate against the input current on a logarithmic axis, zero below "
            "the rheobase and saturating at 1/t_ref, with the simulated rate of this run as a dot. Sliders set "
            "the current and the membrane time constant."
        ),
        figsize=(9.0, 3.6),
        legend="below",
    )


# ----------------------------------------------------------------------------
# The artificial neuron on two iris features
# ----------------------------------------------------------------------------

PLANE = (-2.6, 2.6)  # the square of standardised feature values that is drawn
LEVELS = {"boundary": 0.0, "p10": float(np.log(0.1 / 0.9)), "p90": float(np.log(0.9 / 0.1))}
NEURON_WEIGHTS = (-6.0, -4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5, 6.0)
NEURON_BIASES = (-6.0, -4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5, 6.0)


def clip_line(w1, w2, c, lo=PLANE[0], hi=PLANE[1]):
    """The segment of the line w1 x1 + w2 x2 = c inside the square [lo, hi]^2,
    as ``([x1, x1'], [x2, x2'])``; empty lists if the line misses the square
    or w = 0 (then there is no line). Liang-Barsky clipping, no division by 0."""
    norm2 = w1 * w1 + w2 * w2
    if norm2 == 0.0:
        return [], []
    p0 = np.array([w1, w2]) * c / norm2  # the point of the line closest to the origin
    d = np.array([-w2, w1]) / np.sqrt(norm2)  # a unit vector along the line
    t_lo, t_hi = -np.inf, np.inf
    for k in range(2):
        if d[k] == 0.0:
            if not lo <= p0[k] <= hi:
                return [], []
            continue
        a, b = (lo - p0[k]) / d[k], (hi - p0[k]) / d[k]
        t_lo, t_hi = max(t_lo, min(a, b)), min(t_hi, max(a, b))
    if t_lo >= t_hi:
        return [], []
    ends = np.array([p0 + t_lo * d, p0 + t_hi * d])
    return list(ends[:, 0]), list(ends[:, 1])


NEURON_STYLES = {
    "boundary": Style(color="C3", width=2.0, label="boundary σ(w·x + b) = 0.5"),
    "p10": Style(color="C0", width=1.2, dashed=True, label="σ(w·x + b) = 0.1"),
    "p90": Style(color="C1", width=1.2, dashed=True, label="σ(w·x + b) = 0.9"),
}


def neuron_frame(data):
    """The frame function of the w1, w2, b sliders: a closure over the data
    (loss and accuracy at one setting in one compiled call)."""
    X, y = data.X, data.y
    score = jax.jit(lambda w, b: (logistic_loss(w, b, X, y), accuracy(X @ w + b > 0, y == 1)))

    def frame(w1, w2, b) -> Frame:
        w1, w2, b = float(w1), float(w2), float(b)
        loss, acc = (float(a) for a in score(jnp.array([w1, w2]), b))
        # w . x + b = level  <=>  w . x = level - b
        lines = {name: clip_line(w1, w2, level - b) for name, level in LEVELS.items()}
        summary = f"loss {loss:.3f}, accuracy {acc:.0%}"
        names = data.class_names
        if w1 == 0.0 and w2 == 0.0:
            note = f"w = 0: output σ(b) = {1 / (1 + np.exp(-b)):.2f} for every flower, no boundary; {summary}"
        elif not lines["boundary"][0]:
            side = names[1] if b > 0 else names[0]
            note = f"boundary outside the square: every flower here is called {side}; {summary}"
        else:
            note = summary
        return Frame(lines, note)

    return frame


def _neuron_setup(data, trained=None):
    def setup(fig):
        ax = fig.add_subplot()
        X, y = np.asarray(data.X), np.asarray(data.y)
        for label, marker, color in ((0, "o", "C0"), (1, "^", "C1")):
            keep = y == label
            ax.scatter(X[keep, 0], X[keep, 1], s=18, marker=marker, color=color, alpha=0.75,
                       label=f"{data.class_names[label]} (y = {label})", zorder=2)
        if trained is not None:
            (t1, t2), tb = np.asarray(trained[0]), trained[1]  # NumPy: unpacking compiles nothing
            ax.plot(*clip_line(float(t1), float(t2), -float(tb)), ":", color="0.35", linewidth=1.4,
                    label="trained boundary")
        ax.set(xlim=PLANE, ylim=PLANE, xlabel=f"x₁: {data.feature_names[0]} (standardised)",
               ylabel=f"x₂: {data.feature_names[1]} (standardised)")
        ax.set_aspect("equal", adjustable="box")
        return [ax]

    return setup


def neuron_spec(data, trained=None) -> FigureSpec:
    """The logistic neuron on ``data``; ``trained = (w, b)`` is drawn as a
    dotted reference line."""
    controls = [
        Control("w1", "weight w₁", 1.5, live=(-8.0, 8.0, 0.125), grid=NEURON_WEIGHTS, fmt="g"),
        Control("w2", "weight w₂", -1.5, live=(-8.0, 8.0, 0.125), grid=NEURON_WEIGHTS, fmt="g"),
        Control("b", "bias b", 0.0, live=(-8.0, 8.0, 0.125), grid=NEURON_BIASES, fmt="g"),
    ]
    return FigureSpec(
        name="neuron",
        frame=neuron_frame(data),
        controls=controls,
        styles=NEURON_STYLES,
        setup=_neuron_setup(data, trained),
        alt=(
            "Versicolor and virginica iris flowers as points in the plane of standardised petal length and "
            "width, with the decision boundary of one logistic neuron (where its output is 0.5) and the lines "
            "where the output is 0.1 and 0.9. Sliders set the two weights and the bias."
        ),
        figsize=(6.6, 4.0),
    )
