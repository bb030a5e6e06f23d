"""A chapter run in-process by the tests' runner (nbtests/chapter_code.py):
its live figures' update times and its speed comparisons.

Live figures: the specs its figure cells display, each built with the public
live face ``nnbook.sliders.live_figure(spec)`` and moved with
``LiveFigure.update``, which returns ``UpdateTiming(frame_seconds,
total_seconds)``: the JAX frame function (results in NumPy) and the whole
update (frame, redraw, PNG; not the trip to the browser). Each slider visits
at most 40 positions of its live range ``control.live == (lo, hi, step)``
back and forth, the others at their initial values, after a warm-up pass
(JIT compiles) whose slowest move is the "first move".

Speed comparisons: chapter 4's sweep and Python loop, re-timed (median of 5)
with the chapter's own functions; chapter 5's gradient timings as it measured
them.  Run:  python -m benchmarks.chapters chapters/00_how_to_use.ipynb [MOVES]
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
    """At most ``most`` of the live slider's positions, both ends included
    (a log-scale slider steps in decades)."""
    import numpy as np

    lo, hi, step = control.live
    to, back = (np.log10, lambda e: 10.0**e) if control.scale == "log" else (float, float)
    count = int(round((to(hi) - to(lo)) / step)) + 1
    steps = np.unique(np.round(np.linspace(0, count - 1, min(count, most))))
    values = np.clip([back(to(lo) + step * k) for k in steps], lo, hi)
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


def median_seconds(fn, runs: int = 5) -> float:
    """Of a function the chapter already ran (compiled)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def speed(ns: dict) -> dict:
    out = {}
    if "python_loop" in ns and "sweep" in ns:  # chapter 4
        vectorised, looped = median_seconds(ns["sweep"]), median_seconds(ns["python_loop"])
        # The chapter times its Python loop on part of the grid (loop_etas): scale it to the whole grid.
        looped *= len(ns["etas"]) / len(ns.get("loop_etas", ns["etas"]))
        out["sweep"] = {"vectorised_ms": vectorised * 1e3, "python_loop_ms": looped * 1e3,
                        "speedup": looped / vectorised, "same_results": ns.get("same")}
    if "seconds" in ns and "sizes" in ns:  # chapter 5: {(method, n): seconds}
        out["gradient_modes"] = {f"{method} n={n}": s * 1e3 for (method, n), s in ns["seconds"].items()}
    return out


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
