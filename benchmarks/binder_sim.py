"""`make binder-check`: what Binder (repo2docker) does, simulated here.

1. A fresh venv from requirements.txt alone (``pip --no-cache-dir``, as
   repo2docker installs), with the Python that runtime.txt names.
2. Every chapter of _toc.yml executed with ``jupyter nbconvert --execute``
   (the per-cell timeout of _config.yml), into a temporary folder.
3. ``jupyter labextension list`` shows @jupyter-widgets/jupyterlab-manager
   enabled and OK, or the live sliders would not render in JupyterLab.

The venv is removed at the end (KEEP=1 keeps it).
Standard library only:  python3 benchmarks/binder_sim.py
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, cell_timeout, env, toc_chapters  # noqa: E402 - after the path is set

EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def runtime_python() -> str:
    """The interpreter runtime.txt asks for, or exit saying what to install."""
    version = re.fullmatch(r"python-(\d+\.\d+)", (ROOT / "runtime.txt").read_text().strip())[1]
    for candidate in filter(None, (shutil.which(f"python{version}"), shutil.which("python3"))):
        out = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
        if out.split()[-1].startswith(version + "."):
            return candidate
    sys.exit(f"binder-check: runtime.txt asks for Python {version}, which Binder installs; neither "
             f"python{version} nor python3 is {version} here. Install it (apt-get install python{version}-venv).")


def main() -> int:
    python, t_all, problems = runtime_python(), time.perf_counter(), []
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnbook-binder-"))
    venv, run_env = tmp / "venv", env()
    run_env.pop("PYTHONPATH", None)
    try:
        print(f"1. fresh venv ({python}) from requirements.txt (pip --no-cache-dir) in {venv}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        t0 = time.perf_counter()
        proc = subprocess.run([venv / "bin" / "pip", "install", "--no-cache-dir", "-q", "-r", "requirements.txt"],
                              cwd=ROOT, env=run_env, capture_output=True, text=True)
        if proc.returncode:
            print(proc.stdout[-3000:], proc.stderr[-3000:], "\nFAILED: pip could not install requirements.txt")
            return 1
        print(f"   installed in {(time.perf_counter() - t0) / 60:.1f} min")
        print("2. every chapter with jupyter nbconvert --execute", flush=True)
        for chapter in toc_chapters():
            t0 = time.perf_counter()
            proc = subprocess.run([venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                                   "--output-dir", tmp / "executed", f"--ExecutePreprocessor.timeout={cell_timeout()}",
                                   chapter], cwd=ROOT, env=run_env, capture_output=True, text=True)
            print(f"   {'FAILED' if proc.returncode else 'ok    '} {chapter.name}: {time.perf_counter() - t0:.1f} s")
            if proc.returncode:
                problems.append(f"{chapter.name} did not execute:\n{proc.stderr[-2500:]}")
        print(f"3. jupyter labextension list shows {EXTENSION} enabled and OK")
        proc = subprocess.run([venv / "bin" / "jupyter", "labextension", "list"], env=run_env, capture_output=True,
                              text=True)
        listing = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # no colour codes
        line = next((x.strip() for x in listing.splitlines() if EXTENSION in x), "")
        print(f"   {'ok    ' if 'enabled' in line and ' OK' in line else 'FAILED'} {line or EXTENSION + ' not listed'}")
        if not ("enabled" in line and " OK" in line):
            problems.append(f"{EXTENSION} is not enabled and OK:\n{listing}")
    finally:
        if os.environ.get("KEEP") == "1":
            print(f"(KEEP=1: the venv is in {venv})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nbinder-check took {(time.perf_counter() - t_all) / 60:.1f} min: "
          + ("passed." if not problems else f"FAILED ({len(problems)}):\n- " + "\n- ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
