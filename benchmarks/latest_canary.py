"""`make test-latest`: the canary for newer dependencies.

Builds .venv-latest (never touching .venv) with the newest releases of the
book's direct dependencies (jupyter-book below 2: 2.x is another tool), runs
the stages of ``make test`` with it in a copy of the working tree, and prints
which packages differ from requirements.txt and which tests failed (logs in
.venv-latest/). Exit status 1 on a failure. Its result depends on what PyPI
serves that day, so it is not part of ``make test``.

Standard library only:  python3 benchmarks/latest_canary.py
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.build import TEST_STAGES  # noqa: E402 - after the path is set
from benchmarks.common import ROOT, env, failed_tests, repo_copy  # noqa: E402

VENV = ROOT / ".venv-latest"
# The direct dependencies, as listed at the top of requirements.txt.
DIRECT = ["jupyter-book<2", "jax", "jaxlib", "numpy", "matplotlib", "ipywidgets", "ipykernel", "scikit-learn",
          "sphinx-exercise", "nbval", "pytest", "beautifulsoup4", "jupyterlab", "playwright", "ruff"]


def pins(text: str) -> dict[str, str]:
    return {re.sub(r"[-_.]+", "-", m[1]).lower(): m[2]
            for m in re.finditer(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", text, re.M)}


def main() -> int:
    t_all = time.perf_counter()
    print(f"1. {VENV.name}: a fresh venv with the newest {', '.join(DIRECT)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    for args in (DIRECT, ["-e", str(ROOT)]):
        proc = subprocess.run([VENV / "bin" / "pip", "install", "-q", "-U", *args], env=env(), capture_output=True,
                              text=True)
        if proc.returncode:
            print(proc.stdout[-3000:], proc.stderr[-3000:], "\npip could not install the newest releases.")
            return 1
    frozen = subprocess.run([VENV / "bin" / "pip", "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    (VENV / "freeze.txt").write_text(frozen)
    old, new = pins((ROOT / "requirements.txt").read_text()), pins(frozen)

    print("2. the stages of make test with it, in a copy of the working tree", flush=True)
    failed = {}
    with repo_copy(VENV) as (copy, flags):
        for stage in TEST_STAGES:
            t0 = time.perf_counter()
            proc = subprocess.run(["make", "--no-print-directory", *flags, stage], cwd=copy, capture_output=True,
                                  text=True, env=env(PYTHONPATH=copy))
            (VENV / f"{stage}.log").write_text(proc.stdout + proc.stderr)
            print(f"   {'FAILED' if proc.returncode else 'ok    '} make {stage} ({time.perf_counter() - t0:.0f} s)")
            if proc.returncode:
                failed[stage] = failed_tests(proc.stdout + proc.stderr) or proc.stderr.splitlines()[-5:]

    print("\nVersions that differ from requirements.txt:")
    for k in sorted(old.keys() | new.keys()):
        if old.get(k) != new.get(k):
            print(f"  {k}: {old.get(k, '(not pinned)')} -> {new.get(k, '(not installed)')}")
    for stage, lines in failed.items():
        print(f"FAILED make {stage}:", *(f"\n  {line}" for line in lines))
    print(f"\n{'Failures: logs in ' + VENV.name + '/<stage>.log' if failed else 'All stages passed.'} "
          f"test-latest took {(time.perf_counter() - t_all) / 60:.1f} min.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
