"""The interactive figures of the gradient-descent chapter, both faces.

Each ``*_frame`` function is pure: slider values in, line data out, computed
by the functions of :mod:`nnbook.optim` that the chapter teaches. The ``*_spec``
builders add the sliders, line styles and the background drawing; the chapter
shows each with :func:`nnbook.sliders.interactive_figure`. The problems
themselves (losses, start points, the SGD data) live in :mod:`nnbook.optim`.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from nnbook import OPTIMISED, optimised  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.optim import (
    QUADRATIC_CURVATURES,
    QUADRATIC_MINIMUM,
    QUADRATIC_START,
    ROSENBROCK_MINIMUM,
    ROSENBROCK_START,
    SGD_MAX_BATCH,
    SGDProblem,
    adam_descent,
    divergence_step,
    momentum_descent,
    quadratic_loss,
    rosenbrock,
    sgd_trajectory,
    tuned_momentum,
    tuned_plain,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

LOSS_FLOOR = 1e-30  # an exact zero has no logarithm; plotted below the axes anyway


@partial(jax.jit, static_argnames=("loss",), compiler_options=OPTIMISED)
def _summary(loss, trajectory, w_star):
    """Everything a frame needs from a trajectory, in one compiled call (eager
    JAX ops cost tens of microseconds each; a slider redraw has 50 ms in all)."""
    excess = jax.vmap(loss)(trajectory) - loss(w_star)
    # An exact zero has no logarithm, inf/NaN no pixel: both end up off the axes.
    excess = jnp.where(jnp.isfinite(excess), jnp.maximum(excess, LOSS_FLOOR), 1e300)
    error = jnp.linalg.norm(trajectory - w_star, axis=-1)
    return excess, error, divergence_step(trajectory, w_star)


def trajectory_frame(loss, trajectory, w_star, steps: int, x_of_step=None) -> Frame:
    """Path and loss curve of the first ``steps`` steps, cut where the run diverged."""
    w_star = jnp.asarray(w_star, dtype=trajectory.dtype)
    excess, error, first_out = (np.asarray(a) for a in _summary(loss, trajectory, w_star))
    whole = np.asarray(trajectory)  # NumPy from here on: no eager JAX op (each compiles per shape)
    path = whole[: steps + 1]
    excess, error = excess[: steps + 1], error[: steps + 1]
    note = ""
    if first_out <= steps:
        note = f"diverged after {int(first_out)} steps"
        keep = np.arange(len(path)) <= first_out
        keep &= np.all(np.isfinite(path), axis=1)  # the escaping point is drawn unless inf/NaN
        path, excess = path[keep], excess[keep]
    elif error[-1] > error[0]:
        note = "not converging: farther from the minimum than at the start"
    k = np.arange(len(path))
    x = k if x_of_step is None else x_of_step(k)
    start = whole[0]
    lines = {"path": (path[:, 0], path[:, 1]), "loss": (x, excess), "start": ([start[0]], [start[1]])}
    return Frame(lines, note)


# run on every slider move: its own optimised program (momentum_descent itself is also called inside jit)
_momentum_descent_optimised = optimised(momentum_descent, static_argnames=("loss", "steps"))


def descent_frame(loss, w_star, w0, learning_rate, momentum, steps, max_steps) -> Frame:
    """Heavy-ball trajectory and its loss curve. Always runs ``max_steps`` (one
    compiled program for every value of the steps slider) and shows ``steps``."""
    trajectory = _momentum_descent_optimised(loss, jnp.asarray(w0, float), learning_rate, momentum, max_steps)
    return trajectory_frame(loss, trajectory, w_star, int(steps))


@partial(jax.jit, static_argnames=("loss",), compiler_options=OPTIMISED)
def _loss_on_grid(loss, X, Y):
    """The loss at every point of a mesh: one compiled call per loss."""
    return jax.vmap(jax.vmap(lambda a, b: loss(jnp.array([a, b]))))(X, Y)


@partial(jax.jit, static_argnames=("loss",), compiler_options=OPTIMISED)
def _losses_along(loss, path):
    """The loss at every iterate of a path: one compiled call."""
    return jax.vmap(loss)(path)


def _contours(ax, loss, xlim, ylim, levels, minimum):
    # Eager, but compiled once: every figure's mesh has the same shapes. (Inside a jit,
    # linspace with traced ends rounds some points differently: the contours would move.)
    X, Y = jnp.meshgrid(jnp.linspace(*xlim, 200), jnp.linspace(*ylim, 200))
    Z = _loss_on_grid(loss, X, Y)
    ax.contour(np.asarray(X), np.asarray(Y), np.asarray(Z), levels=levels, colors="0.6", linewidths=0.8)
    ax.plot(*minimum, "*", color="gold", markeredgecolor="0.2", markersize=13, label="minimum", zorder=3)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$w_1$", ylabel="$w_2$")
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)


def _loss_axes(ax, steps, ylim):
    ax.set_yscale("log")
    ax.set(xlim=(0, steps), ylim=ylim, xlabel="step $k$", ylabel="$L(w_k) - L(w^*)$")


def _styles(path_label: str):
    return {
        "path": Style(axes=0, color="C0", width=1.4, marker=True, label=path_label),
        "loss": Style(axes=1, color="C0", width=1.8),
        "start": Style(axes=0, color="0.2", width=1.0, marker=True, label="start"),  # a slider can move it
    }


# ----------------------------------------------------------------------------
# The ill-conditioned quadratic
# ----------------------------------------------------------------------------

QUADRATIC_LEARNING_RATES = (0.02, 0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.3, 0.35, 0.4, 0.45)
QUADRATIC_MOMENTA = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)
QUADRATIC_STEPS = 100  # the most steps a run shows (the steps slider's end and the loss axis)


def quadratic_frame(learning_rate, momentum, start_w1=QUADRATIC_START[0], start_w2=QUADRATIC_START[1], steps=60):
    return descent_frame(quadratic_loss, QUADRATIC_MINIMUM, (start_w1, start_w2), learning_rate, momentum, steps,
                         QUADRATIC_STEPS)


def _quadratic_setup(fig):
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    _contours(left, quadratic_loss, (-5.0, 5.0), (-3.0, 3.0), np.geomspace(0.05, 60, 12), QUADRATIC_MINIMUM)
    left.set_title("$L(w) = (w_1^2 + 9 w_2^2)/2$")
    _loss_axes(right, QUADRATIC_STEPS, (1e-14, 1e4))
    eta, _ = tuned_plain(*QUADRATIC_CURVATURES)
    reference = momentum_descent(quadratic_loss, jnp.array(QUADRATIC_START), eta, 0.0, QUADRATIC_STEPS)
    right.plot(np.arange(QUADRATIC_STEPS + 1), np.asarray(_losses_along(quadratic_loss, reference)), ":", color="0.45",
               label=f"tuned plain GD ($\\eta$ = {eta:.2g})\nfrom ({QUADRATIC_START[0]:g}, {QUADRATIC_START[1]:g})")
    right.set_title("loss per step")
    return [left, right]


def quadratic_spec() -> FigureSpec:
    w1, w2 = QUADRATIC_START
    controls = [
        Control("learning_rate", "learning rate η", 0.2, live=(0.002, 0.2 * 10**0.4, 0.02),
                grid=QUADRATIC_LEARNING_RATES, scale="log"),
        Control("momentum", "momentum β", 0.0, live=(0.0, 0.99, 0.01), grid=QUADRATIC_MOMENTA),
        Control("start_w1", "start w₁", w1, live=(-4.5, 4.5, 0.1), grid=(w1,)),
        Control("start_w2", "start w₂", w2, live=(-2.5, 2.5, 0.1), grid=(w2,)),
        Control("steps", "steps", 60, live=(1, QUADRATIC_STEPS, 1), grid=(60,), integer=True),
    ]
    return FigureSpec(
        name="gd-quadratic",
        frame=quadratic_frame,
        controls=controls,
        styles=_styles("gradient descent"),
        setup=_quadratic_setup,
        alt=(
            "Left: contour lines of an elongated bowl with the path of gradient descent from a start point "
            "towards the minimum at the centre. Right: the loss at each step on a logarithmic scale, with the "
            "curve of plain gradient descent at its best learning rate for comparison. Sliders set the "
            "learning rate and the momentum."
        ),
        figsize=(9.0, 3.4),
    )


# ----------------------------------------------------------------------------
# The Rosenbrock valley
# ----------------------------------------------------------------------------

ROSENBROCK_LEARNING_RATES = (0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004)
ROSENBROCK_MOMENTA = (0.0, 0.5, 0.8, 0.9)
ROSENBROCK_STEPS = 250


def rosenbrock_frame(learning_rate, momentum, start_w1=ROSENBROCK_START[0], start_w2=ROSENBROCK_START[1], steps=250):
    return descent_frame(rosenbrock, ROSENBROCK_MINIMUM, (start_w1, start_w2), learning_rate, momentum, steps,
                         ROSENBROCK_STEPS)


def _rosenbrock_setup(fig):
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    _contours(left, rosenbrock, (-2.0, 2.0), (-1.0, 3.0), np.geomspace(0.1, 1500, 14), ROSENBROCK_MINIMUM)
    left.set_title("Rosenbrock: $(1 - w_1)^2 + 100 (w_2 - w_1^2)^2$", fontsize=9)
    _loss_axes(right, ROSENBROCK_STEPS, (1e-12, 1e4))
    right.set_title("loss per step")
    return [left, right]


def rosenbrock_spec() -> FigureSpec:
    w1, w2 = ROSENBROCK_START
    controls = [
        Control("learning_rate", "learning rate η", 0.001, live=(0.0001, 0.01, 0.02),
                grid=ROSENBROCK_LEARNING_RATES, scale="log"),
        Control("momentum", "momentum β", 0.0, live=(0.0, 0.99, 0.01), grid=ROSENBROCK_MOMENTA),
        Control("start_w1", "start w₁", w1, live=(-1.9, 1.9, 0.1), grid=(w1,)),
        Control("start_w2", "start w₂", w2, live=(-0.9, 2.9, 0.1), grid=(w2,)),
        Control("steps", "steps", ROSENBROCK_STEPS, live=(1, ROSENBROCK_STEPS, 1), grid=(ROSENBROCK_STEPS,),
                integer=True),
    ]
    return FigureSpec(
        name="gd-rosenbrock",
        frame=rosenbrock_frame,
        controls=controls,
        styles=_styles("gradient descent"),
        setup=_rosenbrock_setup,
        alt=(
            "Left: contour lines of the curved Rosenbrock valley with the path of gradient descent from "
            "(-1.2, 1) towards the minimum at (1, 1). Right: the loss at each step on a logarithmic scale. "
            "Sliders set the learning rate and the momentum."
        ),
        figsize=(9.0, 3.4),
    )


# ----------------------------------------------------------------------------
# Mini-batch SGD on the diabetes data
# ----------------------------------------------------------------------------

SGD_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SGD_LEARNING_RATES = (0.02, 0.05, 0.1, 0.2, 0.4)
SGD_STEPS = 100


def sgd_frame(problem: SGDProblem):
    """The frame function of the SGD figure: a closure over the problem."""

    def frame(batch_size, learning_rate, steps=SGD_STEPS) -> Frame:
        trajectory = sgd_trajectory(problem, batch_size, learning_rate, SGD_STEPS)
        # x axis: examples processed, b per step; step 0 is drawn at 1 (log axis).
        return trajectory_frame(problem.loss, trajectory, problem.w_star, int(steps),
                                x_of_step=lambda k: np.maximum(k * int(batch_size), 1))

    return frame


def _sgd_setup(problem: SGDProblem):
    def setup(fig):
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        w1, w2 = (float(v) for v in problem.w_star)
        levels = float(problem.best_loss) + np.geomspace(0.002, 1.5, 10)
        _contours(left, problem.loss, (-1.0, 1.5), (-0.5, 1.7), levels, (w1, w2))
        left.set(xlabel="weight of bmi", ylabel="weight of s5")
        left.set_title("mini-batch SGD, least squares", fontsize=9)
        right.set_xscale("log")
        right.set_yscale("log")
        right.set(xlim=(1, SGD_STEPS * SGD_MAX_BATCH), ylim=(1e-6, 3), xlabel="examples processed",
                  ylabel="$L(w_k) - L(w^*)$")
        right.set_title("cost: b examples per step", fontsize=9)
        return [left, right]

    return setup


def sgd_spec(problem: SGDProblem) -> FigureSpec:
    controls = [
        Control("batch_size", "batch size b", 8, live=(1, SGD_MAX_BATCH, 1), grid=SGD_BATCH_SIZES, integer=True),
        Control("learning_rate", "learning rate η", 0.1, live=(0.01, 1.0, 0.02), grid=SGD_LEARNING_RATES,
                scale="log"),
        Control("steps", "steps", SGD_STEPS, live=(1, SGD_STEPS, 1), grid=(SGD_STEPS,), integer=True),
    ]
    return FigureSpec(
        name="sgd",
        frame=sgd_frame(problem),
        controls=controls,
        styles=_styles("SGD"),
        setup=_sgd_setup(problem),
        alt=(
            "Left: contour lines of the least-squares loss of two diabetes features with the noisy path of "
            "mini-batch stochastic gradient descent towards the exact solution. Right: the loss against the "
            "number of examples processed, on logarithmic axes. Sliders set the batch size and the learning rate."
        ),
        figsize=(8.6, 3.4),
    )


# ----------------------------------------------------------------------------
# Adam next to the heavy ball, on both problems
# ----------------------------------------------------------------------------

ADAM_LEARNING_RATES = (0.05, 0.1, 0.2, 0.5, 1.0)
ADAM_DECAYS = (0.0, 0.001, 0.003, 0.01, 0.03)
ADAM_STEPS = 500
ROSENBROCK_HEAVY_BALL = (0.002, 0.9)  # the chapter's momentum setting in the valley (eta, beta)


@partial(jax.jit, compiler_options=OPTIMISED)
def adam_paths(learning_rate, decay):
    """Adam on the quadratic and on the Rosenbrock valley, with the final loss of
    each: one compiled call per slider move."""
    on_quadratic = adam_descent(quadratic_loss, jnp.array(QUADRATIC_START), learning_rate, ADAM_STEPS, decay)
    on_valley = adam_descent(rosenbrock, jnp.array(ROSENBROCK_START), learning_rate, ADAM_STEPS, decay)
    return on_quadratic, on_valley, quadratic_loss(on_quadratic[-1]), rosenbrock(on_valley[-1])


def heavy_ball_paths():
    """The two momentum runs Adam is compared with: Polyak's tuned setting on
    the quadratic, the chapter's (eta, beta) = (0.002, 0.9) in the valley."""
    eta, beta, _ = tuned_momentum(*QUADRATIC_CURVATURES)
    on_quadratic = momentum_descent(quadratic_loss, jnp.array(QUADRATIC_START), eta, beta, ADAM_STEPS)
    on_valley = momentum_descent(rosenbrock, jnp.array(ROSENBROCK_START), *ROSENBROCK_HEAVY_BALL, ADAM_STEPS)
    return on_quadratic, on_valley


