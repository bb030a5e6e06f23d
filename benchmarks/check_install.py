"""`make check-install`: does `pip install git+<repository>` (the README's
Colab instructions) give a working nnbook?

In a fresh venv, ``pip install .`` of the repository's package (nnbook/ and
pyproject.toml, not editable: only the dependencies pyproject.toml declares,
nothing from requirements.txt), then, from outside the source tree, import
every nnbook module. Exit status 1 with the failing import if one fails.

Standard library only:  python3 benchmarks/check_install.py
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.common import ROOT, env  # noqa: E402 - after the path is set

IMPORT_ALL = """
import importlib, pathlib, pkgutil, nnbook
assert "site-packages" in nnbook.__file__, f"imported {nnbook.__file__}, not the installed package"
names = [m.name for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")]
for name in names:
    importlib.import_module(name)
print(f"imported nnbook and its {len(names)} modules from {pathlib.Path(nnbook.__file__).parent}")
"""


def main() -> int:
    t0, tmp = time.perf_counter(), pathlib.Path(tempfile.mkdtemp(prefix="nnbook-install-"))
    run_env = env(MPLBACKEND="Agg")
    run_env.pop("PYTHONPATH", None)
    try:
        # What pip builds from the repository, copied so no build files land in the tree.
        shutil.copytree(ROOT / "nnbook", tmp / "src" / "nnbook", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", tmp / "src")
        subprocess.run([sys.executable, "-m", "venv", tmp / "venv"], check=True)
        python = tmp / "venv" / "bin" / "python"
        steps = [("pip install .", [python, "-m", "pip", "install", "-q", tmp / "src"]),
                 ("import every nnbook module", [python, "-c", IMPORT_ALL])]
        for label, cmd in steps:
            proc = subprocess.run(cmd, cwd=tmp, env=run_env, capture_output=True, text=True)
            print(proc.stdout.strip())
            if proc.returncode:
                print(proc.stderr[-3000:], f"\ncheck-install FAILED at {label}: declare what nnbook imports in "
                      "pyproject.toml [project] dependencies.")
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"check-install passed in {time.perf_counter() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
