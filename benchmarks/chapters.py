"""A chapter run in-process by the tests' runner (nbtests/chapter_code.py):
how fast its live figures answer a slider move, and its speed comparisons.

Live figures: the specs the chapter's figure cells display
(``chapter_code.figure_specs``). Each is built with the public live face,
``nnbook.sliders.live_figure(spec)``, and moved with ``LiveFigure.update``,
which returns an ``UpdateTiming``: ``frame_seconds`` (the JAX frame function,
results in NumPy) and ``total_seconds`` (the whole update: frame, redraw,
PNG). Each slider visits at most 40 positions of its live range
(``control.live == (lo, hi, step)``) back and forth, the others at their
initial values; a first pass over the positions warms up (JIT compiles) and
its slowest move is reported as "first move". Not measured: sending the PNG
to the browser.

Speed comparisons: what the chapter measured in this run, by the names it
defines (chapter 4's sweep versus a Python loop, re-timed here 5 times with
the chapter's own functions; chapter 5's gradient timings by mode and n).

Run one chapter:  python -m benchmarks.chapters chapters/00_how_to_use.ipynb [MOVES]
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
import time
import warnings

from benchmarks.common import ROOT, summary

MOVES = 40


def positions(control, most: int = 40) -> list:
    """At most ``most`` values of the control's live range, both ends included."""
    import numpy as np

    lo, hi, step = control.live
    if control.scale == "log":
        values = np.geomspace(lo, hi, most)
    else:
        count = int(round((hi - lo) / step)) + 1
        values = lo + step * np.unique(np.round(np.linspace(0, count - 1, min(count, most))))
    values = np.clip(values, lo, hi)
    return sorted({int(round(v)) if control.integer else float(v) for v in values})


def measure_figure(spec, moves: int) -> list[dict]:
    from nnbook.sliders import live_figure

    t0 = time.perf_counter()
    figure = live_figure(spec)
    build_ms = (time.perf_counter() - t0) * 1e3
    initial = {c.name: c.initial for c in spec.controls}
    rows = []
    for control in spec.controls:
        values = positions(control)
        row = {"figure": spec.name, "slider": control.name, "positions": len(values)}
        if len(values) < 2:
            rows.append(row | {"error": "its live range has a single position"})
            continue
        figure.update(**initial)
        first = [figure.update(**{control.name: v}).total_seconds for v in values]  # warm-up, ends at hi
        cycle = values[-2::-1] + values[1:]  # down to lo and back up: every move changes the value
        timings = [figure.update(**{control.name: v}) for v in (cycle * moves)[:moves]]
        rows.append(row | {"build_ms": build_ms, "first_move_ms": max(first) * 1e3, "moves": len(timings),
                           "jax_ms": summary([t.frame_seconds * 1e3 for t in timings]),
                           "total_ms": summary([t.total_seconds * 1e3 for t in timings])})
    return rows


def speed(namespace: dict) -> dict:
    out = {}
    if "python_loop" in namespace and "sweep" in namespace:  # chapter 4
        sweep, loop = namespace["sweep"], namespace["python_loop"]
        sweep(), loop()
        vectorised = statistics.median(_seconds(sweep) for _ in range(5))
        looped = statistics.median(_seconds(loop) for _ in range(5))
        out["sweep"] = {"vectorised_ms": vectorised * 1e3, "python_loop_ms": looped * 1e3,
                        "speedup": looped / vectorised, "same_results": namespace.get("same")}
    if "seconds" in namespace and "sizes" in namespace:  # chapter 5: {(method, n): seconds}
        out["gradient_modes"] = {f"{method} n={n}": s * 1e3 for (method, n), s in namespace["seconds"].items()}
    return out


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure_chapter(path: pathlib.Path, moves: int = MOVES) -> dict:
    sys.path.insert(0, str(ROOT / "nbtests"))
    from chapter_code import figure_specs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace, specs = figure_specs(str(path))
        figures = []
        for spec in specs:
            try:
                figures += measure_figure(spec, moves)
            except Exception as exc:  # one figure the live face rejects must not hide the others
                figures.append({"figure": spec.name, "error": f"{type(exc).__name__}: {exc}"})
        return {"figures": figures, "speed": speed(namespace)}


if __name__ == "__main__":
    result = measure_chapter(pathlib.Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else MOVES)
    print(json.dumps(result, default=str))
