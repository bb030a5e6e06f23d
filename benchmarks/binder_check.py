"""`make binder-check`: what Binder (repo2docker) would do, simulated here.

1. A fresh virtual environment made only from ``requirements.txt``, with the
   Python that ``runtime.txt`` names (repo2docker reads both; it installs with
   ``pip install --no-cache-dir -r requirements.txt``, and so does this check,
   so the install time is that of a machine with an empty pip cache).
2. Every chapter of ``_toc.yml`` executed top to bottom with
   ``jupyter nbconvert --to notebook --execute`` (60 s per cell), outputs
   written to a temporary folder: the notebooks in the repository are not
   touched.
3. ``jupyter labextension list`` must show the ipywidgets frontend extension
   ``@jupyter-widgets/jupyterlab-manager`` enabled and OK, or live sliders
   would not render in JupyterLab.

The venv lives in a temporary folder and is removed at the end (KEEP=1 keeps
it and prints where). Standard library only: runs with the system python3.

Run:  python3 benchmarks/binder_check.py
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 60
EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def say(*args) -> None:
    print(*args, flush=True)


def run(cmd, **kw) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t0, proc


def runtime_python() -> tuple[str, str]:
    """The interpreter runtime.txt asks for, or exit with a clear message."""
    wanted = (ROOT / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", wanted)
    if not match:
        sys.exit(f"binder-check: runtime.txt says {wanted!r}; expected 'python-X.Y'.")
    version = f"{match[1]}.{match[2]}"
    for candidate in (f"python{version}", "python3"):
        path = shutil.which(candidate)
        if not path:
            continue
        out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
        if out.split()[-1].startswith(version + "."):
            return path, out
    found = subprocess.run(["python3", "--version"], capture_output=True, text=True).stdout.strip()
    sys.exit(f"binder-check: runtime.txt asks for Python {version} (what Binder installs), but neither "
             f"python{version} nor python3 here is {version} (python3 is {found or 'missing'}). "
             f"Install Python {version} (e.g. apt-get install python{version}-venv) and run it again.")


def toc_chapters() -> list[str]:
    files = re.findall(r"^\s*(?:-\s*)?file:\s*(\S+)\s*$", (ROOT / "_toc.yml").read_text(), re.M)
    return [f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def main() -> int:
    python, version = runtime_python()
    keep = os.environ.get("KEEP") == "1"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnbook-binder-"))
    venv, outdir = tmp / "venv", tmp / "executed"
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYDEVD_DISABLE_FILE_VALIDATION="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # Binder starts with no compilation cache
    env.pop("PYTHONPATH", None)
    problems, timings = [], {}
    t_all = time.perf_counter()
    try:
        say(f"binder-check: {version} ({python}), as runtime.txt asks")
        say(f"1. fresh venv from requirements.txt only (pip --no-cache-dir) in {venv}")
        t, proc = run([python, "-m", "venv", str(venv)])
        if proc.returncode:
            say(proc.stderr)
            return 1
        bin_ = venv / "bin"
        t, proc = run([str(bin_ / "pip"), "install", "--no-cache-dir", "--quiet", "-r", "requirements.txt"],
                      cwd=ROOT, env=env)
        timings["install"] = t
        if proc.returncode:
            say(proc.stdout[-3000:], proc.stderr[-3000:])
            say("   FAILED: pip could not install requirements.txt")
            return 1
        say(f"   installed in {t / 60:.1f} min")

        say("2. every chapter with jupyter nbconvert --execute")
        outdir.mkdir()
        for chapter in toc_chapters():
            t, proc = run([str(bin_ / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                           "--output-dir", str(outdir), f"--ExecutePreprocessor.timeout={CELL_TIMEOUT}", chapter],
                          cwd=ROOT, env=env)
            timings[chapter] = t
            ok = proc.returncode == 0
            say(f"   {'ok    ' if ok else 'FAILED'} {chapter}: {t:.1f} s")
            if not ok:
                problems.append(f"{chapter} did not execute:\n{proc.stderr[-2500:]}")

        say(f"3. jupyter labextension list shows {EXTENSION} enabled and OK")
        _, proc = run([str(bin_ / "jupyter"), "labextension", "list"], cwd=ROOT, env=env)
        listing = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # no colour codes
        line = next((l.strip() for l in listing.splitlines() if EXTENSION in l), None)
        if line and "enabled" in line and re.search(r"\bOK\b", line):
            say(f"   ok     {line}")
        else:
            problems.append(f"{EXTENSION} is not listed as enabled and OK by `jupyter labextension list`:\n{listing}")
            say(f"   FAILED {line or EXTENSION + ' not listed'}")
    finally:
        if keep:
            say(f"(KEEP=1: the venv is in {venv})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    total = time.perf_counter() - t_all
    say("")
    say(f"binder-check took {total / 60:.1f} min (install {timings.get('install', 0) / 60:.1f} min, chapters "
        f"{sum(v for k, v in timings.items() if k != 'install'):.0f} s).")
    if problems:
        say(f"binder-check FAILED ({len(problems)} problem(s)):")
        for p in problems:
            say("- " + p)
        return 1
    say("binder-check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
