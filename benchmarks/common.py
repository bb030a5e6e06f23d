"""What `make bench`, `make test-latest` and `make binder-check` share.

Standard library only: the last two run with the system python3.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOGS = ROOT / "_build" / "bench-logs"


def test_steps(root: pathlib.Path | None = None) -> list[tuple[str, ...]]:
    """What `make test` runs, read from its recipe in the Makefile: one step per
    `$(MAKE) ...` line, in order, each the targets that line runs side by side."""
    text = ((root or pathlib.Path(__file__).resolve().parents[1]) / "Makefile").read_text()
    recipe = re.search(r"^test:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.M)[1]
    return [tuple(w for w in line.split()[1:] if not w.startswith("-"))
            for line in recipe.splitlines() if line.strip().startswith("$(MAKE)")]


TEST_STAGES = tuple(stage for step in test_steps() for stage in step)  # `make test`'s targets, in its order
# State and tools, never part of the book's source.
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-*", "_build", "node_modules", "__pycache__",
                                     ".pytest_cache", "*.egg-info", ".ipynb_checkpoints")


def log(*args) -> None:
    """Progress goes to stderr; stdout holds only the report."""
    print(*args, file=sys.stderr, flush=True)


def cell_timeout(root: pathlib.Path = ROOT) -> int:
    """Seconds per cell, from ``execute: timeout:`` in _config.yml: the one
    setting the book build, the Makefile (nbval, outputs), the binder check
    and nbtests/stall_loop.py all use."""
    text = (root / "_config.yml").read_text()
    match = re.search(r"^execute:[^\n]*\n(?:[ \t]+[^\n]*\n)*?[ \t]+timeout:\s*(\d+)", text, re.M)
    if not match:
        raise ValueError("_config.yml has no 'execute: timeout: N' (seconds per cell); add it")
    return int(match[1])


def stored_run_seconds(notebook: pathlib.Path) -> float:
    """How long the notebook's stored outputs took to compute: from the first
    cell's start to the last cell's reply, as nbclient records them (0 if it
    recorded nothing)."""
    from datetime import datetime

    stamps = [c["metadata"]["execution"] for c in json.loads(notebook.read_text())["cells"]
              if "execution" in c.get("metadata", {})]
    if not stamps:
        return 0.0
    start, end = (datetime.fromisoformat(s.replace("Z", "+00:00")) for s in
                  (stamps[0]["iopub.execute_input"], stamps[-1]["shell.execute_reply"]))
    return (end - start).total_seconds()


def longest_first(notebooks: list[str]) -> list[str]:
    """The notebooks, the longest stored run first: strict nbval hands them out
    to its workers in this order, so the long chapters start at once and the
    short ones fill in at the end (in file order, the longest, chapter 7, came
    last and ran alone)."""
    return sorted(notebooks, key=lambda nb: -stored_run_seconds(ROOT / nb))


def toc_files(root: pathlib.Path = ROOT) -> list[str]:
    """The book's pages in _toc.yml order (root first), without suffix."""
    return re.findall(r"^\s*(?:-\s*)?(?:root|file):\s*(\S+)\s*$", (root / "_toc.yml").read_text(), re.M)


def toc_chapters(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    return [root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").exists()]


def summary(xs) -> dict:
    """Median and nearest-rank 95th percentile (a value that was measured)."""
    xs = sorted(xs)
    return {"n": len(xs), "p50": statistics.median(xs), "p95": xs[max(0, -(-95 * len(xs) // 100) - 1)]}


def env(**extra) -> dict:
    """The environment the Makefile gives notebooks, plus ``extra``."""
    e = dict(os.environ, JAX_PLATFORMS="cpu", PYDEVD_DISABLE_FILE_VALIDATION="1",
             JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0.1", JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
             PIP_DISABLE_PIP_VERSION_CHECK="1")
    for k in ("MAKEFLAGS", "MAKELEVEL", "JAX_COMPILATION_CACHE_DIR", "VIRTUAL_ENV"):
        e.pop(k, None)
    return e | {k: str(v) for k, v in extra.items()}


@contextlib.contextmanager
def repo_copy(venv: pathlib.Path = ROOT / ".venv"):
    """A copy of the working tree (uncommitted edits included) with an empty
    _build, using ``venv`` and node_modules through symlinks: runs there
    start cold and never touch the developer's _build. Yields (copy, make
    flags that stop make from reinstalling the shared tools)."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnbook-copy-"))
    copy = tmp / "book"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE, symlinks=True)
    (copy / ".venv").symlink_to(venv)
    flags = ["-o", ".venv/.installed"]
    if (ROOT / "node_modules").is_dir():
        (copy / "node_modules").symlink_to(ROOT / "node_modules")
        flags += ["-o", "node_modules/.package-lock.json"]
    try:
        yield copy, flags
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def failed_tests(output: str) -> list[str]:
    """pytest's FAILED/ERROR summary lines (or, if -r left them out, the
    failure section headers; for another tool, its last line)."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)  # no colour codes
    tests = [line.strip() for line in output.splitlines() if re.match(r"^(FAILED|ERROR) ", line)]
    return tests or ["FAILED " + m[1] for m in re.finditer(r"^_+ (test\S*) _+$", output, re.M)] or output.strip(
        ).splitlines()[-1:]


def make(copy: pathlib.Path, flags: list[str], target: str, label: str, **extra_env) -> dict:
    """``make TARGET`` in ``copy``, timed; a failure keeps its whole output in
    _build/bench-logs/LABEL.log and names the failed tests."""
    t0 = time.perf_counter()
    proc = subprocess.run(["make", "--no-print-directory", *flags, target], cwd=copy, capture_output=True,
                          text=True, env=env(PYTHONPATH=copy, **extra_env))  # kernels import the copy's nnbook
    out = {"seconds": time.perf_counter() - t0, "status": proc.returncode}
    if proc.returncode:
        LOGS.mkdir(parents=True, exist_ok=True)
        path = LOGS / (re.sub(r"[^\w.-]+", "_", label) + ".log")
        path.write_text(proc.stdout + proc.stderr)
        out |= {"failed": failed_tests(proc.stdout + proc.stderr), "log": str(path.relative_to(ROOT))}
    return out


def run_json(module: str, *args, root: pathlib.Path = ROOT, **extra_env) -> dict:
    """``python -m benchmarks.MODULE ARGS`` in a fresh interpreter (JAX flags
    one chapter sets cannot leak into the next), importing ``root``'s code;
    returns the JSON it prints last."""
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *map(str, args)], cwd=root,
                          env=env(PYTHONPATH=root, **extra_env), capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"benchmarks.{module} {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    rows = [[str(c) for c in row] for row in rows]
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
                     + ["| " + " | ".join(row) + " |" for row in rows])