def adam_frame(learning_rate, decay) -> Frame:
    on_quadratic, on_valley, loss_quadratic, loss_valley = (np.asarray(a) for a in adam_paths(learning_rate, decay))
    note = f"Adam after {ADAM_STEPS} steps: L = {loss_quadratic:.1e} (quadratic), {loss_valley:.1e} (valley)"
    lines = {"adam_quadratic": (on_quadratic[:, 0], on_quadratic[:, 1]),
             "adam_valley": (on_valley[:, 0], on_valley[:, 1])}
    return Frame(lines, note)


def _adam_setup(fig):
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    _contours(left, quadratic_loss, (-5.0, 5.0), (-3.0, 3.0), np.geomspace(0.05, 60, 12), QUADRATIC_MINIMUM)
    _contours(right, rosenbrock, (-2.0, 2.0), (-1.0, 3.0), np.geomspace(0.1, 1500, 14), ROSENBROCK_MINIMUM)
    left.set_title("quadratic, $\\kappa$ = 9", fontsize=9)
    right.set_title("Rosenbrock valley", fontsize=9)
    on_quadratic, on_valley = (np.asarray(p) for p in heavy_ball_paths())
    for ax, path in ((left, on_quadratic), (right, on_valley)):
        ax.plot(path[:, 0], path[:, 1], color="C1", linewidth=1.2, label="heavy ball (fixed)")
    return [left, right]


