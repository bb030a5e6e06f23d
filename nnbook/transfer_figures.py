"""Figures of the transfer-learning chapter (chapters/06_transfer_learning.ipynb).

Drawing only: the models, data and sweeps live in ``nnbook.transfer``. The
interactive figure's ``frame`` is a small pure function over precomputed mean
accuracies (the sweep is computed once, by ``python -m nnbook.make_transfer_data``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from nnbook.sliders import Control, FigureSpec, Frame, Style
from nnbook.transfer import LABELS_PER_CLASS, POOL, TS_SIMILARITIES, TS_WAYS, WAYS

KS = LABELS_PER_CLASS + (POOL,)
WAY_COLORS = {"scratch": "0.35", "linear probe": "C0", "fine-tune, new head": "C1", "fine-tune, whole model": "C2"}


def predictions_grid(images, labels, probabilities, class_names, before=None, columns: int = 8):
    """Each image with the model's guess and confidence; wrong guesses in red.
    With ``before`` (the same digits as the old scanner saw them), each image
    is drawn to the right of its clean original, a white column between."""
    if before is not None:
        gap = np.full((len(images), images.shape[1], 1), np.nan)
        images = np.concatenate([before, gap, images], axis=2)
    rows = int(np.ceil(len(images) / columns))
    width = images.shape[2] / images.shape[1]  # 1 for one image, about 2 for a pair
    fig, axes = plt.subplots(rows, columns, figsize=((0.2 + 0.6 * width) * columns, 1.25 * rows))
    for ax in np.ravel(axes):
        ax.axis("off")
    grey = plt.get_cmap("gray_r").with_extremes(bad="white")  # NaN, the gap: white
    for ax, image, label, p in zip(np.ravel(axes), images, labels, probabilities):
        guess = int(np.argmax(p))
        ax.imshow(image, cmap=grey, vmin=0, vmax=16)
        ok = guess == int(label)
        ax.set_title(f"{class_names[guess]} ({p[guess]:.0%})" + ("" if ok else f"\ntrue {class_names[int(label)]}"),
                     fontsize=7, color="k" if ok else "#b00000")
    if before is not None:
        fig.suptitle("each pair: the old scanner's image, then the new scanner's (what the model sees)", fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_vs_labels(results: dict, titles: dict, chance: float = 0.1):
    """Test accuracy (mean and spread over seeds) against labels per class,
    one panel per setting, one line per way."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.3), sharey=True)
    for ax, (name, result) in zip(np.atleast_1d(axes), results.items()):
        mean, spread = result["test"].mean(-1), result["test"].std(-1)
        for w, way in enumerate(WAYS):
            ax.errorbar(KS, mean[w], yerr=spread[w], marker="o", markersize=3, capsize=2,
                        color=WAY_COLORS[way], label=way)
        ax.axhline(chance, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_xticks(KS, [str(k) for k in KS])
        ax.set(title=titles[name], xlabel="labels per class (40 = the whole target pool)")
    np.atleast_1d(axes)[0].set_ylabel("test accuracy")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def weight_images(W1, count: int = 16):
    """The first layer's weights into each hidden unit, as 8x8 images."""
    fig, axes = plt.subplots(2, count // 2, figsize=(count * 0.55, 1.3))
    for i, ax in enumerate(np.ravel(axes)):
        w = np.asarray(W1[:, i]).reshape(8, 8)
        top = np.abs(w).max()
        ax.imshow(w, cmap="RdBu_r", vmin=-top, vmax=top)
        ax.axis("off")
    fig.tight_layout()
    return fig


def pca_panels(panels: dict, labels, class_names):
    """2-D PCA scatter plots, coloured by class."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 3.4))
    for ax, (title, points) in zip(axes, panels.items()):
        scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
        ax.set(title=title, xticks=[], yticks=[], xlabel="principal component 1", ylabel="principal component 2")
    fig.colorbar(scatter, ax=axes, ticks=range(10), label="class").ax.set_yticklabels(class_names)
    return fig


# ----------------------------------------------------------------------------
# The interactive figure: task similarity and labels per class
# ----------------------------------------------------------------------------


def similarity_spec(mean_accuracy) -> FigureSpec:
    """``mean_accuracy[similarity, way, k]``: test accuracy averaged over seeds
    (from ``nnbook.transfer.similarity_sweep``)."""
    acc = np.asarray(mean_accuracy, dtype=float)
    sims = np.asarray(TS_SIMILARITIES)
    log_ks = np.log(KS)

    def frame(similarity, labels_per_class) -> Frame:
        s = int(np.argmin(np.abs(sims - similarity)))  # nearest point of the sweep
        k = int(np.argmin(np.abs(log_ks - np.log(max(labels_per_class, 1)))))
        lines = {way: (KS, acc[s, w]) for w, way in enumerate(TS_WAYS)}
        for w, way in enumerate(TS_WAYS[1:], start=1):
            gain = acc[:, w, k] - acc[:, 0, k]
            lines[f"gain {way}"] = (sims, gain)
            lines[f"here {way}"] = ([sims[s]], [gain[s]])
        lines["k marker"] = ([KS[k], KS[k]], [0.2, 1.0])
        return Frame(lines, note=f"s = {sims[s]:.3g}, k = {KS[k]}")

    def setup(fig):
        left, right = fig.subplots(1, 2)
        left.set_xscale("log")
        left.set(xlim=(0.8, 50), ylim=(0.2, 1.0), xlabel="labels per class", ylabel="target test accuracy")
        left.set_xticks(KS, [str(k) for k in KS])
        left.axhline(1 / 4, color="0.6", linewidth=0.8, linestyle=":")
        left.set_title("each way at this similarity", fontsize=9)
        right.axhline(0, color="0.5", linewidth=0.8)
        right.set(xlim=(0, 1), ylim=(-0.5, 0.6), xlabel="task similarity (shared features)",
                  ylabel="accuracy gain over scratch")
        right.set_title("gain at this number of labels", fontsize=9)
        return [left, right]

    styles = {
        "scratch": Style(axes=0, color="0.35", marker=True, label="scratch"),
        "linear probe": Style(axes=0, color="C0", marker=True, label="linear probe"),
        "fine-tune, new head": Style(axes=0, color="C1", marker=True, label="fine-tune"),
        "k marker": Style(axes=0, color="0.6", width=1.0, dashed=True),
        "gain linear probe": Style(axes=1, color="C0", label="linear probe"),
        "gain fine-tune, new head": Style(axes=1, color="C1", label="fine-tune"),
        "here linear probe": Style(axes=1, color="C0", marker=True),
        "here fine-tune, new head": Style(axes=1, color="C1", marker=True),
    }
    controls = [
        # The live slider steps through the measured similarities only (a move between
        # them would show nothing new); labels per class moves by one, and the frame
        # shows the nearest measured number (on a log scale).
        Control("similarity", "task similarity", 0.5, live=(0.0, 1.0, 1 / (len(TS_SIMILARITIES) - 1)),
                grid=TS_SIMILARITIES),
        Control("labels_per_class", "labels per class", 5, live=(1, KS[-1], 1), grid=KS, integer=True),
    ]
    return FigureSpec(
        name="transfer-similarity",
        frame=frame,
        controls=controls,
        styles=styles,
        setup=setup,
        alt=(
            "Left: target test accuracy against labels per class for training from scratch, a linear probe and "
            "fine-tuning, in a teacher-student world at the chosen task similarity. Right: the accuracy gain of the "
            "linear probe and of fine-tuning over scratch against task similarity from 0 to 1, at the chosen number "
            "of labels; the gain is negative at low similarity and positive at high similarity."
        ),
        figsize=(8.0, 3.4),
    )
