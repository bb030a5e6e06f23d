"""The interactive figures of the neurons chapter, both faces.

Each ``*_frame`` function is pure: slider values in, line data out, computed
by the functions of :mod:`nnbook.neurons` that the chapter teaches, in one
jitted call with fixed shapes (a slider never changes an array shape, so it
never triggers a recompilation). The ``*_spec`` builders add the sliders, the
line styles and the background; the chapter passes them to
:func:`nnbook.sliders.live_figure` and :func:`nnbook.sliders.static_figure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.lines import Line2D

from nnbook.data import iris_petals
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


def _legend_outside(fig, styles, extra=(), where="outside lower center", ncol=3):
    """One legend for the whole figure, outside the axes so that it hides no
    data: what ``setup`` drew (``extra`` handles) and the moving lines (their
    ``Style`` labels; the moving lines themselves get no legend in the axes)."""
    handles = list(extra)
    for label, style in styles.items():
        handles.append(Line2D([], [], color=style.color, linewidth=style.width, linestyle="--" if style.dashed else "-",
                              marker="o" if style.marker else None, markersize=3.5, label=label))
    fig.legend(handles=handles, loc=where, ncol=ncol, fontsize=8, frameon=False)
    for artist in extra:  # already in the figure legend: keep them out of an axes legend
        artist.set_label("_" + artist.get_label())

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


@jax.jit
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
    "trace": Style(axes=0, color="C0", width=1.3),
    "threshold": Style(axes=0, color="C3", width=1.2, dashed=True),
    "v_inf": Style(axes=0, color="0.45", width=1.2, dashed=True),
    "fi": Style(axes=1, color="C0", width=1.6),
    "rheobase": Style(axes=1, color="C3", width=1.0, dashed=True),
    "point": Style(axes=1, color="C1", width=2.0, marker=True),
}
LIF_LEGEND = {
    "V(t), spikes drawn to +20 mV": LIF_STYLES["trace"],
    "threshold V_th": LIF_STYLES["threshold"],
    "V_rest + R I (where V heads)": LIF_STYLES["v_inf"],
    "f-I formula": LIF_STYLES["fi"],
    "rheobase I_th": LIF_STYLES["rheobase"],
    "simulated rate": LIF_STYLES["point"],
}


def _lif_setup(fig):
    trace, fi = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    trace.set(xlim=(0, DRAW_STEPS * DT), ylim=(-80, 35), xlabel="time t (ms)", ylabel="membrane potential V (mV)")
    trace.set_title("membrane potential, first 100 ms", fontsize=9)
    fi.set_xscale("log")
    ceiling = fi.axhline(1000.0 / LIF().t_ref, color="0.5", linestyle=":", linewidth=1.2, label="ceiling 1/t_ref")
    fi.set(xlim=(FI_CURRENTS[0], FI_CURRENTS[-1]), ylim=(0, 560), xlabel="input current I (nA)",
           ylabel="firing rate f (Hz)")
    fi.set_title("f-I curve and the rate of this run", fontsize=9)
    _legend_outside(fig, LIF_LEGEND, extra=[ceiling], ncol=4)
    return [trace, fi]


def lif_spec(live: bool = False) -> FigureSpec:
    controls = [
        Control("current", "input current I (nA)", LIF_CURRENTS, initial=2.0, fmt=".3g"),
        Control("tau_m", "time constant τ_m (ms)", LIF_TAUS, initial=10.0, fmt="g"),
    ]
    if live:
        controls = [
            Control("current", "input current I (nA)", (0.0, 2.0, 50.0), initial=2.0, live_steps=500),
            Control("tau_m", "time constant τ_m (ms)", (2.0, 10.0, 80.0), initial=10.0, live_steps=78),
            Control("v_th", "threshold V_th (mV)", (-62.0, -50.0, -40.0), initial=-50.0, live_steps=44),
        ]
    return FigureSpec(
        name="lif" + ("-live" if live else ""),
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
    "boundary": Style(color="C3", width=2.0),
    "p10": Style(color="C0", width=1.2, dashed=True),
    "p90": Style(color="C1", width=1.2, dashed=True),
}
NEURON_LEGEND = {
    "boundary σ(w·x + b) = 0.5": NEURON_STYLES["boundary"],
    "σ(w·x + b) = 0.1": NEURON_STYLES["p10"],
    "σ(w·x + b) = 0.9": NEURON_STYLES["p90"],
}


class NeuronProblem:
    """A logistic neuron on iris petals: the data (the figure's background) and
    the frame function of the w1, w2, b sliders."""

    def __init__(self):
        self.data = iris_petals()
        X, y = self.data.X, self.data.y
        # loss and accuracy at one setting, in one compiled call
        self._score = jax.jit(lambda w, b: (logistic_loss(w, b, X, y), accuracy(X @ w + b > 0, y == 1)))
        self.trained = None  # (w, b) drawn as a reference line, if set

    def frame(self, w1, w2, b) -> Frame:
        w1, w2, b = float(w1), float(w2), float(b)
        loss, acc = (float(a) for a in self._score(jnp.array([w1, w2]), b))
        # w . x + b = level  <=>  w . x = level - b
        lines = {name: clip_line(w1, w2, level - b) for name, level in LEVELS.items()}
        score = f"loss {loss:.3f}, accuracy {acc:.0%}"
        names = self.data.class_names
        if w1 == 0.0 and w2 == 0.0:
            note = f"w = 0: output σ(b) = {1 / (1 + np.exp(-b)):.2f} for every flower, no boundary; {score}"
        elif not lines["boundary"][0]:
            side = names[1] if b > 0 else names[0]
            note = f"boundary outside the square: every flower here is called {side}; {score}"
        else:
            note = score
        return Frame(lines, note)

    def setup(self, fig):
        ax = fig.add_subplot()
        X, y = np.asarray(self.data.X), np.asarray(self.data.y)
        handles = []
        for label, marker, color in ((0, "o", "C0"), (1, "^", "C1")):
            keep = y == label
            handles.append(ax.scatter(X[keep, 0], X[keep, 1], s=18, marker=marker, color=color, alpha=0.75,
                                      label=f"{self.data.class_names[label]} (y = {label})", zorder=2))
        if self.trained is not None:
            (t1, t2), tb = self.trained
            handles += ax.plot(*clip_line(float(t1), float(t2), -float(tb)), ":", color="0.35", linewidth=1.4,
                               label="trained boundary")
        ax.set(xlim=PLANE, ylim=PLANE, xlabel=f"x₁: {self.data.feature_names[0]} (standardised)",
               ylabel=f"x₂: {self.data.feature_names[1]} (standardised)")
        _legend_outside(fig, NEURON_LEGEND, extra=handles, where="outside right upper", ncol=1)
        ax.set_aspect("equal", adjustable="box")
        return [ax]


def neuron_spec(problem: NeuronProblem, live: bool = False) -> FigureSpec:
    controls = [
        Control("w1", "weight w₁", NEURON_WEIGHTS, initial=1.5, fmt="g"),
        Control("w2", "weight w₂", NEURON_WEIGHTS, initial=-1.5, fmt="g"),
        Control("b", "bias b", NEURON_BIASES, initial=0.0, fmt="g"),
    ]
    if live:
        controls = [
            Control("w1", "weight w₁", (-8.0, 1.5, 8.0), initial=1.5, live_steps=160),
            Control("w2", "weight w₂", (-8.0, -1.5, 8.0), initial=-1.5, live_steps=160),
            Control("b", "bias b", (-8.0, 0.0, 8.0), initial=0.0, live_steps=160),
        ]
    return FigureSpec(
        name="neuron" + ("-live" if live else ""),
        frame=problem.frame,
        controls=controls,
        styles=NEURON_STYLES,
        setup=problem.setup,
        alt=(
            "Versicolor and virginica iris flowers as points in the plane of standardised petal length and "
            "width, with the decision boundary of one logistic neuron (where its output is 0.5) and the lines "
            "where the output is 0.1 and 0.9. Sliders set the two weights and the bias."
        ),
        figsize=(6.6, 4.0),
    )
