"""`make bench`: measure the book's build, execution and slider speed.

Prints one table (Markdown) on stdout and writes everything measured, with
every individual run, to _build/bench.json. Progress goes to stderr. Timings
are measured and reported against the targets, never asserted.

    python -m benchmarks [--only build,nbval,test,execution,live,browser,speed]
                         [--repeat 3] [--moves 40] [--json _build/bench.json]

Sections:
  build      cold `make book` and a no-change rebuild (in a copy of the tree)
  nbval      strict nbval per chapter, cold and warm JAX cache (in a copy)
  test       `make test` from an empty _build, once (in a copy)
  execution  each chapter's execution split: kernel start, imports, JAX compile, rest
  live       every live slider: callback split into JAX and redraw
  browser    page weight and every static slider's frame switch, headless Chromium
  speed      the book's speed comparisons (sweep; reverse/forward/finite differences)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

from benchmarks import browser, build, execution, live_sliders, report, speed
from benchmarks.common import ROOT, log, repo_copy, toc_chapters

SECTIONS = ("build", "nbval", "test", "execution", "live", "browser", "speed")


def machine() -> dict:
    cpu = ""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = None

    def version(pkg):
        from importlib.metadata import PackageNotFoundError, version as v
        try:
            return v(pkg)
        except PackageNotFoundError:
            return None

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "memory_gib": mem,
        "python": platform.python_version(),
        "jax": version("jax"),
        "jupyter_book": version("jupyter-book"),
        "playwright": version("playwright"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", 3)),
                        help="runs per measurement; medians are reported (default 3)")
    parser.add_argument("--moves", type=int, default=40, help="slider moves per slider (at least 30)")
    parser.add_argument("--json", type=pathlib.Path, default=ROOT / "_build" / "bench.json")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    repeat, moves = max(1, args.repeat), max(30, args.moves)
    with repo_copy() as copy:
        # Everything runs in a snapshot of the working tree taken now, so edits
        # made while the bench runs cannot mix into it.
        chapters = [p for p in toc_chapters(copy) if p.is_relative_to(copy / "chapters")]
        results = {"machine": machine(), "repeat": repeat, "moves": moves, "sections": only,
                   "chapters": [str(p.relative_to(copy)) for p in chapters], "seconds": {}}
        log(f"make bench: {', '.join(only)}; {len(chapters)} chapters; {repeat} runs each; "
            f"{results['machine']['cores']} cores; snapshot of the working tree in {copy}")

        def timed(name, fn, *a):
            t0 = time.perf_counter()
            log(f"[{name}]")
            try:
                results[name] = fn(*a)
            except Exception as exc:  # one broken section must not hide the others
                log(f"  {name} failed: {type(exc).__name__}: {exc}")
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            results["seconds"][name] = time.perf_counter() - t0

        if "build" in only:
            timed("build", build.book, copy, repeat)
        if "browser" in only:
            html = copy / "_build" / "html"
            if not (html / "index.html").exists():
                if (ROOT / "_build" / "html" / "index.html").exists():
                    html = ROOT / "_build" / "html"
                else:
                    log("  building the book once (in the copy) for the browser measurements")
                    build.book(copy, 1)
            results["browser_html"] = "a fresh build of the snapshot" if html.is_relative_to(copy) else str(html)
            timed("browser", browser.measure, html, moves, copy)
        if "nbval" in only:
            timed("nbval", build.nbval, copy, chapters, repeat)
        if "test" in only:
            timed("test", build.make_test, copy)
        if "execution" in only:
            timed("execution", execution.measure, chapters, repeat, copy)
        if "live" in only:
            timed("live", live_sliders.measure, chapters, moves, copy)
        if "speed" in only:
            timed("speed", speed.measure, copy)

    results["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(report.render(results))
    print(f"\n(all runs: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}; "
          f"re-print with `python -m benchmarks.report`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
