"""Execute chapters repeatedly and report stalls (jupyter/nbclient#312).

Usage: .venv/bin/python nbtests/stall_loop.py chapters/00_how_to_use.ipynb 20

A stall shows as a run that takes far longer than the others (the widget
cell's reply only arrives when the per-cell timeout expires). Each run is
executed like `make outputs` does it: nbclient, a fresh kernel, the per-cell
timeout of _config.yml. Prints each run's wall time and the count of runs
slower than twice the median.
"""

import os
import pathlib
import statistics
import sys
import time

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.common import cell_timeout  # noqa: E402 - after the path is set

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def main(path: str, runs: int) -> int:
    times, timeout = [], cell_timeout()
    for i in range(runs):
        nb = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(pathlib.Path(path).parent)}}).execute()
        times.append(time.perf_counter() - started)
        print(f"run {i + 1:2d}: {times[-1]:.2f} s", flush=True)
    median = statistics.median(times)
    stalls = sum(t > 2 * median for t in times)
    print(f"{path}: {runs} runs, median {median:.2f} s, min {min(times):.2f} s, max {max(times):.2f} s, "
          f"runs slower than 2x median (stalls): {stalls}")
    return 1 if stalls else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
