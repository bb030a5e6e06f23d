"""The figures of chapter 3, "Loss functions": two interactive figures (both
faces) and the plain figures whose drawing code the page hides.

Each ``*_frame`` function is pure: slider values in, line data out, computed
in one jitted call from the functions of :mod:`nnbook.losses` that the chapter
teaches. The ``*_spec`` builders add the sliders, line styles and the fixed
background; the chapter shows each with :func:`nnbook.sliders.interactive_figure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs on every slider move
from nnbook.activations import sigmoid
from nnbook.losses import (
    ROBUST_LOSSES,
    binary_cross_entropy,
    corrupt,
    fit_line,
    hinge,
    hinge_gradient,
    sigmoid_squared_error,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

# ----------------------------------------------------------------------------
# Losses of one example as functions of the logit, with a moving point
# ----------------------------------------------------------------------------

Z_RANGE = (-5.0, 5.0)
Z_POINTS = 61
LOSS_LINES = (
    # key, label, color: the two smooth losses are drawn from Z_POINTS points,
    # the hinge (piecewise linear) from its corners only
    ("bce", "cross-entropy", "C0"),
    ("sq", "squared error on σ(z)", "C3"),
    ("hinge", "hinge", "C2"),
)


@jax.jit(compiler_options=OPTIMISED)
def loss_curves(target):
    """Cross-entropy and squared error on sigma(z) against the logit z, and
    their gradients by autodiff, for one example with target y."""
    z = jnp.linspace(*Z_RANGE, Z_POINTS)
    bce = lambda z: binary_cross_entropy(z, target)
    sq = lambda z: sigmoid_squared_error(z, target)
    return (z, bce(z), jax.vmap(jax.grad(bce))(z), sq(z), jax.vmap(jax.grad(sq))(z))


@jax.jit(compiler_options=OPTIMISED)
def loss_point(target, logit):
    """The moving point: p, and each loss and its gradient at the chosen logit."""
    values = jnp.stack(
        [binary_cross_entropy(logit, target), sigmoid_squared_error(logit, target), hinge(logit, target)]
    )
    grads = jnp.stack(
        [
            jax.grad(binary_cross_entropy)(logit, target),
            jax.grad(sigmoid_squared_error)(logit, target),
            hinge_gradient(logit, target),
        ]
    )
    return sigmoid(logit), values, grads


def hinge_corners(target):
    """The hinge loss max(0, 1 - t z), t = 2y - 1, and its gradient, as exact
    polylines through their corners on Z_RANGE."""
    lo, hi = Z_RANGE
    t = 2.0 * target - 1.0
    if t == 0.0:  # y = 1/2: no preferred side, the loss is the constant 1
        return (np.array([lo, hi]), np.array([1.0, 1.0])), (np.array([lo, hi]), np.array([0.0, 0.0]))
    kink = 1.0 / t
    zs = np.array([lo, kink, hi]) if lo < kink < hi else np.array([lo, hi])
    loss = np.maximum(0.0, 1.0 - t * zs)
    if lo < kink < hi:  # a jump of the gradient from -t to 0 at the kink
        gz = np.array([lo, kink, kink, hi])
        g = np.array([-t, -t, 0.0, 0.0]) if t > 0 else np.array([0.0, 0.0, -t, -t])
    else:
        gz = np.array([lo, hi])
        g = np.where(t * gz < 1.0, -t, 0.0)
    return (zs, loss), (gz, g)


def loss_frame(target, logit) -> Frame:
    """The three losses of one example with target y as functions of the logit
    (left), their gradients (right), a point on each at the chosen logit, and
    a note with p = sigma(z) and the two smooth gradients there."""
    z, bce, dbce, sq, dsq = (np.asarray(a) for a in loss_curves(target))
    p, values, grads = (np.asarray(a) for a in loss_point(target, logit))
    (hz, hl), (gz, g) = hinge_corners(float(target))
    point = np.array([logit, logit])  # two equal points: a marker on both faces
    lines = {
        "bce": (z, bce),
        "sq": (z, sq),
        "hinge": (hz, hl),
        "d-bce": (z, dbce),
        "d-sq": (z, dsq),
        "d-hinge": (gz, g),
        "cursor": (np.array([logit, logit]), np.array([-100.0, 100.0])),
        "d-cursor": (np.array([logit, logit]), np.array([-100.0, 100.0])),
    }
    for k, (key, _, _) in enumerate(LOSS_LINES):
        lines[f"at-{key}"] = (point, np.full(2, values[k]))
        lines[f"at-d-{key}"] = (point, np.full(2, grads[k]))
    signed = [f"{g:+.3f}".replace("-", "\u2212") for g in grads]  # a typographic minus
    note = f"p = {p:.3f}; slopes: cross-entropy {signed[0]}, squared {signed[1]}"
    return Frame(lines, note)


def _loss_setup(fig):
    left, right = fig.subplots(1, 2)
    left.set(xlim=Z_RANGE, ylim=(-0.2, 8.0), xlabel="logit $z$", ylabel="loss of one example")
    right.set(xlim=Z_RANGE, ylim=(-1.35, 1.35), xlabel="logit $z$", ylabel="$\\partial\\,$loss$/\\partial z$")
    for ax in (left, right):
        ax.axhline(0, color="0.6", linewidth=0.8)
    return [left, right]


def loss_spec() -> FigureSpec:
    controls = [
        Control("target", "target y", 1.0, live=(0.0, 1.0, 0.05), grid=(0.0, 0.25, 0.5, 0.75, 1.0)),
        Control("logit", "logit z", -3.0, live=(*Z_RANGE, 0.05), grid=tuple(float(v) for v in np.arange(-5, 6))),
    ]
    styles = {}
    for key, label, color in LOSS_LINES:
        styles[key] = Style(axes=0, color=color, width=1.8, label=label)
        styles[f"d-{key}"] = Style(axes=1, color=color, width=1.8)
        styles[f"at-{key}"] = Style(axes=0, color=color, width=1.0, marker=True)
        styles[f"at-d-{key}"] = Style(axes=1, color=color, width=1.0, marker=True)
    styles["cursor"] = Style(axes=0, color="0.4", width=1.0, dashed=True, label="the chosen logit")
    styles["d-cursor"] = Style(axes=1, color="0.4", width=1.0, dashed=True)
    return FigureSpec(
        name="losses",
        frame=loss_frame,
        controls=controls,
        styles=styles,
        setup=_loss_setup,
        alt=(
            "Left: three losses of one example (cross-entropy, squared error on the sigmoid probability, hinge) "
            "as functions of the logit z from -5 to 5. Right: their gradients with respect to z. Sliders set the "
            "target y and the logit z, marked by a dashed line and a point on each curve."
        ),
        figsize=(8.8, 3.3),
    )


# ----------------------------------------------------------------------------
# Outliers: a line fitted with squared error, absolute error and Huber
# ----------------------------------------------------------------------------

OUTLIER_LINES = (("squared error", "C3"), ("absolute error", "C0"), ("Huber", "C2"))
OUTLIERS = 3  # the three rightmost points are corrupted (losses.corrupt)


@jax.jit(compiler_options=OPTIMISED)
def robust_fits(X, y, size, delta):
    """The (intercept, slope) of the line fitted to the corrupted targets by
    each of ROBUST_LOSSES, one row each: one compiled call per frame."""
    corrupted = corrupt(y, size, OUTLIERS)
    return jnp.stack([fit_line(name, X, corrupted, delta) for name in ROBUST_LOSSES])


def outlier_frame(X, y, size, delta) -> Frame:
    """The three fitted lines over the data's x range, the corrupted points
    as segments from their clean to their corrupted value, and the slopes."""
    fits = np.asarray(robust_fits(X, y, size, delta))
    x = np.asarray(X[:, 1])
    ends = np.array([x.min(), x.max()])
    lines = {}
    for (name, _), (b, w) in zip(OUTLIER_LINES, fits):
        lines[name] = (ends, b + w * ends)
    clean = np.asarray(y)
    for k in range(OUTLIERS):
        i = len(x) - OUTLIERS + k
        lines[f"outlier-{k}"] = (np.array([x[i], x[i]]), np.array([clean[i], clean[i] + size]))
    slopes = ", ".join(f"{name} {w:.2f}" for (name, _), (_, w) in zip(OUTLIER_LINES, fits))
    return Frame(lines, f"slopes: {slopes}")


def outlier_spec(X, y) -> FigureSpec:
    """The outlier figure for the data X = [1, x], y of the chapter: sliders
    for the size of the corruption and Huber's delta."""
    X, y = jnp.asarray(X), jnp.asarray(y)
    x = np.asarray(X[:, 1])

    def setup(fig):
        ax = fig.subplots()
        keep = slice(0, len(x) - OUTLIERS)
        ax.plot(x[keep], np.asarray(y)[keep], "o", color="0.45", markersize=4, label="clean points")
        ax.set(xlim=(-1.1, 1.1), ylim=(-2.5, 13.0), xlabel="input $x$", ylabel="target $y$")
        return [ax]

    styles = {name: Style(color=color, width=2.0, label=f"fit by {name}") for name, color in OUTLIER_LINES}
    for k in range(OUTLIERS):
        styles[f"outlier-{k}"] = Style(color="C1", width=1.0, dashed=True, marker=True,
                                       label="corrupted points" if k == 0 else None)
    return FigureSpec(
        name="outliers",
        frame=lambda size, delta: outlier_frame(X, y, size, delta),
        controls=[
            # No size 0 on the static grid: without outliers the three fits agree and
            # Huber's δ would move nothing (the page's slider test asks every slider to).
            Control("size", "outlier size", 8.0, live=(0.0, 10.0, 0.25), grid=(2.0, 4.0, 6.0, 8.0, 10.0)),
            Control("delta", "Huber's δ", 0.5, live=(0.05, 20.0, 0.05), grid=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
        ],
        styles=styles,
        setup=setup,
        legend="below",  # on the right, the longest labels were cut at the figure's edge
        alt=(
            "Points near a rising line, three of the rightmost lifted by the outlier size (dashed segments), and "
            "the lines fitted by squared error, absolute error and Huber's loss. As the outliers grow, the "
            "squared-error line tilts up towards them while the other two stay on the clean points; a large "
            "Huber delta makes Huber's line follow the squared-error one."
        ),
        figsize=(7.6, 3.4),
    )


# ----------------------------------------------------------------------------
# Plain figures
# ----------------------------------------------------------------------------

LOSS_COLORS = {"cross-entropy": "C0", "squared error": "C3"}


def tiny_runs_figure(errors, grad_norms, target):
    """Left: mean |p - y| per step for each loss; right: the gradient's size."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for name in errors:
        left.plot(np.asarray(errors[name]), color=LOSS_COLORS[name], label=name)
        right.semilogy(np.asarray(grad_norms[name]), color=LOSS_COLORS[name], label=name)
    left.axhline(target, color="0.5", linestyle=":", label=f"target {target:g}")
    left.set(xlabel="step", ylabel="mean $|p - y|$", title="error, learning rate 1")
    right.set(xlabel="step", ylabel="$\\|\\nabla L\\|$", title="size of the gradient")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    return fig


def digit_images_figure(images, titles, cmap="gray_r", symmetric=False):
    """A row of 8 x 8 images (pixels or weights), each with its title."""
    images = np.asarray(images)  # NumPy: iterating over a JAX array would compile a program to split it
    fig, axes = plt.subplots(1, len(images), figsize=(9.0, 1.3))
    limit = float(np.max(np.abs(images))) if symmetric else None
    for ax, image, title in zip(axes, images, titles):
        kwargs = dict(vmin=-limit, vmax=limit) if symmetric else {}
        ax.imshow(image.reshape(8, 8), cmap=cmap, **kwargs)
        ax.set_title(str(title), fontsize=9)
        ax.axis("off")
    return fig


def digit_curves_figure(curves, column, test_size):
    """Training cross-entropy (left) and test accuracy (right) per step, for
    the run in ``column`` of each loss's sweep."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for name, (train_ce, test_acc) in curves.items():
        left.plot(np.asarray(train_ce[column]), color=LOSS_COLORS[name], label=f"trained on {name}")
        right.plot(np.asarray(test_acc[column]), color=LOSS_COLORS[name], label=f"trained on {name}")
    left.set(xlabel="step", ylabel="training cross-entropy", ylim=(0, None), title="learning rate 1, from W = 0")
    right.set(xlabel="step", ylabel="test accuracy", ylim=(0.5, 1.0), title=f"{test_size} held-out digits")
    left.legend(fontsize=8)
    right.legend(fontsize=8, loc="lower right")
    return fig
