"""Where a chapter's Run All goes: kernel start, imports, JAX compile, rest.

The chapter runs top to bottom with nbclient (as the book build and nbval
run it), each cell timed, in a kernel that records JAX's compilation spans
(``jax.monitoring``: tracing, lowering, XLA compile). Imports = the setup cell
plus the instrument cell's ``import jax``; JAX compile = the union of the
spans, in any cell; rest = everything else (computing, plotting, PNGs). Cold:
an empty JAX persistent cache (a reader's first Run All); warm: filled by it.

Run one chapter:  python -m benchmarks.execution chapters/00_how_to_use.ipynb
"""

from __future__ import annotations

import json
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

from benchmarks.common import cell_timeout, log, run_json

INSTRUMENT = """
import jax as _bench_jax, jax.monitoring as _bench_monitoring
_bench_spans = []
_bench_monitoring.register_event_time_span_listener(
    lambda event, start, end, **_: _bench_spans.append((start, end)) if event in {
        "/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration"} else None)
_bench_monitoring.register_event_time_span_listener(  # one span per XLA program compiled (or loaded from the cache)
    lambda event, start, end, **_: _bench_spans.append((start, start)) if event ==
        "/jax/core/compile/backend_compile_duration" else None)
"""
REPORT = "import json as _bench_json; print(_bench_json.dumps(_bench_spans))"
SLOWEST = 8
KEYS = ("kernel_start", "imports", "compile", "rest", "total")


def union_within(spans, lo: float, hi: float) -> float:
    """Length of the union of ``spans`` clipped to [lo, hi]."""
    total, end = 0.0, lo
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi):
        if b > max(a, end):
            total += b - max(a, end)
            end = b
    return total


def run_chapter(path: pathlib.Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cells = [nbformat.v4.new_code_cell(INSTRUMENT), *(c for c in nb.cells if c.cell_type == "code"),
             nbformat.v4.new_code_cell(REPORT)]
    client = NotebookClient(nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata),
                            timeout=cell_timeout(), kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0, windows = time.perf_counter(), []
    with client.setup_kernel():
        client.wait_for_reply(client.kc.kernel_info())
        kernel_start = time.perf_counter() - t0
        for index, cell in enumerate(cells):
            w0, p0 = time.time(), time.perf_counter()
            client.execute_cell(cell, index)
            windows.append((w0, time.time(), time.perf_counter() - p0))
    spans = json.loads("".join(o.get("text", "") for o in cells[-1].outputs).strip().splitlines()[-1])
    windows = windows[:-1]  # the report cell is ours
    compile_ = [union_within(spans, a, b) for a, b, _ in windows]
    programs = [sum(1 for s, e in spans if s == e and a <= s <= b) for a, b, _ in windows]
    spans = [(s, e) for s, e in spans if s != e]
    imports = sum(w[2] for w in windows[:2]) - sum(compile_[:2])  # instrument cell + setup cell
    cells_total = sum(w[2] for w in windows)
    # The slowest cells, for `python -m benchmarks.execution CHAPTER`: where to look first.
    heads = [(c.source.strip().splitlines() or [""])[0][:70] for c in cells]
    slowest = sorted(((w[2], compile_[i], programs[i], i - 1, heads[i]) for i, w in enumerate(windows) if i > 0),
                     reverse=True)[:SLOWEST]
    return {"kernel_start": kernel_start, "imports": imports, "compile": sum(compile_),
            "rest": cells_total - imports - sum(compile_), "total": kernel_start + cells_total,
            "programs": sum(programs),
            "slowest_cells": [dict(zip(("seconds", "compile", "programs", "code_cell", "head"), c)) for c in slowest]}


def measure(chapters: list[pathlib.Path], repeat: int, root: pathlib.Path) -> dict:
    """Median split per chapter, cold and warm; failed runs are listed."""
    out = {}
    for path in chapters:
        name = str(path.relative_to(root))
        runs, errors = {"cold": [], "warm": []}, []
        for r in range(repeat):
            cache = tempfile.mkdtemp(prefix="nnbook-jaxcache-")
            try:
                for kind in ("cold", "warm"):
                    log(f"  execution {name} ({kind} JAX cache, {r + 1}/{repeat})")
                    runs[kind].append(run_json("execution", path, root=root, JAX_COMPILATION_CACHE_DIR=cache))
            except RuntimeError as exc:
                errors.append(str(exc)[-500:])
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        out[name] = {kind: {k: statistics.median(run[k] for run in rs) for k in (*KEYS, "programs")} if rs else None
                     for kind, rs in runs.items()} | {"errors": errors}
        # where the cold time went, from the first cold run: the chapter's slowest cells
        out[name]["slowest_cells"] = runs["cold"][0]["slowest_cells"] if runs["cold"] else []
    return out


if __name__ == "__main__":
    print(json.dumps(run_chapter(pathlib.Path(sys.argv[1]).resolve())))