def adam_spec() -> FigureSpec:
    controls = [
        Control("learning_rate", "Adam's learning rate η", 0.5, live=(0.005, 5.0, 0.05), grid=ADAM_LEARNING_RATES,
                scale="log"),
        Control("decay", "schedule decay d", 0.0, live=(0.0, 0.1, 0.001), grid=ADAM_DECAYS, fmt=".3g"),
    ]
    styles = {
        "adam_quadratic": Style(axes=0, color="C0", width=1.4, label="Adam, $\\eta_k = \\eta/(1 + d\\,k)$"),
        "adam_valley": Style(axes=1, color="C0", width=1.4, label="Adam, $\\eta_k = \\eta/(1 + d\\,k)$"),
    }
    return FigureSpec(
        name="gd-adam",
        frame=adam_frame,
        controls=controls,
        styles=styles,
        setup=_adam_setup,
        alt=(
            "Two contour plots, the elongated quadratic bowl and the curved Rosenbrock valley, each with the "
            f"path of {ADAM_STEPS} steps of heavy-ball momentum (fixed) and of Adam. Sliders set Adam's learning "
            "rate and the decay of its learning-rate schedule."
        ),
        figsize=(9.0, 3.4),
        legend="below",
    )


# ----------------------------------------------------------------------------
# Static figures of the chapter (drawing only; the numbers come from the chapter)
# ----------------------------------------------------------------------------


