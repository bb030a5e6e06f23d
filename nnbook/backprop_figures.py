"""Figures of the backpropagation chapter (chapters/05_backpropagation.ipynb).

* :func:`draw_graph` draws the computation graph that :mod:`nnbook.autodiff`
  records, with each node's value and gradient.
* :func:`boundary_spec` makes the interactive figure of the runs of
  :func:`nnbook.mlp.train_widths` (the chapter's two-layer network trained on
  the two-moons data once per hidden width, every step kept): its frame turns
  (training step, hidden width) into the decision boundary and the learning
  curves. The chapter shows it with :func:`nnbook.sliders.interactive_figure`.
* :func:`draw_rule_comparison` draws backprop next to feedback alignment
  (:func:`nnbook.feedback.compare_rules`): learning curves and the angle
  between the two rules' updates.
"""

from __future__ import annotations

from functools import partial

import contourpy
import jax
import jax.numpy as jnp
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.autodiff import Value, topological_order
from nnbook.mlp import (
    CURVE_STEPS,
    MAX_WIDTH,
    WIDTH_STEPS,
    WidthRuns,
    forward,
    learning_curves,
    softmax,
)
from nnbook.sliders import Control, FigureSpec, Frame, Style

CLASS_MARKERS = (("C0", "o"), ("C3", "s"))  # colour and marker of class 0 and class 1

# ----------------------------------------------------------------------------
# The computation graph of a Value
# ----------------------------------------------------------------------------


def graph_layout(root: Value, spacing: float = 1.45) -> dict[int, tuple[float, float]]:
    """(x, y) for every node: x is the node's depth (leaves at 0), y puts the
    leaves ``spacing`` apart, in the order the graph reaches them, and every
    other node at the mean height of its inputs."""
    depth, height, leaves = {}, {}, [0]

    def place(node):
        if id(node) in depth:
            return
        for parent in node.parents:
            place(parent)
        if node.parents:
            depth[id(node)] = 1 + max(depth[id(p)] for p in node.parents)
            height[id(node)] = float(np.mean([height[id(p)] for p in node.parents]))
        else:
            depth[id(node)] = 0
            height[id(node)] = -spacing * leaves[0]
            leaves[0] += 1

    place(root)
    return {key: (depth[key], height[key]) for key in depth}


OP_SYMBOLS = {"*": "×", "+": "+", "tanh": "tanh", "exp": "exp", "relu": "relu"}


