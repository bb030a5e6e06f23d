"""How fast every live slider of the book answers a move.

Figures are found, not listed: each chapter's code cells are executed in this
process by an IPython shell (matplotlib's Agg backend, display output
discarded) while ``nnbook.sliders.LiveFigure`` records every figure a chapter
shows live; every ``FigureSpec`` left in the chapter's namespace is added (a
reader can show any of them live).

Then, for each figure and each of its sliders, a fresh live figure is built and
the slider's ``value`` is set along its whole range, back and forth. Setting
``value`` runs the real callback (traitlets ``observe`` -> ``LiveFigure.redraw``).
``nnbook.sliders.checked_frame``, which the callback calls to get the frame, is
wrapped with a timer from outside, so each move splits exactly into

* JAX: the frame function (``spec.frame(**params)``, JAX computation with its
  results moved to NumPy, plus the frame's validity check);
* redraw: everything else in the callback (set_data, restoring the cached
  background, drawing the lines, PNG encoding, setting the Image widget).

A first pass over the slider's positions warms up (it triggers any JIT
compilation, e.g. one per integer value when a slider changes an array's
shape); its slowest move is reported as "first move". The timed pass follows.
Not measured: sending the PNG from the kernel to the browser and decoding it
there (outside a kernel the widget has no comm).

Run one chapter:  python -m benchmarks.live_sliders chapters/00_how_to_use.ipynb [--moves 40]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import pathlib
import sys
import time
import warnings

from benchmarks.common import ROOT, log, run_json, summary

MOVES = 40


def _positions(slider) -> list[float]:
    """Every value the live widget can take, in order."""
    import ipywidgets as widgets

    if isinstance(slider, widgets.IntSlider):
        return [float(v) for v in range(int(slider.min), int(slider.max) + 1, max(1, int(slider.step)))]
    steps = 0 if slider.step == 0 else int(round((slider.max - slider.min) / slider.step))
    grid = [slider.min + k * slider.step for k in range(steps + 1)]
    if isinstance(slider, widgets.FloatLogSlider):
        return [slider.base ** g for g in grid]
    return grid


def _sweep(positions: list[float], moves: int) -> list[float]:
    """At most 40 evenly spaced positions, visited back and forth until
    ``moves`` moves (no two consecutive values equal)."""
    if len(positions) > 40:
        idx = sorted({round(i * (len(positions) - 1) / 39) for i in range(40)})
        positions = [positions[i] for i in idx]
    if len(positions) < 2:
        return []
    back_and_forth = positions + positions[-2:0:-1]
    seq = []
    while len(seq) < moves:
        seq += back_and_forth
    return seq[:moves]


def _execute_chapter(path: pathlib.Path):
    """Run the chapter's code cells in an IPython shell; return (specs, error)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    import nnbook.sliders as sliders

    shown = []
    original_init = sliders.LiveFigure.__init__

    def recording_init(self, spec, *args, **kwargs):
        original_init(self, spec, *args, **kwargs)
        shown.append(spec)

    sliders.LiveFigure.__init__ = recording_init
    shell = InteractiveShell.instance()
    nb = nbformat.read(path, as_version=4)
    error = None
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for index, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
                result = shell.run_cell(cell.source, store_history=False, silent=False)
                if not result.success:
                    exc = result.error_in_exec or result.error_before_exec
                    error = f"code cell {index}: {type(exc).__name__}: {exc}"
                    break
    finally:
        os.chdir(cwd)
        sliders.LiveFigure.__init__ = original_init
    specs = {id(s): ("shown live", s) for s in shown}
    for value in list(shell.user_ns.values()):
        if isinstance(value, sliders.FigureSpec) and id(value) not in specs:
            specs[id(value)] = ("in namespace", value)
    return list(specs.values()), error


def measure_chapter(path: pathlib.Path, moves: int = MOVES) -> dict:
    specs, error = _execute_chapter(path)
    import nnbook.sliders as sliders

    spent = {"frame": 0.0}
    original_checked = sliders.checked_frame

    def timed_checked_frame(spec, params):
        t0 = time.perf_counter()
        try:
            return original_checked(spec, params)
        finally:
            spent["frame"] += time.perf_counter() - t0

    rows = []
    sliders.checked_frame = timed_checked_frame
    try:
        for how, spec in specs:
            try:
                with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    figure = sliders.live_figure(spec)
                    build = time.perf_counter() - t0
            except Exception as exc:  # a spec the live face rejects: say so, keep going
                rows.append({"figure": spec.name, "found": how, "error": f"{type(exc).__name__}: {exc}"})
                continue
            initial = {c.name: figure.sliders[c.name].value for c in spec.controls}
            for control in spec.controls:
                for name, value in initial.items():
                    figure.sliders[name].value = value
                slider = figure.sliders[control.name]
                positions = _positions(slider)
                seq = _sweep(positions, moves)
                if not seq:
                    rows.append({"figure": spec.name, "slider": control.name, "found": how,
                                 "error": "the slider has a single position"})
                    continue
                first = []
                for value in sorted(set(seq)) + [slider.value]:  # warm-up pass
                    if value == slider.value:
                        continue
                    spent["frame"] = 0.0
                    t0 = time.perf_counter()
                    slider.value = value
                    first.append(time.perf_counter() - t0)
                total, frame = [], []
                if slider.value == seq[0]:
                    seq = seq[1:] + [seq[-2]]
                for value in seq:
                    spent["frame"] = 0.0
                    t0 = time.perf_counter()
                    slider.value = value
                    total.append((time.perf_counter() - t0) * 1e3)
                    frame.append(spent["frame"] * 1e3)
                if not any(frame):
                    rows.append({"figure": spec.name, "slider": control.name, "found": how, "error":
                                 "the frame function was never timed: LiveFigure.redraw no longer calls "
                                 "nnbook.sliders.checked_frame, so benchmarks/live_sliders.py must follow it"})
                    continue
                redraw = [t - f for t, f in zip(total, frame)]
                rows.append({
                    "figure": spec.name, "slider": control.name, "found": how,
                    "range": [positions[0], positions[-1]], "positions": len(positions),
                    "moves": len(total), "build_ms": build * 1e3,
                    "first_move_max_ms": max(first, default=0.0) * 1e3,
                    "jax_ms": summary(frame), "redraw_ms": summary(redraw), "total_ms": summary(total),
                })
    finally:
        sliders.checked_frame = original_checked
    return {"chapter": str(path), "error": error, "figures": rows}


def measure(chapters: list[pathlib.Path], moves: int = MOVES, root: pathlib.Path = ROOT) -> dict:
    out = {}
    for path in chapters:
        name = str(path.relative_to(root))
        log(f"  live sliders of {name}")
        try:
            out[name] = run_json(["-m", "benchmarks.live_sliders", str(path), "--moves", str(moves)], root=root)
        except Exception as exc:
            out[name] = {"chapter": name, "error": str(exc)[-800:], "figures": []}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=pathlib.Path)
    parser.add_argument("--moves", type=int, default=MOVES)
    args = parser.parse_args()
    result = measure_chapter(args.notebook.resolve(), max(30, args.moves))
    print(json.dumps(result, default=lambda x: float(x) if isinstance(x, (int, float)) else str(x)))


if __name__ == "__main__":
    sys.exit(main())
