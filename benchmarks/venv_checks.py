"""Checks that each start from a fresh virtual environment (minutes each, so
not part of `make test`). Standard library only: run with the system python3.

  install  `make check-install`: what Colab does with a chapter. The
           chapters' first cell (nbtests/colab_cell.py) is run in a fresh venv,
           first without the Colab marker (it must install nothing, print
           nothing), then with COLAB_RELEASE_TAG set, installing a copy of
           this checkout (nnbook/ and pyproject.toml, not editable: only the
           dependencies pyproject.toml declares) where Colab installs
           git+<repository URL>; then, outside the source tree, every nnbook
           module is imported.
  binder   `make binder-check`: what Binder's repo2docker does: a venv from
           requirements.txt alone (pip --no-cache-dir) with the Python of
           runtime.txt; every chapter executed with nbconvert (the per-cell
           timeout of _config.yml); the ipywidgets JupyterLab extension
           enabled and OK, or live sliders would not render.
  latest   `make test-latest`: .venv-latest with the newest releases of the
           direct dependencies (jupyter-book below 2), the stages of
           `make test` with it in a copy of the tree (failures' logs in
           _build/bench-logs/), and which versions differ from
           requirements.txt. Depends on what PyPI serves that day.

    python3 benchmarks/venv_checks.py {install|binder|latest}    (KEEP=1 keeps a temporary venv)
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
from benchmarks.common import ROOT, TEST_STAGES, cell_timeout, env, make, repo_copy, toc_chapters  # noqa: E402

sys.path.insert(0, str(ROOT / "nbtests"))
import colab_cell  # noqa: E402  (the chapters' first cell; standard library only)

EXTENSION = "@jupyter-widgets/jupyterlab-manager"
# The direct dependencies, as listed at the top of requirements.txt.
DIRECT = ["jupyter-book<2", "jax", "jaxlib", "numpy", "matplotlib", "ipywidgets", "ipykernel", "scikit-learn",
          "sphinx-exercise", "nbval", "pytest", "pytest-xdist", "beautifulsoup4", "jupyterlab", "jupyterlab-myst",
          "playwright", "ruff"]
IMPORT_ALL = """
import importlib, pkgutil, nnbook
assert "site-packages" in nnbook.__file__, f"imported {nnbook.__file__}, not the installed package"
names = [m.name for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")]
for name in names:
    importlib.import_module(name)
print(f"   imported nnbook and its {len(names)} modules")
"""


def step(label: str, cmd: list, **kw) -> subprocess.CompletedProcess:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    print(f"   {'FAILED' if proc.returncode else 'ok    '} {label} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return proc


def runtime_python() -> str:
    """The interpreter runtime.txt asks for (Binder installs it), or exit saying what to install."""
    version = re.fullmatch(r"python-(\d+\.\d+)", (ROOT / "runtime.txt").read_text().strip())[1]
    for candidate in filter(None, (shutil.which(f"python{version}"), shutil.which("python3"))):
        found = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout.split()[-1]
        if found.startswith(version + "."):
            return candidate
    sys.exit(f"runtime.txt asks for Python {version}; install it (apt-get install python{version}-venv).")


def install(tmp: pathlib.Path, run_env: dict) -> list[str]:
    src = tmp / "src"  # what pip builds, copied so no build files land in the tree
    shutil.copytree(ROOT / "nnbook", src / "nnbook", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)
    subprocess.run([sys.executable, "-m", "venv", tmp / "venv"], check=True)
    python, run_env = tmp / "venv" / "bin" / "python", run_env | {"MPLBACKEND": "Agg"}
    run_env.pop("COLAB_RELEASE_TAG", None)
    # Every chapter's first cell (nbtests/colab_cell.py), installing this checkout instead of GitHub.
    cell = colab_cell.cell_source(target=str(src))
    off = subprocess.run([python, "-c", cell + "\nimport nnbook"], cwd=tmp, env=run_env, capture_output=True, text=True)
    quiet = off.returncode != 0 and "No module named 'nnbook'" in off.stderr and not off.stdout
    print(f"   {'ok    ' if quiet else 'FAILED'} Colab cell off Colab: installs nothing, prints nothing", flush=True)
    if not quiet:
        return [f"the Colab cell acted outside Colab:\n{off.stdout}{off.stderr[-2000:]}"]
    on_colab = run_env | {"COLAB_RELEASE_TAG": "simulated"}
    for label, cmd, cmd_env in [("Colab cell on Colab: pip install", ["-c", cell], on_colab),
                                ("import nnbook.*", ["-c", IMPORT_ALL], run_env)]:
        proc = step(label, [python, *cmd], cwd=tmp, env=cmd_env)
        print(proc.stdout, end="")
        if proc.returncode:
            return [f"{label}: {proc.stderr[-3000:]}\nDeclare what nnbook imports in pyproject.toml dependencies."]
    return []


def binder(tmp: pathlib.Path, run_env: dict) -> list[str]:
    subprocess.run([runtime_python(), "-m", "venv", tmp / "venv"], check=True)
    bin_ = tmp / "venv" / "bin"
    proc = step("pip install --no-cache-dir -r requirements.txt",
                [bin_ / "pip", "install", "--no-cache-dir", "-q", "-r", "requirements.txt"], cwd=ROOT, env=run_env)
    if proc.returncode:
        return [f"pip could not install requirements.txt:\n{proc.stderr[-3000:]}"]
    problems = []
    for chapter in toc_chapters():
        proc = step(chapter.name, [bin_ / "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir",
                                   tmp / "executed", f"--ExecutePreprocessor.timeout={cell_timeout()}", chapter],
                    cwd=ROOT, env=run_env)
        problems += [f"{chapter.name} did not execute:\n{proc.stderr[-2500:]}"] if proc.returncode else []
    proc = subprocess.run([bin_ / "jupyter", "labextension", "list"], env=run_env, capture_output=True, text=True)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # without colour codes
    line = next((x.strip() for x in listing.splitlines() if EXTENSION in x), f"{EXTENSION} not listed")
    print(f"   {line}")
    return problems + ([] if "enabled" in line and " OK" in line else [f"{EXTENSION} not enabled and OK:\n{listing}"])


def latest(tmp: pathlib.Path, run_env: dict) -> list[str]:
    venv = ROOT / ".venv-latest"
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
    for args in (DIRECT, ["-e", ROOT]):
        proc = step(f"pip install -U {' '.join(map(str, args))}", [venv / "bin" / "pip", "install", "-q", "-U", *args],
                    env=run_env)
        if proc.returncode:
            return [f"pip could not install the newest releases:\n{proc.stderr[-3000:]}"]
    frozen = subprocess.run([venv / "bin" / "pip", "freeze", "--exclude-editable"], capture_output=True, text=True,
                            check=True).stdout
    (venv / "freeze.txt").write_text(frozen)
    old, new = ({re.sub(r"[-_.]+", "-", m[1]).lower(): m[2] for m in re.finditer(r"^([\w.\-]+)==(\S+)", text, re.M)}
                for text in ((ROOT / "requirements.txt").read_text(), frozen))
    print("   versions that differ from requirements.txt:")
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) != new.get(name):
            print(f"     {name}: {old.get(name, '-')} -> {new.get(name, '-')}")
    problems = []
    with repo_copy(venv) as (copy, flags):
        for stage in TEST_STAGES:
            result = make(copy, flags, stage, f"latest-{stage}")
            print(f"   {'FAILED' if result['status'] else 'ok    '} make {stage} ({result['seconds']:.0f} s)")
            if result["status"]:
                problems.append(f"make {stage} ({result['log']}): " + "; ".join(result["failed"]))
    return problems


def main() -> int:
    checks = {"install": install, "binder": binder, "latest": latest}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit(f"usage: python3 benchmarks/venv_checks.py {{{'|'.join(checks)}}}")
    t0, tmp, run_env = time.perf_counter(), pathlib.Path(tempfile.mkdtemp(prefix="nnbook-venv-")), env()
    run_env.pop("PYTHONPATH", None)
    try:
        problems = checks[sys.argv[1]](tmp, run_env)
    finally:
        if os.environ.get("KEEP") == "1":
            print(f"(KEEP=1: kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{sys.argv[1]} check took {(time.perf_counter() - t0) / 60:.1f} min: "
          + ("passed." if not problems else f"FAILED ({len(problems)}):\n- " + "\n- ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