def regimes_figure(runs, learning_rates, regimes):
    """Four panels: w_k against k for each learning rate of the 1-D example."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(10, 2.6), sharey=True)
    for ax, run, eta, regime in zip(axes, runs, learning_rates, regimes, strict=True):
        ax.plot(np.asarray(run), "o-", markersize=3)
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.set(title=f"η = {eta}: {regime}", xlabel="step k", ylim=(-3, 3))
    axes[0].set_ylabel("$w_k$")
    return fig


def sweep_figure(etas, betas, log_final, lambda_max, tuned, best):
    """log10 of the loss after the sweep's steps over the (beta, eta) grid (NaN
    cells white), the stability limit 2(1 + beta)/lambda_max, Polyak's tuned
    setting and the best cell, each given as (eta, beta)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 3.8))
    b, e = np.asarray(betas), np.asarray(etas)
    mesh = ax.pcolormesh(b, e, log_final, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="log$_{10}$ loss after 30 steps")
    ax.plot(b, 2 * (1 + b) / lambda_max, "r--", label="stability limit $2(1+\\beta)/\\lambda_{\\max}$")
    ax.plot(tuned[1], tuned[0], "*", color="gold", markeredgecolor="k", markersize=14, label="Polyak's tuned setting")
    ax.plot(best[1], best[0], "s", mfc="none", mec="w", markersize=9, label="best cell of the grid")
    ax.set(xlabel="momentum β", ylabel="learning rate η", ylim=(0, 0.6))
    ax.legend(loc="upper left", fontsize=8, frameon=True)
    return fig