def draw_graph(ax, root: Value, show_grad: bool = True, fmt: str = ".3f") -> None:
    """Draw the graph ``root`` was computed by: one box per value (its label,
    value and, if ``show_grad``, gradient), a circle per operation."""
    nodes = topological_order(root)
    where = graph_layout(root)
    for node in nodes:
        x, y = where[id(node)]
        lines = [node.label or node.op or "const", f"value {node.data:{fmt}}"]
        if show_grad:
            lines.append(f"grad {node.grad:{fmt}}")
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8.5, zorder=3,
                bbox=dict(boxstyle="round,pad=0.35", fc="#eef4fb" if node.parents else "#fdf3e1", ec="0.4"))
        if node.parents:
            op_x = x - 0.5
            ax.text(op_x, y, OP_SYMBOLS.get(node.op, node.op), ha="center", va="center", fontsize=9, zorder=3,
                    bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.4"))
            ax.annotate("", xy=(x - 0.3, y), xytext=(op_x + 0.1, y),
                        arrowprops=dict(arrowstyle="->", color="0.4", lw=1), zorder=2)
            for parent in node.parents:
                px, py = where[id(parent)]
                ax.annotate("", xy=(op_x - 0.08, y), xytext=(px + 0.3, py),
                            arrowprops=dict(arrowstyle="->", color="0.4", lw=1, shrinkA=0, shrinkB=4), zorder=1)
    xs = [p[0] for p in where.values()]
    ys = [p[1] for p in where.values()]
    ax.set(xlim=(min(xs) - 0.4, max(xs) + 0.4), ylim=(min(ys) - 0.7, max(ys) + 0.7))
    ax.axis("off")


# ----------------------------------------------------------------------------
# The decision boundary as training proceeds, for several hidden widths
# ----------------------------------------------------------------------------

STATIC_WIDTHS = (1, 2, 3, 4, 8, 16)
STATIC_STEPS = (0, 10, 20, 35, 50, 75, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000)
XLIM, YLIM = (-1.7, 2.7), (-1.2, 1.7)
GRID_SHAPE = (36, 50)  # rows (y) x columns (x) of the grid the boundary is traced on
MAX_PIECES = 4  # the boundary is drawn as at most this many separate lines


@partial(jax.jit, static_argnames=("shape",))
def probability_grid(params, xlim, ylim, shape=GRID_SHAPE):
    """P(class 1) on a ``shape`` grid over the box ``xlim`` x ``ylim``."""
    gx = jnp.linspace(xlim[0], xlim[1], shape[1])
    gy = jnp.linspace(ylim[0], ylim[1], shape[0])
    points = jnp.stack(jnp.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    return gx, gy, softmax(forward(params, points))[:, 1].reshape(shape)


@partial(jax.jit, compiler_options=OPTIMISED)
def _frame_data(history, width_index, step, xlim, ylim, data):
    """One frame's JAX work in one compiled call: pick the parameters of one
    width after one step (traced indices: no recompilation), evaluate them on
    the grid, and compute the learning curves' values at this step."""
    params = jax.tree.map(lambda h: h[width_index, step], history)
    at_step = jax.tree.map(lambda w: w[None], params)
    return probability_grid(params, xlim, ylim), [c[0] for c in learning_curves(at_step, *data)]


def boundary_lines(gx, gy, probability, level: float = 0.5) -> list[np.ndarray]:
    """The curve where ``probability`` crosses ``level``, as a list of
    polylines (arrays of shape (m, 2)), longest first, traced by contourpy
    (matplotlib's contour generator)."""
    generator = contourpy.contour_generator(np.asarray(gx), np.asarray(gy), np.asarray(probability),
                                            line_type="Separate")
    pieces = [np.asarray(piece) for piece in generator.lines(level) if len(piece) >= 2]
    return sorted(pieces, key=len, reverse=True)


def boundary_frame(runs: WidthRuns):
    """The frame function of the (step, width) sliders: a closure over the
    finished runs, which it only looks up."""
    data = (runs.X, runs.labels, runs.X_test, runs.labels_test)
    box = (np.array(XLIM), np.array(YLIM))

    def frame(step, width) -> Frame:
        step, width = int(step), int(width)
        if not (1 <= width <= MAX_WIDTH and 0 <= step <= WIDTH_STEPS):
            raise ValueError(f"width must be in 1..{MAX_WIDTH} and step in 0..{WIDTH_STEPS}; got {width}, {step}.")
        (gx, gy, probability), now = _frame_data(runs.history, width - 1, step, *box, data)
        pieces = boundary_lines(gx, gy, probability)
        lines = {}
        for k, piece in enumerate(pieces[:MAX_PIECES]):
            lines["boundary" if k == 0 else f"boundary{k + 1}"] = (piece[:, 0], piece[:, 1])
        note = ""
        if not pieces:
            note = "no boundary in view: one class predicted everywhere"
        elif len(pieces) > MAX_PIECES:
            note = f"{len(pieces) - MAX_PIECES} small boundary pieces not drawn"
        # the curves: at CURVE_STEPS up to this step, then this step
        upto = CURVE_STEPS <= step
        k = np.append(CURVE_STEPS[upto], step)
        i = width - 1
        for name, curve, value in zip(("train_loss", "test_loss", "test_accuracy"), runs.curves, now):
            scale = 100 if name == "test_accuracy" else 1  # accuracy in percent
            lines[name] = (k, scale * np.append(curve[i, upto], float(value)))
            lines[name + "_now"] = ([step], [scale * float(value)])  # a dot at this step
        return Frame(lines, note)

    return frame


def _boundary_setup(runs: WidthRuns, linear_accuracy=None):
    def setup(fig):
        grid = fig.add_gridspec(2, 2, width_ratios=[1.45, 1])
        ax = fig.add_subplot(grid[:, 0])
        top = fig.add_subplot(grid[0, 1])
        bottom = fig.add_subplot(grid[1, 1], sharex=top)
        X, labels = np.asarray(runs.X), np.asarray(runs.labels)
        for c, (color, marker) in enumerate(CLASS_MARKERS):
            ax.scatter(*X[labels == c].T, s=11, color=color, marker=marker, alpha=0.7, linewidths=0,
                       label=f"class {c} (training)")
        ax.set(xlim=XLIM, ylim=YLIM, xlabel="$x_1$", ylabel="$x_2$")
        ax.set_aspect("equal", adjustable="box")
        ax.set_title("decision boundary, P(class 1) = 0.5", fontsize=10)
        top.set(yscale="log", ylim=(5e-3, 1.5), ylabel="loss")
        top.set_title("learning curves", fontsize=10)
        top.tick_params(labelbottom=False)
        bottom.set(xlim=(0, WIDTH_STEPS), ylim=(40, 100), xlabel="gradient-descent step", ylabel="test accuracy (%)")
        if linear_accuracy is not None:
            bottom.axhline(100 * linear_accuracy, color="0.5", linestyle=":", linewidth=1.2,
                           label="linear model, test accuracy")
        return [ax, top, bottom]

    return setup


def boundary_spec(runs: WidthRuns, linear_accuracy=None) -> FigureSpec:
    """The interactive figure: decision boundary and learning curves, with
    sliders for the training step and the hidden width; ``linear_accuracy``
    is drawn as a reference line."""
    controls = [
        Control("step", "training step", WIDTH_STEPS, live=(0, WIDTH_STEPS, 5), grid=STATIC_STEPS, integer=True),
        Control("width", "hidden units", 8, live=(1, MAX_WIDTH, 1), grid=STATIC_WIDTHS, integer=True),
    ]
    boundary = Style(axes=0, color="black", width=2.2, label="boundary")
    styles = {
        "boundary": boundary,
        **{f"boundary{k}": boundary for k in range(2, MAX_PIECES + 1)},
        "train_loss": Style(axes=1, color="C2", width=1.8, label="training loss"),
        "test_loss": Style(axes=1, color="C1", width=1.8, dashed=True, label="test loss"),
        "test_accuracy": Style(axes=2, color="C1", width=1.8, label="test accuracy"),
        "train_loss_now": Style(axes=1, color="C2", width=1.8, marker=True),
        "test_loss_now": Style(axes=1, color="C1", width=1.8, marker=True),
        "test_accuracy_now": Style(axes=2, color="C1", width=1.8, marker=True),
    }
    return FigureSpec(
        name="bp-moons-boundary",
        frame=boundary_frame(runs),
        controls=controls,
        styles=styles,
        setup=_boundary_setup(runs, linear_accuracy),
        alt=(
            "Left: the two-moons training points of two classes and the curve where the network's predicted "
            "probability of class 1 is one half. Right: training and test loss, and test accuracy, against the "
            "gradient-descent step, up to the chosen step. Sliders choose the training step and the number of "
            "hidden units."
        ),
        figsize=(8.4, 4.4),
        legend="below",
    )


# ----------------------------------------------------------------------------
# Backprop next to feedback alignment (nnbook.feedback)
# ----------------------------------------------------------------------------


def draw_rule_comparison(axes, comparison) -> None:
    """Three panels of a :class:`nnbook.feedback.Comparison`: training loss,
    test accuracy, and the angle between feedback alignment's hidden-layer
    update and the gradient. One thin line per seed, one thick line for the
    mean over seeds; backprop in grey, feedback alignment in orange."""
    steps = comparison.steps
    rules = (("backprop", comparison.backprop, "0.35"), ("feedback alignment", comparison.feedback, "C1"))
    panels = (
        ("loss", "training loss", "log", "training loss"),
        ("test_accuracy", "test accuracy", "linear", "test accuracy"),
        ("update_angle", "angle (degrees)", "linear", "FA's hidden-layer update vs the gradient"),
    )
    for ax, (field, ylabel, yscale, title) in zip(axes, panels):
        for name, curves, color in rules:
            values = np.asarray(getattr(curves, field))
            ax.plot(steps, values.T, color=color, linewidth=0.6, alpha=0.45)
            label = name if field != "update_angle" else f"at {name}'s weights"
            ax.plot(steps, values.mean(axis=0), color=color, linewidth=2, label=label)
        ax.set(xlabel="step", ylabel=ylabel, yscale=yscale)
        ax.set_title(title, fontsize=10)
    axes[1].set_ylim(0.8, 1.0)
    axes[2].axhline(90, color="0.6", linestyle=":", linewidth=1)
    axes[2].set_ylim(0, 130)
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)


# ----------------------------------------------------------------------------
# The chapter's static figures and its cost table (drawing and formatting only)
# ----------------------------------------------------------------------------


def cost_table(methods, sizes, evaluations, flop_ratio, disagreement, seconds) -> str:
    """The cost of a gradient by each method at each size, as text: evaluations
    of L, operations relative to one evaluation, the three gradients'
    disagreement, and the measured times (the last lines: ratios to reverse mode
    at the largest size). The dictionaries are keyed by (method, n), or n."""
    header = f"{'':22}" + "".join(f"{'n=' + str(n):>9}" for n in sizes)
    lines = ["evaluations of L", header]
    lines += [f"{name:22}" + "".join(f"{evaluations[name, n]:>9}" for n in sizes) for name in methods]
    lines += ["", "operations / operations of one evaluation of L", header]
    lines += [f"{name:22}" + "".join(f"{flop_ratio[name, n]:>9.1f}" for n in sizes) for name in methods]
    lines += ["", "largest relative difference between the three gradients",
              f"{'':22}" + "".join(f"{disagreement[n]:>9.0e}" for n in sizes)]
    lines += ["", "time per gradient"]
    lines += [f"n={n:<6}{name:22}{seconds[name, n] * 1e3:.3f} ms (measured)" for n in sizes for name in methods]
    reverse, largest = next(iter(methods)), sizes[-1]
    lines += [f"n={largest}: {name} / reverse = {seconds[name, largest] / seconds[reverse, largest]:.0f}x (measured)"
              for name in list(methods)[1:]]
    return "\n".join(lines)


def draw_cost(ax, methods, sizes, flop_ratio) -> None:
    """Operations of each gradient method relative to one evaluation of L, against n."""
    ns = np.array(sizes)
    for name, marker in zip(methods, "os^"):
        ax.plot(ns, [flop_ratio[name, n] for n in sizes], marker=marker, label=name)
    ax.plot(ns, 2 * ns, ":", color="0.5", label="$2n$")
    ax.plot(ns, ns, "--", color="0.7", label="$n$")
    ax.set(xscale="log", yscale="log", xlabel="number of weights $n$",
           ylabel="cost of the gradient /\ncost of one evaluation of $L$")
    ax.legend(fontsize=8, frameon=True)
    ax.set_title("operations counted by XLA")


def draw_learning_curves(ax, steps, curves) -> None:
    """Training (solid) and test (dashed) loss of each run; ``curves`` maps a
    name to (training loss, test loss) sampled at ``steps``."""
    for (name, (train_loss, test_loss)), color in zip(curves.items(), ("C1", "0.4", "C0", "C2")):
        ax.plot(steps, train_loss, color=color, label=f"{name}, training")
        ax.plot(steps, test_loss, "--", color=color, label=f"{name}, test")
    ax.set(yscale="log", xlabel="gradient-descent step", ylabel="cross-entropy loss")
    ax.legend(fontsize=8)


def draw_boundaries(axes, models, X_test, labels_test) -> None:
    """One panel per model (a dict title -> parameters): P(class 1) shaded,
    the boundary P = 1/2 in black, the test points, the test accuracy in the title."""
    from nnbook.mlp import predict
    from nnbook.neurons import accuracy

    box = (np.array(XLIM), np.array(YLIM))
    X, labels = np.asarray(X_test), np.asarray(labels_test)
    for ax, (title, params) in zip(axes, models.items()):
        gx, gy, prob = map(np.asarray, probability_grid(params, *box, shape=(120, 160)))
        ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
        ax.contour(gx, gy, prob, levels=[0.5], colors="black", linewidths=2)
        for c, (color, marker) in enumerate(CLASS_MARKERS):
            ax.scatter(*X[labels == c].T, s=6, color=color, marker=marker, alpha=0.6, linewidths=0)
        test_accuracy = float(accuracy(predict(params, X_test), labels_test))
        ax.set(title=f"{title}: {test_accuracy:.1%} on the test set", xlim=XLIM, ylim=YLIM, xlabel="$x_1$")
        ax.set_aspect("equal", adjustable="box")
        ax.grid(False)
    axes[0].set_ylabel("$x_2$")


def draw_deep_signals(left, right, delta_norms, weight_norms) -> None:
    """Per hidden layer of a deep network: the mean size of delta_l (left) and
    of the weight gradient (right), one line per initial scale (dict keys)."""
    for scale, deltas in delta_norms.items():
        layers = np.arange(1, len(deltas) + 1)
        left.plot(layers, deltas, "o-", markersize=3, label=f"σ = {scale}")
        right.plot(layers, weight_norms[scale], "o-", markersize=3, label=f"σ = {scale}")
    left.set(yscale="log", xlabel="hidden layer $l$ (1 = next to the input)",
             ylabel=r"mean $\|\delta_l\|$", title="backpropagated signal")
    right.set(yscale="log", xlabel="hidden layer $l$",
              ylabel=r"$\|\partial L / \partial \mathbf{W}_l\|$", title="weight gradient")
    right.legend(fontsize=8)


def draw_signal_variances(left, right, names, forward, backward) -> None:
    """Mean squares of the pre-activations (left) and of the deltas (right),
    layer by layer, one line per initialisation (``names``; ``forward`` and
    ``backward`` have one row per name): the forward signal relative to layer 1,
    where it starts, the backward one relative to the top layer, where it starts."""
    for name, f, b, color in zip(names, np.asarray(forward), np.asarray(backward), ("C0", "C2", "C3")):
        layers = np.arange(1, len(f) + 1)
        left.plot(layers, f / f[0], "o-", markersize=3, color=color, label=name)
        right.plot(layers, b / b[-1], "o-", markersize=3, color=color, label=name)
    left.set(yscale="log", xlabel="layer $l$", ylabel="mean $z_l^2$ / layer 1", title="forward: pre-activations")
    right.set(yscale="log", xlabel="layer $l$", ylabel=r"mean $\delta_l^2$ / top layer",
              title="backward: deltas")
    left.legend(fontsize=8)
