"""The interactive figures of the gradient-descent chapter, both faces.

Each ``*_frame`` function is pure: slider values in, line data out, computed
by the functions of :mod:`nnbook.optim` that the chapter teaches. The ``*_spec``
builders add the sliders, line styles and the background drawing; the chapter
passes them to :func:`nnbook.sliders.live_figure` and
:func:`nnbook.sliders.static_figure`.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from nnbook.data import diabetes
from nnbook.optim import (
    divergence_step,
    least_squares_solution,
    mean_squared_error,
    minibatch_sgd,
    momentum_descent,
    quadratic,
    rosenbrock,
    tuned_plain,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

# Losses are created once: jit caches compiled code per function object.
QUADRATIC_CURVATURES = (1.0, 9.0)  # mu and L: condition number 9
quadratic_loss = quadratic(jnp.diag(jnp.array(QUADRATIC_CURVATURES)))
QUADRATIC_START = (-4.0, 1.5)
ROSENBROCK_START = (-1.2, 1.0)
ROSENBROCK_MINIMUM = (1.0, 1.0)
LOSS_FLOOR = 1e-30  # an exact zero has no logarithm; plotted below the axes anyway


@partial(jax.jit, static_argnames=("loss",))
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
    path = np.asarray(trajectory)[: steps + 1]
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
    return Frame({"path": (path[:, 0], path[:, 1]), "loss": (x, excess)}, note)


def descent_frame(loss, w_star, w0, learning_rate, momentum, steps, max_steps) -> Frame:
    """Heavy-ball trajectory and its loss curve. Always runs ``max_steps`` (one
    compiled program for every value of the steps slider) and shows ``steps``."""
    trajectory = momentum_descent(loss, jnp.asarray(w0, float), learning_rate, momentum, max_steps)
    return trajectory_frame(loss, trajectory, w_star, int(steps))


@partial(jax.jit, static_argnames=("loss",))
def _loss_on_grid(loss, X, Y):
    """The loss at every point of a mesh: one compiled call per loss."""
    return jax.vmap(jax.vmap(lambda a, b: loss(jnp.array([a, b]))))(X, Y)


def _contours(ax, loss, xlim, ylim, levels, start, minimum):
    X, Y = jnp.meshgrid(jnp.linspace(*xlim, 200), jnp.linspace(*ylim, 200))
    Z = _loss_on_grid(loss, X, Y)
    ax.contour(np.asarray(X), np.asarray(Y), np.asarray(Z), levels=levels, colors="0.6", linewidths=0.8)
    if start is not None:  # the live faces move the start point, so they draw none
        ax.plot(*start, "o", color="0.2", markersize=6, label="start", zorder=3)
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
    }


# ----------------------------------------------------------------------------
# The ill-conditioned quadratic
# ----------------------------------------------------------------------------

QUADRATIC_LEARNING_RATES = (0.02, 0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.3, 0.35, 0.4, 0.45)
QUADRATIC_MOMENTA = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)


def quadratic_frame(learning_rate, momentum, start_w1=QUADRATIC_START[0], start_w2=QUADRATIC_START[1], steps=60):
    return descent_frame(quadratic_loss, (0.0, 0.0), (start_w1, start_w2), learning_rate, momentum, steps, 200)


def _quadratic_setup(live: bool):
    def setup(fig):
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
        start = None if live else QUADRATIC_START
        _contours(left, quadratic_loss, (-5.0, 5.0), (-3.0, 3.0), np.geomspace(0.05, 60, 12), start, (0, 0))
        left.set_title("$L(w) = (w_1^2 + 9 w_2^2)/2$")
        steps = 200 if live else 60
        _loss_axes(right, steps, (1e-14, 1e4))
        eta, _ = tuned_plain(*QUADRATIC_CURVATURES)
        reference = momentum_descent(quadratic_loss, jnp.array(QUADRATIC_START), eta, 0.0, steps)
        right.plot(np.arange(steps + 1), np.asarray(jax.vmap(quadratic_loss)(reference)), ":", color="0.45",
                   label=f"tuned plain GD ($\\eta$ = {eta:.2g}) from ({QUADRATIC_START[0]:g}, {QUADRATIC_START[1]:g})")
        right.set_title("loss per step")
        return [left, right]

    return setup


def quadratic_spec(live: bool = False) -> FigureSpec:
    controls = [
        Control("learning_rate", "learning rate η", QUADRATIC_LEARNING_RATES, initial=0.2),
        Control("momentum", "momentum β", QUADRATIC_MOMENTA, initial=0.0),
    ]
    if live:
        controls = [
            Control("learning_rate", "learning rate η", (0.005, 0.2, 0.5), initial=0.2, scale="log"),
            Control("momentum", "momentum β", (0.0, 0.99), initial=0.0),
            Control("start_w1", "start w₁", (-4.5, QUADRATIC_START[0], 4.5), initial=QUADRATIC_START[0]),
            Control("start_w2", "start w₂", (-2.5, QUADRATIC_START[1], 2.5), initial=QUADRATIC_START[1]),
            Control("steps", "steps", (1, 60, 200), initial=60, integer=True),
        ]
    return FigureSpec(
        name="gd-quadratic" + ("-live" if live else ""),
        frame=quadratic_frame,
        controls=controls,
        styles=_styles("gradient descent"),
        setup=_quadratic_setup(live),
        alt=(
            "Left: contour lines of an elongated bowl with the path of gradient descent from a start point "
            "towards the minimum at the centre. Right: the loss at each step on a logarithmic scale, with the "
            "curve of plain gradient descent at its best learning rate for comparison. Sliders set the "
            "learning rate and the momentum."
        ),
        figsize=(8.0, 3.4),
    )


# ----------------------------------------------------------------------------
# The Rosenbrock valley
# ----------------------------------------------------------------------------

ROSENBROCK_LEARNING_RATES = (0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004)
ROSENBROCK_MOMENTA = (0.0, 0.5, 0.8, 0.9)


def rosenbrock_frame(learning_rate, momentum, start_w1=ROSENBROCK_START[0], start_w2=ROSENBROCK_START[1], steps=250):
    return descent_frame(rosenbrock, ROSENBROCK_MINIMUM, (start_w1, start_w2), learning_rate, momentum, steps, 500)


def _rosenbrock_setup(live: bool):
    def setup(fig):
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        start = None if live else ROSENBROCK_START
        _contours(left, rosenbrock, (-2.0, 2.0), (-1.0, 3.0), np.geomspace(0.1, 1500, 14), start, ROSENBROCK_MINIMUM)
        left.set_title("Rosenbrock: $(1 - w_1)^2 + 100 (w_2 - w_1^2)^2$", fontsize=9)
        _loss_axes(right, 500 if live else 250, (1e-12, 1e4))
        right.set_title("loss per step")
        return [left, right]

    return setup


def rosenbrock_spec(live: bool = False) -> FigureSpec:
    controls = [
        Control("learning_rate", "learning rate η", ROSENBROCK_LEARNING_RATES, initial=0.001),
        Control("momentum", "momentum β", ROSENBROCK_MOMENTA, initial=0.0),
    ]
    if live:
        controls = [
            Control("learning_rate", "learning rate η", (0.0001, 0.001, 0.01), initial=0.001, scale="log"),
            Control("momentum", "momentum β", (0.0, 0.99), initial=0.0),
            Control("start_w1", "start w₁", (-1.9, ROSENBROCK_START[0], 1.9), initial=ROSENBROCK_START[0]),
            Control("start_w2", "start w₂", (-0.9, ROSENBROCK_START[1], 2.9), initial=ROSENBROCK_START[1]),
            Control("steps", "steps", (1, 250, 500), initial=250, integer=True),
        ]
    return FigureSpec(
        name="gd-rosenbrock" + ("-live" if live else ""),
        frame=rosenbrock_frame,
        controls=controls,
        styles=_styles("gradient descent"),
        setup=_rosenbrock_setup(live),
        alt=(
            "Left: contour lines of the curved Rosenbrock valley with the path of gradient descent from "
            "(-1.2, 1) towards the minimum at (1, 1). Right: the loss at each step on a logarithmic scale. "
            "Sliders set the learning rate and the momentum."
        ),
        figsize=(8.0, 3.4),
    )


# ----------------------------------------------------------------------------
# Mini-batch SGD on the diabetes data
# ----------------------------------------------------------------------------

SGD_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SGD_LEARNING_RATES = (0.02, 0.05, 0.1, 0.2, 0.4)
SGD_START = (-0.5, 1.2)
SGD_MAX_BATCH = 256
SGD_STEPS = 100


class SGDProblem:
    """Least squares on two standardised diabetes features, with its exact answer."""

    def __init__(self, key):
        self.key = key
        self.data = diabetes(("bmi", "s5"))
        self.w_star = least_squares_solution(self.data.X, self.data.y)
        self.best_loss = mean_squared_error(self.w_star, self.data.X, self.data.y)
        X, y = self.data.X, self.data.y
        self.loss = lambda w: mean_squared_error(w, X, y)  # one function object: compiled once

    def trajectory(self, batch_size, learning_rate, steps):
        X, y = self.data.X, self.data.y
        return minibatch_sgd(self.key, X, y, jnp.array(SGD_START), learning_rate, batch_size, int(steps), SGD_MAX_BATCH)

    def frame(self, batch_size, learning_rate, steps=SGD_STEPS) -> Frame:
        trajectory = self.trajectory(batch_size, learning_rate, SGD_STEPS)
        # x axis: examples processed, b per step; step 0 is drawn at 1 (log axis).
        return trajectory_frame(self.loss, trajectory, self.w_star, int(steps),
                                x_of_step=lambda k: np.maximum(k * int(batch_size), 1))

    def setup(self, fig):
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        w1, w2 = (float(v) for v in self.w_star)
        levels = float(self.best_loss) + np.geomspace(0.002, 1.5, 10)
        _contours(left, self.loss, (-1.0, 1.5), (-0.5, 1.7), levels, SGD_START, (w1, w2))
        left.set(xlabel="weight of bmi", ylabel="weight of s5")
        left.set_title("mini-batch SGD, least squares", fontsize=9)
        right.set_xscale("log")
        right.set_yscale("log")
        right.set(xlim=(1, SGD_STEPS * SGD_MAX_BATCH), ylim=(1e-6, 3), xlabel="examples processed",
                  ylabel="$L(w_k) - L(w^*)$")
        right.set_title("cost: b examples per step", fontsize=9)
        return [left, right]


def sgd_spec(problem: SGDProblem, live: bool = False) -> FigureSpec:
    controls = [
        Control("batch_size", "batch size b", SGD_BATCH_SIZES, initial=8, integer=True),
        Control("learning_rate", "learning rate η", SGD_LEARNING_RATES, initial=0.1),
    ]
    if live:
        controls = [
            Control("batch_size", "batch size b", (1, 8, SGD_MAX_BATCH), initial=8, integer=True, live_steps=255),
            Control("learning_rate", "learning rate η", (0.005, 0.1, 1.0), initial=0.1, scale="log"),
            Control("steps", "steps", (1, SGD_STEPS), initial=SGD_STEPS, integer=True),
        ]
    return FigureSpec(
        name="sgd" + ("-live" if live else ""),
        frame=problem.frame,
        controls=controls,
        styles=_styles("SGD"),
        setup=problem.setup,
        alt=(
            "Left: contour lines of the least-squares loss of two diabetes features with the noisy path of "
            "mini-batch stochastic gradient descent towards the exact solution. Right: the loss against the "
            "number of examples processed, on logarithmic axes. Sliders set the batch size and the learning rate."
        ),
        figsize=(8.0, 3.4),
    )
