"""The figures of chapter 2, "Activation functions": the interactive explorer
(both faces) and the plain figures whose drawing code the page hides.

Each ``*_frame`` function is pure: slider values in, line data out, computed
in one jitted call from the functions of :mod:`nnbook.activations` that the
chapter teaches. The ``*_spec`` builders add the
sliders, line styles and the fixed background; the chapter shows each with
:func:`nnbook.sliders.interactive_figure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs on every slider move
from nnbook.activations import gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh
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


@jax.jit(compiler_options=OPTIMISED)
def explorer_curves(scale, bias, slope):
    """phi(a x + b) and phi'(a x + b) on the drawn grid for every activation
    (the slope by ``jax.grad``), and the fraction of the x axis where the slope
    that reaches x, |a phi'(a x + b)|, is below FLAT_SLOPE: one compiled call
    for the whole frame. Each activation is evaluated once, value and slope
    together, on the drawn grid and the finer one side by side (half the
    program to compile of evaluating the two grids apart; the same numbers)."""
    x = jnp.linspace(*X_RANGE, X_POINTS)
    fine = jnp.linspace(*X_RANGE, FLAT_POINTS)
    inputs = scale * jnp.concatenate([x, fine]) + bias  # a x + b on both grids
    functions = _explorer_functions(slope)
    values, slopes, flat = [], [], []
    for key, _, _ in EXPLORER:  # rows in the order of EXPLORER
        value, d = jax.vmap(jax.value_and_grad(functions[key]))(inputs)
        values.append(value[:X_POINTS])
        slopes.append(d[:X_POINTS])
        # flat where the slope backpropagation passes back to x, d/dx phi(a x + b) = a phi'(a x + b), is tiny
        flat.append(jnp.mean((jnp.abs(scale * d[X_POINTS:]) < FLAT_SLOPE).astype(fine.dtype)))
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
# Plain figures
# ----------------------------------------------------------------------------

CHAIN_COLORS = {"sigmoid": "C0", "tanh": "C1", "ReLU": "C2"}


def chain_gradient_figure(gradients):
    """|d a_n / d x| against the depth n for each chain (a dict name -> gradients
    for n = 1..depth), with the bound 4^-n of the sigmoid chain."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for name, g in gradients.items():
        n = np.arange(1, len(g) + 1)
        ax.semilogy(n, np.asarray(g), "o-", markersize=3, color=CHAIN_COLORS.get(name), label=f"{name} chain")
    ax.semilogy(n, 0.25**n, "k:", label="bound $4^{-n}$ for the sigmoid")
    ax.set(xlabel="depth $n$ (layers)", ylabel="$|d a_n / d x|$", ylim=(1e-30, 10),
           title="gradient reaching the input of $n$ scalar layers, from $x = 1$")
    ax.legend(fontsize=8, loc="lower left")
    return fig
