"""Neurons, the brain's and the artificial one.

Taught in the chapter "Neurons: the brain's and the artificial one"
(chapters/01_neurons.ipynb). Pure functions, in the book's physical units:

    time t in ms, voltage V in mV, current I in nA, resistance R in MOhm,
    capacitance C in nF  (so R I is in mV and tau_m = R C is in ms),
    firing rates in Hz (spikes per second: 1000 / (interval in ms)).

The leaky integrate-and-fire (LIF) neuron,

    tau_m dV/dt = -(V - V_rest) + R I(t),   spike and reset when V reaches V_th,

is simulated with forward Euler inside ``jax.lax.scan`` (one compiled call per
run); its closed forms (the charging curve below threshold, the firing rate
above the rheobase, the postsynaptic potential of one synaptic current) are
here too, so that the chapter and the tests can check one against the other.
The second half is the artificial neuron y = phi(w . x + b), the dense layer,
the logistic loss and the gradient-descent routine that trains it (later
chapters reuse ``dense``, ``accuracy`` and ``gradient_descent`` by name).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnbook.calculus import bisect

MS_PER_S = 1000.0  # rates in Hz from intervals in ms

# ----------------------------------------------------------------------------
# The leaky integrate-and-fire neuron
# ----------------------------------------------------------------------------


class LIF(NamedTuple):
    """Parameters of a leaky integrate-and-fire neuron (a JAX pytree, so a
    simulation can be ``vmap``-ed over any of them).

    Defaults are textbook values for a cortical neuron
    (Dayan & Abbott 2001, ch. 5; Gerstner et al. 2014, ch. 1): rest at -65 mV,
    threshold 15 mV above it, R = 10 MOhm and C = 1 nF so tau_m = 10 ms,
    reset to rest, 2 ms refractory period.
    """

    v_rest: float = -65.0  # mV, resting potential
    v_th: float = -50.0  # mV, spike threshold
    v_reset: float = -65.0  # mV, voltage after a spike
    r_m: float = 10.0  # MOhm, membrane resistance
    tau_m: float = 10.0  # ms, membrane time constant R C
    t_ref: float = 2.0  # ms, absolute refractory period


def membrane_capacitance(params: LIF) -> float:
    """C = tau_m / R, in nF (ms / MOhm)."""
    return params.tau_m / params.r_m


def rheobase(params: LIF):
    """The smallest constant current that ever makes the neuron fire:
    the steady state V_rest + R I must reach V_th, so I_th = (V_th - V_rest) / R (nA)."""
    return (params.v_th - params.v_rest) / params.r_m


@jax.jit
def charging_curve(params: LIF, current, t):
    """Closed form below threshold, from rest with constant current I:
    V(t) = V_rest + R I (1 - exp(-t / tau_m))."""
    return params.v_rest + params.r_m * current * (1.0 - jnp.exp(-jnp.asarray(t) / params.tau_m))


@jax.jit
def time_to_threshold(params: LIF, current):
    """Time (ms) to charge from V_reset to V_th with constant current I:
    tau_m ln((V_inf - V_reset) / (V_inf - V_th)) with V_inf = V_rest + R I;
    infinite when V_inf does not exceed V_th (pure JAX: no warnings)."""
    v_inf = params.v_rest + params.r_m * current
    fires = v_inf > params.v_th
    safe_gap = jnp.where(fires, v_inf - params.v_th, 1.0)  # keeps the unused branch finite
    interval = params.tau_m * jnp.log((v_inf - params.v_reset) / safe_gap)
    return jnp.where(fires, interval, jnp.inf)


@jax.jit
def firing_rate(params: LIF, current):
    """The f-I curve in closed form (Hz): one spike per t_ref + time_to_threshold,

        f(I) = 1 / (t_ref + tau_m ln((R I - (V_reset - V_rest)) / (R I - (V_th - V_rest)))),

    and 0 below the rheobase. With V_reset = V_rest this is
    1 / (t_ref + tau_m ln(R I / (R I - (V_th - V_rest)))). It never exceeds 1 / t_ref."""
    return MS_PER_S / (params.t_ref + time_to_threshold(params, current))


def lif_step(params: LIF, state, current, dt):
    """One forward-Euler step of length dt (ms) with input current (nA).

    ``state = (v, refractory_left)``. During the refractory period V is held at
    V_reset; otherwise V moves by dt/tau_m (-(V - V_rest) + R I). Reaching V_th
    emits a spike and resets V. Returns the new state and (v, spike).
    """
    v, refractory = state
    free = refractory < 0.5 * dt  # robust to rounding in the countdown
    v_next = v + dt / params.tau_m * (-(v - params.v_rest) + params.r_m * current)
    v_next = jnp.where(free, v_next, params.v_reset)
    spike = free & (v_next >= params.v_th)
    v_next = jnp.where(spike, params.v_reset, v_next)
    refractory = jnp.where(spike, params.t_ref, refractory - dt)
    return (v_next, refractory), (v_next, spike)


@jax.jit
def simulate_lif(params: LIF, current, dt):
    """Simulate from rest with the input ``current[k]`` (nA) during step k.

    Returns ``(v, spikes)``, both of length ``len(current) + 1``: the membrane
    potential (mV) and whether a spike was emitted, at times t_k = k dt
    (index 0 is the start, at rest, with no spike). One ``lax.scan``, compiled
    once per number of steps; params and dt are traced, so a sweep over them
    does not recompile.
    """
    current = jnp.asarray(current)
    v0 = jnp.asarray(params.v_rest, dtype=current.dtype)
    state0 = (v0, jnp.zeros_like(v0) - 1.0)  # not refractory at the start
    _, (v, spikes) = jax.lax.scan(lambda s, i: lif_step(params, s, i, dt),
                                  state0, current)
    return jnp.concatenate([v0[None], v]), jnp.concatenate([jnp.zeros(1, bool), spikes])


def spike_times(spikes, dt) -> np.ndarray:
    """Times (ms) of the spikes in a boolean spike train sampled every dt."""
    return np.flatnonzero(np.asarray(spikes)) * float(dt)


def rate_from_intervals(spikes, dt):
    """Firing rate (Hz) as 1 / (mean inter-spike interval): (n - 1) spikes per
    (last - first) spike time. 0 with fewer than two spikes. Pure JAX (jit,
    vmap). Unlike count / duration, this does not depend on where the window
    ends, and from the first spike on the neuron is in its periodic regime."""
    spikes = jnp.asarray(spikes)
    count = jnp.sum(spikes)
    first = jnp.argmax(spikes)
    last = spikes.shape[-1] - 1 - jnp.argmax(spikes[::-1])
    span = jnp.maximum(last - first, 1) * dt
    return jnp.where(count >= 2, MS_PER_S * (count - 1) / span, 0.0)


@partial(jax.jit, static_argnames=("steps",))
def simulated_rate(params: LIF, current, dt, steps: int):
    """Firing rate (Hz) of a simulation with constant ``current`` over
    ``steps`` Euler steps, from the mean inter-spike interval. vmap over
    currents gives the simulated f-I curve."""
    _, spikes = simulate_lif(params, jnp.full(steps, current), dt)
    return rate_from_intervals(spikes, dt)


def find_rheobase(
    params: LIF, lo: float, hi: float, dt: float = 0.1, steps: int = 10_000, iterations: int = 60
) -> float:
    """The rheobase found by bisection on simulations, with no formula: the
    smallest constant current at which the neuron spikes within ``steps``
    steps (:func:`nnbook.calculus.bisect`). ``lo`` must stay silent and ``hi`` must fire."""

    def fires(current):
        _, spikes = simulate_lif(params, jnp.full(steps, current), dt)
        return bool(jnp.any(spikes))

    if fires(lo) or not fires(hi):
        raise ValueError(f"bisection needs a silent lo ({lo} nA) and a firing hi ({hi} nA).")
    return bisect(fires, lo, hi, iterations)


# ----------------------------------------------------------------------------
# Synapses: spike trains in, current out
# ----------------------------------------------------------------------------


POISSON_MAX_COUNT = 64  # counts per step are drawn from 0 ... 64: exact for mean counts up to about 20


def poisson_spike_counts(key, rate_hz, n_inputs: int, steps: int, dt):
    """Spike counts per time step of ``n_inputs`` independent Poisson spike
    trains of ``rate_hz`` each, summed (a sum of Poisson counts is Poisson,
    with mean lam = n_inputs rate dt per step).

    Drawn by inverting the cumulative distribution: a uniform u gives the
    count k with P(k - 1) < u <= P(k), P the cumulative Poisson probabilities
    up to POISSON_MAX_COUNT (the tail beyond is below 1e-15 for lam <= 20; the
    chapters use lam = 0.2). A few vector operations, quick to compile, where
    ``jax.random.poisson`` compiles a rejection-sampling loop."""
    lam = n_inputs * rate_hz * dt / MS_PER_S
    k = jnp.arange(POISSON_MAX_COUNT, dtype=jnp.result_type(float))
    log_pmf = k * jnp.log(jnp.maximum(lam, 1e-300)) - lam - jax.scipy.special.gammaln(k + 1.0)
    cdf = jnp.cumsum(jnp.where(lam > 0, jnp.exp(log_pmf), k == 0))
    u = jax.random.uniform(key, (steps, 1), dtype=cdf.dtype)
    return jnp.sum(u > cdf, axis=1).astype(cdf.dtype)


@jax.jit
def synaptic_current(counts, weights, tau_s, dt):
    """Exponential synapses: every input spike adds its weight (nA) to the
    current, which then decays with time constant tau_s (ms),

        I[k] = I[k-1] exp(-dt / tau_s) + sum_j w_j counts_j[k].

    ``counts`` has shape (steps, groups), ``weights`` shape (groups,): positive
    weights are excitatory synapses, negative ones inhibitory."""
    decay = jnp.exp(-dt / tau_s)
    drive = jnp.asarray(counts) @ jnp.asarray(weights)

    def step(i, d):
        i = i * decay + d
        return i, i

    _, current = jax.lax.scan(step, jnp.zeros((), drive.dtype), drive)
    return current


@jax.jit
def psp_closed_form(params: LIF, weight, tau_s, t):
    """Postsynaptic potential (mV) of one input spike at t = 0 through an
    exponential synapse, I(t) = w exp(-t / tau_s), below threshold:

        V(t) - V_rest = R w tau_s / (tau_s - tau_m) (exp(-t / tau_s) - exp(-t / tau_m))

    (tau_s != tau_m). It rises, peaks and decays back to rest."""
    t = jnp.asarray(t)
    amplitude = params.r_m * weight * tau_s / (tau_s - params.tau_m)
    return params.v_rest + amplitude * (jnp.exp(-t / tau_s) - jnp.exp(-t / params.tau_m))


@jax.jit
def psp_peak_time(tau_m, tau_s):
    """When the postsynaptic potential peaks: t* = tau_m tau_s ln(tau_m / tau_s) / (tau_m - tau_s)."""
    return tau_m * tau_s * jnp.log(tau_m / tau_s) / (tau_m - tau_s)


@partial(jax.jit, static_argnames=("duration_ms",))
def rates_with_noise(params: LIF, noise, mean_currents, dt, duration_ms: float):
    """The f-I curve under fluctuating input: for each mean current I, the rate
    (Hz, spike count / duration) of a run driven by ``I + noise``, where
    ``noise`` is a zero-mean current (nA per step). One compiled call, vmapped
    over the mean currents; every run sees the same fluctuations."""

    def rate(mean_current):
        _, spikes = simulate_lif(params, mean_current + noise, dt)
        return MS_PER_S * jnp.sum(spikes) / duration_ms

    return jax.vmap(rate)(jnp.asarray(mean_currents))


# ----------------------------------------------------------------------------
# Synaptic plasticity: spike-timing-dependent plasticity (STDP)
# ----------------------------------------------------------------------------


class STDP(NamedTuple):
    """A pair-based STDP rule with exponential windows (Song, Miller & Abbott
    2000): a presynaptic spike followed by a postsynaptic one, dt = t_post -
    t_pre > 0 apart, changes the weight by A+ exp(-dt / tau+); the reverse
    order (dt < 0) by -A- exp(dt / tau-). Amplitudes are fractions of a
    maximal weight; depression slightly outweighs potentiation (A- = 1.05 A+)."""

    a_plus: float = 0.005
    a_minus: float = 0.00525
    tau_plus: float = 20.0  # ms
    tau_minus: float = 20.0  # ms


@jax.jit
def stdp_window(rule: STDP, delta_t):
    """The weight change of one spike pair, W(dt), dt = t_post - t_pre in ms
    (0 when the two spikes coincide)."""
    delta_t = jnp.asarray(delta_t)
    potentiate = rule.a_plus * jnp.exp(-jnp.abs(delta_t) / rule.tau_plus)
    depress = -rule.a_minus * jnp.exp(-jnp.abs(delta_t) / rule.tau_minus)
    return jnp.where(delta_t > 0, potentiate, jnp.where(delta_t < 0, depress, 0.0))


def stdp_window_integral(rule: STDP):
    """The area under the window, A+ tau+ - A- tau- (ms): the average change per
    unit of pre- and postsynaptic rate when the two trains are independent."""
    return rule.a_plus * rule.tau_plus - rule.a_minus * rule.tau_minus


@jax.jit
def stdp_online(rule: STDP, pre, post, dt):
    """The total weight change of STDP over whole spike trains, computed the
    way a synapse could: online, from two local traces. ``pre`` has shape
    (steps,) or (steps, synapses), ``post`` shape (steps,), both on the time
    grid t_k = k dt. Each presynaptic spike leaves a trace that decays with
    tau+; a postsynaptic spike adds A+ times that trace (pre before post). Each
    postsynaptic spike leaves a trace that decays with tau-; a presynaptic
    spike subtracts A- times it (post before pre). The sum equals W(t_post -
    t_pre) summed over all pairs of spikes. Returns the change per synapse."""
    pre = jnp.asarray(pre, dtype=jnp.result_type(float))
    post = jnp.asarray(post, dtype=pre.dtype)
    decay_pre, decay_post = jnp.exp(-dt / rule.tau_plus), jnp.exp(-dt / rule.tau_minus)

    def step(carry, spikes):
        trace_pre, trace_post, dw = carry
        pre_k, post_k = spikes
        trace_pre, trace_post = trace_pre * decay_pre, trace_post * decay_post
        # read the traces before this step's own spikes join them:
        # coincident spikes change nothing
        dw = dw + rule.a_plus * trace_pre * post_k - rule.a_minus * trace_post * pre_k
        return (trace_pre + pre_k, trace_post + post_k, dw), None

    zeros = jnp.zeros(pre.shape[1:], pre.dtype)
    start = (zeros, jnp.zeros((), pre.dtype), zeros)  # the two traces and dw
    (_, _, dw), _ = jax.lax.scan(step, start, (pre, post))
    return dw


def parameter_count(params) -> int:
    """How many numbers a model learns: the total size of every array in a
    pytree of parameters (a weight vector, a tuple (W, b), a dict of layers)."""
    return sum(int(np.size(leaf)) for leaf in jax.tree.leaves(params))


# ----------------------------------------------------------------------------
# The artificial neuron
# ----------------------------------------------------------------------------


def neuron(w, b, x, phi=jax.nn.sigmoid):
    """One artificial neuron: y = phi(w . x + b). The weights play the role of
    synaptic strengths, -b of a threshold, phi of a smoothed f-I curve."""
    return phi(jnp.dot(w, x) + b)


def identity(z):
    return z


def dense(W, b, x, phi=identity):
    """A dense layer: many neurons side by side, each with its own row of W
    and entry of b, y = phi(W x + b), one matrix-vector product. Written
    x W^T + b, it takes one example x (a vector) or a batch (one example per
    row) alike. Taught in chapter 1; chapters 2 and 5 stack it."""
    return phi(x @ W.T + b)


def logistic_loss(w, b, X, y):
    """Mean cross-entropy of a logistic neuron p = sigmoid(X w + b) on labels y in {0, 1}:
    -mean(y log p + (1 - y) log(1 - p)), written as mean(softplus(z) - y z)
    so that large |z| neither overflows nor takes log(0)."""
    z = X @ w + b
    return jnp.mean(jax.nn.softplus(z) - y * z)


def logistic_gradient_by_hand(w, b, X, y):
    """The closed-form gradient of :func:`logistic_loss`: with the residual
    r = sigmoid(X w + b) - y, dL/dw = X^T r / n and dL/db = mean(r)."""
    r = jax.nn.sigmoid(X @ w + b) - y
    return X.T @ r / X.shape[0], jnp.mean(r)


def accuracy(predicted, labels):
    """Fraction of examples whose predicted class equals the label, for
    example ``accuracy(X @ w + b > 0, y == 1)`` for a logistic neuron.
    Taught in chapter 1; chapters 2 and 5 predict with an argmax."""
    return jnp.mean((jnp.asarray(predicted) == jnp.asarray(labels)).astype(jnp.result_type(float)))


@partial(jax.jit, static_argnames=("loss", "steps", "gradient"))
def gradient_descent(loss, params0, learning_rate, steps: int, gradient=None):
    """``steps`` steps of gradient descent, params <- params - learning_rate *
    grad L(params), inside one ``lax.scan``; returns the parameters after every
    step, stacked along a new leading axis of length ``steps + 1`` (index 0:
    the start). ``params0`` is any pytree of arrays (a vector, a tuple
    ``(w, b)``, a list of layers); ``gradient`` defaults to ``jax.grad(loss)``
    and may be a gradient written by hand.

    Taught in chapter 1; chapters 2, 4 and 5 call it. ``loss`` and
    ``gradient`` are static: ``jit`` compiles once per function object, so
    make a closure once and reuse it."""
    grad = jax.grad(loss) if gradient is None else gradient
    params0 = jax.tree.map(lambda w: jnp.asarray(w, dtype=jnp.result_type(float)),
                           params0)

    def step(params, _):
        params = jax.tree.map(lambda w, g: w - learning_rate * g, params, grad(params))
        return params, params

    _, history = jax.lax.scan(step, params0, None, length=steps)
    return jax.tree.map(lambda w0, ws: jnp.concatenate([w0[None], ws]),
                        params0, history)


@partial(jax.jit, static_argnames=("steps",))
def train_logistic(w0, b0, X, y, learning_rate, steps: int):
    """:func:`gradient_descent` on :func:`logistic_loss`; returns the weights
    and bias after every step (``steps + 1`` rows each, start included)."""
    return gradient_descent(lambda p: logistic_loss(p[0], p[1], X, y), (w0, b0), learning_rate, steps)
