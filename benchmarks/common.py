"""Shared helpers of the benchmarks: statistics, chapters, a throw-away copy
of the repository, subprocesses, and the printed table."""

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

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV_BIN = pathlib.Path(sys.executable).parent

# Folders that are state or tools, never part of the book's source.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", "_build", "node_modules", "__pycache__", ".pytest_cache",
    "*.egg-info", ".ipynb_checkpoints", ".jupyter_cache",
)


def log(*args) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(*args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(xs, q: float):
    """Nearest-rank percentile (q in 0..100): a value that was measured."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    rank = max(1, int(-(-q * len(xs) // 100)))  # ceil(q/100 * n)
    return xs[min(rank, len(xs)) - 1]


def summary(xs) -> dict:
    xs = [x for x in xs if x is not None]
    return {"n": len(xs), "p50": median(xs), "p95": percentile(xs, 95), "min": min(xs, default=None),
            "max": max(xs, default=None)}


# ----------------------------------------------------------------------------
# the book
# ----------------------------------------------------------------------------


def toc_chapters(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The chapter notebooks, in the order of _toc.yml."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def env(**extra) -> dict:
    """The environment notebooks run in (what the Makefile exports), plus ``extra``."""
    e = dict(os.environ)
    e.setdefault("JAX_PLATFORMS", "cpu")
    e.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    e.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    e.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    e["PATH"] = f"{VENV_BIN}{os.pathsep}{e.get('PATH', '')}"
    e.update({k: str(v) for k, v in extra.items()})
    return e


@contextlib.contextmanager
def repo_copy(keep: bool = False):
    """A copy of the working tree (uncommitted changes included) in a temporary
    folder with its own empty ``_build``, using this repository's ``.venv``
    through a symlink. Measurements run there, so they start cold and the
    developer's ``_build`` is never touched."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnbook-bench-"))
    copy = tmp / "book"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE, symlinks=True)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    try:
        yield copy
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def make(copy: pathlib.Path, *args: str, timeout: float = 3600, extra_env: dict | None = None):
    """Run ``make ARGS`` in ``copy`` without letting make rebuild the shared
    venv (``-o .venv/.installed``); return (seconds, exit status, output).

    PYTHONPATH points at the copy, so its kernels import the copy's
    ``nnbook`` rather than the editable install's."""
    cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", *args]
    extra = {"PYTHONPATH": str(copy), **(extra_env or {})}
    # The Makefile's own exports must win over a parent make's.
    e = {k: v for k, v in env(**extra).items() if k not in ("JAX_COMPILATION_CACHE_DIR", "MAKEFLAGS", "MAKELEVEL")}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, env=e, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    return seconds, proc.returncode, proc.stdout + proc.stderr


LOGS = ROOT / "_build" / "bench-logs"


def failure(label: str, status: int, output: str) -> dict:
    """Keep a failed run's whole output in _build/bench-logs/ and return what
    the report shows: the failing tests (pytest's FAILED/ERROR lines) or the
    last lines."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_file = LOGS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") + ".log")
    log_file.write_text(output)
    tests = [l.strip() for l in output.splitlines() if re.match(r"^(FAILED|ERROR) ", l)]
    if not tests:  # pytest run with -r flags that leave failures out of the summary: use the section headers
        tests = ["FAILED " + m[1] for m in re.finditer(r"^_+ (test\S*) _+$", output, re.M)]
    return {"run": label, "status": status, "failed_tests": tests, "log": str(log_file.relative_to(ROOT)),
            "tail": "\n".join(output.strip().splitlines()[-15:])}


def run_json(args: list[str], root: pathlib.Path = ROOT, timeout: float = 1800, **extra_env) -> dict:
    """Run ``python -m benchmarks.X ...`` in a fresh process and parse the JSON
    it prints last on stdout (each measurement gets its own interpreter, so
    JAX flags set by one chapter cannot leak into the next). ``root`` is the
    tree it runs in (a snapshot copy): its ``benchmarks`` and ``nnbook`` are
    the ones imported."""
    e = env(PYTHONPATH=root, **extra_env)
    if "JAX_COMPILATION_CACHE_DIR" not in extra_env:  # no persistent cache unless asked: compiles are real
        e.pop("JAX_COMPILATION_CACHE_DIR", None)
    proc = subprocess.run([sys.executable, *args], cwd=root, env=e, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------------


def fmt_s(x, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f} s"


def fmt_ms(x) -> str:
    if x is None:
        return "-"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def fmt_kb(nbytes) -> str:
    if nbytes is None:
        return "-"
    return f"{nbytes / 1e3:.0f} kB" if nbytes < 1e6 else f"{nbytes / 1e6:.2f} MB"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (readable as plain text too)."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)
