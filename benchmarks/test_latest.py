"""`make test-latest`: the canary for newer dependencies.

Builds ``.venv-latest`` (never touching ``.venv``) with the newest releases of
the book's direct dependencies (jupyter-book kept below 2: 2.x is another
tool), then runs the test suite with it, exactly as ``make test`` does but in a
throw-away copy of the working tree, so the developer's ``_build`` survives:

    make nbval, make book, make unit, make test-browser

and prints which packages changed version relative to ``requirements.txt``
and which tests failed. Exit status 1 if anything failed. The results depend
on the day (on what PyPI serves), which is why this is not part of
``make test``.

Standard library only: runs with the system python3.

Run:  python3 benchmarks/test_latest.py
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
VENV = ROOT / ".venv-latest"
# The direct dependencies, as listed at the top of requirements.txt.
DIRECT = ["jupyter-book<2", "jax", "jaxlib", "numpy", "matplotlib", "ipywidgets", "ipykernel", "scikit-learn",
          "sphinx-exercise", "nbval", "pytest", "beautifulsoup4", "jupyterlab", "playwright"]
STEPS = ["nbval", "book", "unit", "test-browser"]
IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-*", "_build", "node_modules", "__pycache__",
                                ".pytest_cache", "*.egg-info", ".ipynb_checkpoints", ".jupyter_cache")


def say(*args) -> None:
    print(*args, flush=True)


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            out[norm(m[1])] = m[2]
    return out


def failures(output: str) -> list[str]:
    """Failed and erroring tests from pytest's short summary (or, when -r
    flags leave them out of it, from the failure section headers)."""
    tests = [l.strip() for l in output.splitlines() if re.match(r"^(FAILED|ERROR) ", l)]
    return tests or ["FAILED " + m[1] for m in re.finditer(r"^_+ (test\S*) _+$", output, re.M)]


def main() -> int:
    python = os.environ.get("PYTHON", "python3")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    for k in ("MAKEFLAGS", "MAKELEVEL", "JAX_COMPILATION_CACHE_DIR", "VIRTUAL_ENV"):
        env.pop(k, None)
    t_all = time.perf_counter()

    say(f"1. {VENV.name}: fresh venv with the newest {', '.join(DIRECT)}")
    subprocess.run([python, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--upgrade"]
    for args in (DIRECT, ["-e", str(ROOT)]):
        proc = subprocess.run(pip + args, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode:
            say(proc.stdout[-3000:], proc.stderr[-3000:])
            say("test-latest: pip could not install the newest releases (see above).")
            return 1
    (VENV / ".installed").touch()
    frozen = subprocess.run([str(VENV / "bin" / "pip"), "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    old, new = pins((ROOT / "requirements.txt").read_text()), pins(frozen)
    direct = {norm(re.split(r"[<>=]", d)[0]) for d in DIRECT}
    changed = sorted((k, old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k])
    added = sorted((k, new[k]) for k in new.keys() - old.keys())
    removed = sorted((k, old[k]) for k in old.keys() - new.keys())
    (VENV / "freeze.txt").write_text(frozen)

    say("2. the test suite with it, in a copy of the working tree (make nbval, book, unit, test-browser)")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnbook-latest-"))
    copy = tmp / "book"
    results = {}
    try:
        shutil.copytree(ROOT, copy, ignore=IGNORE, symlinks=True)
        (copy / ".venv").symlink_to(VENV)
        flags = ["-o", ".venv/.installed"]
        if (ROOT / "node_modules").is_dir():
            (copy / "node_modules").symlink_to(ROOT / "node_modules")
            flags += ["-o", "node_modules/.package-lock.json"]
        env["PYTHONPATH"] = str(copy)
        for step in STEPS:
            t0 = time.perf_counter()
            proc = subprocess.run(["make", "--no-print-directory", *flags, step], cwd=copy, env=env,
                                  capture_output=True, text=True)
            out = proc.stdout + proc.stderr
            (VENV / f"{step}.log").write_text(out)
            results[step] = (proc.returncode, time.perf_counter() - t0, failures(out), out)
            say(f"   {'ok    ' if proc.returncode == 0 else 'FAILED'} make {step} ({results[step][1]:.0f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    say("")
    say(f"Versions that differ from requirements.txt ({len(changed)} changed, {len(added)} new, "
        f"{len(removed)} gone; * = direct dependency):")
    for k, a, b in changed:
        say(f"  {'*' if k in direct else ' '} {k}: {a} -> {b}")
    for k, b in added:
        say(f"  {'*' if k in direct else ' '} {k}: (not pinned) -> {b}")
    for k, a in removed:
        say(f"    {k}: {a} -> (not installed)")
    if not (changed or added or removed):
        say("  none: requirements.txt already pins the newest releases")
    failed_steps = [s for s, r in results.items() if r[0] != 0]
    say("")
    if failed_steps:
        say(f"Failed: {', '.join('make ' + s for s in failed_steps)}")
        for step in failed_steps:
            status, _, tests, out = results[step]
            if tests:
                for t in tests:
                    say(f"  {step}: {t}")
            else:
                tail = [l for l in out.splitlines() if re.search(r"WARNING|ERROR|Error|error:", l)][-10:]
                say(f"  {step} (exit {status}); last warnings/errors:")
                for l in tail or out.splitlines()[-10:]:
                    say(f"    {l}")
        say(f"Full logs: {VENV.name}/<step>.log; versions: {VENV.name}/freeze.txt")
    else:
        say("All tests passed with the newest releases.")
    say(f"test-latest took {(time.perf_counter() - t_all) / 60:.1f} min.")
    return 1 if failed_steps else 0


if __name__ == "__main__":
    sys.exit(main())
