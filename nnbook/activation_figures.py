"""The interactive figures of the activations-and-losses chapter, both faces.

Each ``*_frame`` function is pure: slider values in, line data out, computed
in one jitted call from the functions of :mod:`nnbook.activations` and
:mod:`nnbook.losses` that the chapter teaches. The ``*_spec`` builders add the
sliders, line styles and the fixed background; the chapter shows each with
:func:`nnbook.sliders.interactive_figure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nnbook.activations import gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh
from nnbook.losses import (
    binary_cross_entropy,
    hinge,
    hinge_gradient,
    sigmoid_squared_error,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

# ----------------------------------------------------------------------------
# Activations explorer: phi(a x + b) and the slope phi'(a x + b)
# ----------------------------------------------------------------------------

X_RANGE = (-4.0, 4.0)
X_POINTS = 121  # the drawn curves (the static page ships these numbers)
FLAT_POINTS = 801  # the finer grid on which the note measures flatness
FLAT_SLOPE = 0.01  # "flat": |a phi'(a x + b)| below this passes almost no gradient back to x
LEAKY_SLOPE = 0.1  # larger than the usual 0.01, so that the leak is visible

# (key, label, color); leaky ReLU's slope is a slider of the live face.
EXPLORER = (
    ("sigmoid", "sigmoid", "C0"),
    ("tanh", "tanh", "C1"),
    ("relu", "ReLU", "C2"),
    ("leaky", "leaky ReLU", "C3"),
    ("softplus", "softplus", "C4"),
    ("gelu", "GELU", "C5"),
    ("silu", "SiLU", "C6"),
)
NOTED = ("sigmoid", "tanh", "relu", "gelu")  # the note reports these four


def _explorer_functions(slope):
    return {
        "sigmoid": sigmoid,
        "tanh": tanh,
        "relu": relu,
        "leaky": lambda z: leaky_relu(z, slope),
        "softplus": softplus,
        "gelu": gelu,
        "silu": silu,
    }


@jax.jit
def explorer_curves(scale, bias, slope):
    """phi(a x + b) and phi'(a x + b) on the drawn grid for every activation
    (the slope by ``jax.grad``), and the fraction of the x axis where the slope
    that reaches x, |a phi'(a x + b)|, is below FLAT_SLOPE: one compiled call
    for the whole frame."""
    x = jnp.linspace(*X_RANGE, X_POINTS)
    fine = jnp.linspace(*X_RANGE, FLAT_POINTS)
    functions = _explorer_functions(slope)
    values, slopes, flat = [], [], []
    for key, _, _ in EXPLORER:  # rows in the order of EXPLORER
        f = functions[key]
        d = jax.vmap(jax.grad(f))
        values.append(f(scale * x + bias))
        slopes.append(d(scale * x + bias))
        # flat where the slope backpropagation passes back to x, d/dx phi(a x + b) = a phi'(a x + b), is tiny
        flat.append(jnp.mean((jnp.abs(scale * d(scale * fine + bias)) < FLAT_SLOPE).astype(fine.dtype)))
    return x, jnp.stack(values), jnp.stack(slopes), jnp.stack(flat)


def explorer_frame(scale, bias=0.0, slope=LEAKY_SLOPE) -> Frame:
    """Each activation of a x + b (left axes) and its slope there (right axes);
    the note gives the flat fraction of the x axis for the NOTED four."""
    x, values, slopes, flat = (np.asarray(a) for a in explorer_curves(scale, bias, slope))
    lines = {}
    for k, (key, _, _) in enumerate(EXPLORER):
        lines[f"value-{key}"] = (x, values[k])
        lines[f"slope-{key}"] = (x, slopes[k])
    keys = [key for key, _, _ in EXPLORER]
    labels = dict((key, label) for key, label, _ in EXPLORER)
    parts = [f"{labels[key]} {100 * flat[keys.index(key)]:.0f}%" for key in NOTED]
    return Frame(lines, "flat on: " + ", ".join(parts))


def _explorer_setup(fig):
    left, right = fig.subplots(1, 2)
    left.set(xlim=X_RANGE, ylim=(-1.6, 4.6), xlabel="input $x$", ylabel="$\\varphi(a x + b)$")
    right.set(xlim=X_RANGE, ylim=(-0.2, 1.25), xlabel="input $x$", ylabel="$\\varphi'(a x + b)$")
    right.axhline(0.25, color="0.5", linestyle=":", linewidth=1)
    right.text(X_RANGE[0] + 0.1, 0.28, "σ′ ≤ 1/4", fontsize=8, color="0.35")
    for ax in (left, right):
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
    return [left, right]


def explorer_spec() -> FigureSpec:
    controls = [
        Control("scale", "scale a", 1.0, live=(0.1, 10.0, 0.02), grid=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0), scale="log"),
        Control("bias", "bias b", 0.0, live=(-4.0, 4.0, 0.125), grid=(0.0,)),
        Control("slope", "leaky ReLU slope", LEAKY_SLOPE, live=(0.0, 0.5, 0.0125), grid=(LEAKY_SLOPE,)),
    ]
    styles = {}
    for key, label, color in EXPLORER:
        styles[f"value-{key}"] = Style(axes=0, color=color, width=1.6, label=label)
        styles[f"slope-{key}"] = Style(axes=1, color=color, width=1.6, label=label)
    return FigureSpec(
        name="activations",
        frame=explorer_frame,
        controls=controls,
        styles=styles,
        setup=_explorer_setup,
        alt=(
            "Left: seven activation functions (sigmoid, tanh, ReLU, leaky ReLU, softplus, GELU, SiLU) of a "
            "x + b for inputs x from -4 to 4. Right: the slope of each at a x + b. A slider sets the scale a; "
            "large scales squeeze the sigmoid's and tanh's slopes into a narrow spike around 0, while the "
            "slopes of the ReLU family stay 0 or 1."
        ),
        figsize=(8.8, 3.3),
    )


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


@jax.jit
def loss_curves(target):
    """Cross-entropy and squared error on sigma(z) against the logit z, and
    their gradients by autodiff, for one example with target y."""
    z = jnp.linspace(*Z_RANGE, Z_POINTS)
    bce = lambda z: binary_cross_entropy(z, target)
    sq = lambda z: sigmoid_squared_error(z, target)
    return (z, bce(z), jax.vmap(jax.grad(bce))(z), sq(z), jax.vmap(jax.grad(sq))(z))


@jax.jit
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
