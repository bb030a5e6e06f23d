"""Where a chapter's execution time goes: kernel start, imports, JAX
compilation, and the rest.

One run executes a chapter top to bottom with nbclient (as the book build and
nbval do), timing every cell, in a kernel that records JAX's own compilation
events (``jax.monitoring`` time spans of tracing to a jaxpr, lowering to MLIR
and the XLA backend compile). The columns mean:

* kernel start: starting a kernel until it answers ``kernel_info``;
* imports: the setup cell (the chapter's first code cell) plus the import of
  jax that the instrumentation does just before it, minus any compilation
  inside them;
* JAX compile: wall time during which JAX was tracing, lowering or compiling
  (the union of those spans, so nested jits are not counted twice), anywhere
  in the chapter. In one top-to-bottom run almost every compile is a first
  compile; with a cold persistent cache it is all real work, with a warm one
  the XLA part becomes a cache read;
* rest: everything else the cells did (computation, plotting, PNG encoding).

A chapter is run twice per repeat: with an empty JAX persistent compilation
cache (what a fresh clone sees) and then again with that cache warm (what a
developer's second run, and the book build after nbval, sees).

Run one chapter:  python -m benchmarks.execution chapters/00_how_to_use.ipynb --jax-cache DIR
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

from benchmarks.common import ROOT, log, median, run_json

CELL_TIMEOUT = 60

INSTRUMENT = r"""
import time as _bench_time
import jax as _bench_jax
import jax.monitoring as _bench_monitoring
_bench_spans = []
_BENCH_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
}
def _bench_on_span(event, start, end, **kwargs):
    if event in _BENCH_EVENTS:
        _bench_spans.append((start, end))
_bench_monitoring.register_event_time_span_listener(_bench_on_span)
"""

REPORT = "import json as _bench_json; print(_bench_json.dumps(_bench_spans))"


def _union_within(spans, lo: float, hi: float) -> float:
    """Length of the union of ``spans`` clipped to [lo, hi]."""
    clipped = sorted((max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi)
    total, end = 0.0, lo
    for a, b in clipped:
        a = max(a, end)
        if b > a:
            total += b - a
            end = b
    return total


def run_chapter(path: pathlib.Path) -> dict:
    """Execute one chapter with per-cell timing (in this process's environment)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    cells = [nbformat.v4.new_code_cell(INSTRUMENT), *code, nbformat.v4.new_code_cell(REPORT)]
    run_nb = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    client = NotebookClient(
        run_nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    windows = []
    with client.setup_kernel():
        client.wait_for_reply(client.kc.kernel_info())
        kernel_start = time.perf_counter() - t0
        for index, cell in enumerate(cells):
            w0, p0 = time.time(), time.perf_counter()
            client.execute_cell(cell, index)
            windows.append((w0, time.time(), time.perf_counter() - p0))
    report = "".join(o.get("text", "") for o in cells[-1].outputs if o.get("name") == "stdout")
    spans = json.loads(report.strip().splitlines()[-1])
    windows = windows[:-1]  # the report cell is ours
    seconds = [w[2] for w in windows]
    compile_per_cell = [_union_within(spans, a, b) for a, b, _ in windows]
    imports_cells = 2 if len(windows) > 1 else 1  # instrumentation (import jax) + setup cell
    imports = sum(seconds[:imports_cells]) - sum(compile_per_cell[:imports_cells])
    compile_total = sum(compile_per_cell)
    cells_total = sum(seconds)
    slowest = max(range(1, len(windows)), key=lambda i: seconds[i], default=0)
    return {
        "kernel_start": kernel_start,
        "imports": imports,
        "compile": compile_total,
        "rest": cells_total - imports - compile_total,
        "total": kernel_start + cells_total,
        "cells": len(code),
        # index among the chapter's code cells (the instrumentation cell is 0)
        "slowest_cell": {"code_cell": slowest - 1, "seconds": seconds[slowest] if windows else 0.0},
    }


def measure(chapters: list[pathlib.Path], repeat: int, root: pathlib.Path = ROOT) -> dict:
    """Median split per chapter, cold and warm JAX cache, ``repeat`` times each.
    A failed run is recorded and left out of the medians."""
    out = {}
    for path in chapters:
        name = str(path.relative_to(root))
        runs, errors = {"cold": [], "warm": []}, []
        for r in range(repeat):
            cache = tempfile.mkdtemp(prefix="nnbook-bench-jaxcache-")
            try:
                for kind in ("cold", "warm"):
                    log(f"  execution {name} ({kind} JAX cache, run {r + 1}/{repeat})")
                    try:
                        runs[kind].append(run_json(["-m", "benchmarks.execution", str(path)], root=root,
                                                   JAX_COMPILATION_CACHE_DIR=cache))
                    except Exception as exc:
                        errors.append(f"{kind} run {r + 1}: {str(exc)[-500:]}")
                        break  # a warm run after a failed cold one would not be warm
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        keys = ("kernel_start", "imports", "compile", "rest", "total")
        out[name] = {
            kind: {k: median([run[k] for run in rs]) for k in keys} | {"runs": rs}
            for kind, rs in runs.items()
        } | {"errors": errors}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=pathlib.Path)
    args = parser.parse_args()
    print(json.dumps(run_chapter(args.notebook.resolve())))


if __name__ == "__main__":
    sys.exit(main())
