"""Figures of the chapter "Frontiers and challenges" (chapters/07_frontiers.ipynb).

Drawing only: the experiments live in ``nnbook.frontiers``. The interactive
figure's ``frame`` is a pure function over the drift sweep's mean accuracies,
which the chapter computes (one jitted call) before drawing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from nnbook.frontiers import DRIFT_KS, DRIFTS
from nnbook.sliders import Control, FigureSpec, Frame, Style

KIND_TITLES = {"scanner": "new scanner at strength s", "permuted": "a fraction s of the pixels permuted"}


def drift_spec(scratch: dict, whole: dict, untrained: dict, renormalised) -> FigureSpec:
    """``scratch[kind]`` and ``whole[kind]``: mean test accuracy, shape
    (drifts, ks), for kinds "scanner" and "permuted"; ``untrained[kind]``
    (drifts,): the source model with no labels; ``renormalised`` (drifts,):
    the source model on re-normalised scanner images."""
    drifts = np.asarray(DRIFTS)
    log_ks = np.log(DRIFT_KS)
    kinds = tuple(KIND_TITLES)

    def frame(drift, labels_per_class) -> Frame:
        d = int(np.argmin(np.abs(drifts - drift)))  # nearest measured drift
        k = int(np.argmin(np.abs(log_ks - np.log(max(labels_per_class, 1)))))  # nearest measured k
        lines = {}
        for kind in kinds:
            lines[f"scratch {kind}"] = (drifts, scratch[kind][:, k])
            lines[f"whole {kind}"] = (drifts, whole[kind][:, k])
            lines[f"untrained {kind}"] = (drifts, untrained[kind])
            lines[f"here scratch {kind}"] = ([drifts[d]], [scratch[kind][d, k]])
            lines[f"here whole {kind}"] = ([drifts[d]], [whole[kind][d, k]])
        lines["renormalised scanner"] = (drifts, renormalised)
        gains = {kind: whole[kind][d, k] - scratch[kind][d, k] for kind in kinds}
        return Frame(lines, note=f"s = {drifts[d]:.1f}, k = {DRIFT_KS[k]}: gain of fine-tuning "
                                 f"{gains['scanner']:+.2f} (scanner), {gains['permuted']:+.2f} (permuted)")

    def setup(fig):
        axes = fig.subplots(1, 2, sharey=True)
        for ax, kind in zip(axes, kinds):
            ax.set(xlim=(-0.03, 1.03), ylim=(0.0, 1.0), xlabel="drift s")
            ax.set_title(KIND_TITLES[kind], fontsize=9)
            ax.axhline(0.1, color="0.6", linewidth=0.8, linestyle=":")
        axes[0].set_ylabel("target test accuracy")
        return list(axes)

    styles = {}
    for a, kind in enumerate(kinds):
        first = a == 0  # one legend entry per way
        styles[f"scratch {kind}"] = Style(axes=a, color="0.35", label="scratch" if first else None)
        styles[f"whole {kind}"] = Style(axes=a, color="C2", label="fine-tune whole model" if first else None)
        styles[f"untrained {kind}"] = Style(axes=a, color="C3", dashed=True, width=1.2,
                                            label="source model, no labels" if first else None)
        styles[f"here scratch {kind}"] = Style(axes=a, color="0.35", marker=True)
        styles[f"here whole {kind}"] = Style(axes=a, color="C2", marker=True)
    styles["renormalised scanner"] = Style(axes=0, color="C0", dashed=True, width=1.2,
                                           label="source model, re-normalised inputs")
    controls = [
        Control("drift", "drift s", 0.6, live=(0.0, 1.0, 0.2), grid=DRIFTS),
        Control("labels_per_class", "labels per class", 1, live=(1, DRIFT_KS[-1], 1), grid=DRIFT_KS, integer=True),
    ]
    return FigureSpec(
        name="frontiers-drift",
        frame=frame,
        controls=controls,
        styles=styles,
        setup=setup,
        legend="below",
        alt=(
            "Two panels of target test accuracy against the drift s from 0 to 1, at the chosen number of labels per "
            "class, for training from scratch and for fine-tuning the whole source model, with the source model "
            "used without labels as a dashed line. Left, the new scanner at strength s: both ways fall as s grows "
            "and fine-tuning stays above scratch by a similar margin; re-normalised inputs keep the untrained source "
            "model high. Right, a fraction s of the pixels permuted: scratch stays flat, fine-tuning falls below it."
        ),
        figsize=(8.0, 3.6),
    )


def forgetting_tradeoff(results: dict, pulls, untouched: tuple[float, float]):
    """Target accuracy against accuracy on the old task, one point per pull
    strength, one curve per target; ``results[name] = (target, old)`` arrays
    (pulls, seeds); ``untouched`` = the source model's (target, old) accuracy
    for the first target, marked as a star."""
    fig, ax = plt.subplots(figsize=(5.4, 3.6))
    for color, (name, (target, old)) in zip(("C1", "C4"), results.items()):
        t, o = np.asarray(target).mean(-1), np.asarray(old).mean(-1)
        ax.errorbar(o, t, xerr=np.asarray(old).std(-1), yerr=np.asarray(target).std(-1), marker="o", markersize=3,
                    capsize=2, color=color, label=name)
        for pull, x, y in zip(pulls, o, t):
            ax.annotate(f"{pull:g}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=6, color=color)
    ax.plot([untouched[1]], [untouched[0]], marker="*", markersize=10, color="C4", linestyle="none",
            label="source model, not fine-tuned")
    ax.set(xlabel="accuracy on the old (source) task", ylabel="accuracy on the target task",
           title="L2 pull toward the source weights (numbers: pull strength)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def lora_accuracy(parameters, results: dict, full: dict, full_parameters: int, untrained: dict):
    """Target accuracy against the number of trained parameters (log scale):
    a low-rank update at each rank, full fine-tuning, and the source model
    with no training. ``results[name]`` (ranks, seeds), ``full[name]`` (seeds,)."""
    fig, ax = plt.subplots(figsize=(5.4, 3.4))
    for color, name in zip(("C1", "C4"), results):
        acc = np.asarray(results[name])
        ax.errorbar(parameters, acc.mean(-1), yerr=acc.std(-1), marker="o", markersize=3, capsize=2, color=color,
                    label=f"{name}: low-rank update")
        f = np.asarray(full[name])
        ax.errorbar([full_parameters], [f.mean()], yerr=[f.std()], marker="s", markersize=5, capsize=2, color=color,
                    linestyle="none")
        ax.axhline(untrained[name], color=color, linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set(xlabel="trained parameters (squares: full fine-tuning)", ylabel="target test accuracy", ylim=(0, 1))
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
