"""`make bench`: measure the book against its speed and weight targets.

Everything runs in a copy of the working tree taken at the start (your _build
is never touched), each build from an empty _build (empty execution and JAX
caches, like a fresh clone). The report, the targets table first, goes to
stdout and _build/bench.md; every run to _build/bench.json. Never asserts.

    python -m benchmarks [--only SECTION,...] [--repeat 3] [--moves 40]
    python -m benchmarks --report        # re-render _build/bench.json

  build      cold `make book`, then a no-change rebuild
  browser    page weight and static slider switch, headless Chromium (browser.py)
  execution  each chapter's Run All: kernel start, imports, JAX compile, rest
  chapters   each chapter in-process: live slider updates, its speed comparisons
  stages     the stages of `make test` one after another, as it runs them
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys

from benchmarks import execution
from benchmarks.common import ROOT, TEST_STAGES, log, make, repo_copy, run_json, table, toc_chapters

SECTIONS = ("build", "browser", "execution", "chapters", "stages")  # browser uses build's book
# The targets (README "Performance"): reported against, never asserted.
LIVE_P50_MS, LIVE_JAX_P50_MS = 50.0, 5.0
STATIC_SWITCH_P95_MS = 16.0  # one frame at 60 Hz
CHAPTER_COLD_S, TRANSFER_CHAPTER_COLD_S = 20.0, 60.0
PAGE_MB = 3.0
COLD_BOOK_S, REBUILD_S, MAKE_TEST_S = 300.0, 20.0, 1200.0


def guarded(fn, *args) -> dict:
    try:
        return fn(*args)
    except Exception as exc:  # one broken part must not hide the others
        return {"error": f"{type(exc).__name__}: {exc}"[-1500:]}


def build(copy, flags, repeat: int) -> dict:
    runs = {"cold": [], "no_change": []}
    for r in range(repeat):
        shutil.rmtree(copy / "_build", ignore_errors=True)
        for kind, results in runs.items():
            log(f"  make book, {kind} ({r + 1}/{repeat})")
            results.append(make(copy, flags, "book", f"book-{kind}-{r + 1}"))
    return runs


def stages(copy, flags) -> dict:
    shutil.rmtree(copy / "_build", ignore_errors=True)
    return {stage: log(f"  make {stage}") or make(copy, flags, stage, f"stage-{stage}") for stage in TEST_STAGES}


def browser(copy, flags, moves: int) -> dict:
    if not (copy / "_build" / "html" / "index.html").exists():
        build(copy, flags, 1)
    return run_json("browser", copy / "_build" / "html", moves, root=copy)


def run(only: list[str], repeat: int, moves: int, save) -> dict:
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    r = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "-uno")),
         "cores": len(os.sched_getaffinity(0)), "load": [os.getloadavg()], "repeat": repeat, "moves": moves}
    with repo_copy() as (copy, flags):
        chapters = [p for p in toc_chapters(copy) if "chapters" in p.parts]
        sections = {
            "build": lambda: build(copy, flags, repeat),
            "browser": lambda: browser(copy, flags, moves),
            "stages": lambda: stages(copy, flags),
            "execution": lambda: execution.measure(chapters, repeat, copy),
            "chapters": lambda: {str(p.relative_to(copy)): log(f"  {p.name}") or guarded(
                lambda: run_json("chapters", p, moves, root=copy)) for p in chapters},
        }
        for name in only:
            log(f"[{name}]")
            r[name] = guarded(sections[name])
            r["load"][1:] = [os.getloadavg()]  # at the start, and now
            save(r)  # a stopped run keeps what it measured
    return r


def verdict(fraction: float) -> str:
    return "met" if fraction <= 1 else "MISSED"


def ok(section) -> bool:
    return isinstance(section, dict) and "error" not in section


def p50_p95(s: dict) -> str:
    return f"{s['p50']:.1f} / {s['p95']:.1f}"


# Each section's report: (rows of the targets table, lines of details).

def report_build(b: dict):
    med = {k: sorted(x["seconds"] for x in v)[len(v) // 2] for k, v in b.items()}
    return ([["cold `make book` < 5 min", f"{med['cold']:.0f} s", verdict(med["cold"] / COLD_BOOK_S)],
             ["no-change rebuild < 20 s", f"{med['no_change']:.1f} s", verdict(med["no_change"] / REBUILD_S)]],
            [f"- FAILED make book ({k}): {x['log']}" for k, v in b.items() for x in v if x["status"]])


def report_stages(st: dict):
    total, failed = sum(x["seconds"] for x in st.values()), [k for k, x in st.items() if x["status"]]
    rows = [[k, f"{x['seconds']:.0f}", f"FAILED {'; '.join(x['failed'][:5])} ({x['log']})" if x["status"] else "pass"]
            for k, x in st.items()]
    return ([["`make test` < 20 min (venv installed)", f"{total / 60:.1f} min"
              + (f", FAILED: {', '.join(failed)}" if failed else ""), verdict(total / MAKE_TEST_S)]],
            ["", "### `make test` stages, from an empty _build", "", table(["stage", "s", "result"], rows)])


def report_execution(ex: dict):
    rows, errors, worst = [], [], (0.0, "")  # worst: (fraction of the chapter's limit, text)
    for name, d in ex.items():
        errors += [f"- FAILED Run All of {name}: {e}" for e in d["errors"]]
        if cold := d["cold"]:
            limit = TRANSFER_CHAPTER_COLD_S if "transfer" in name else CHAPTER_COLD_S
            worst = max(worst, (cold["total"] / limit, f"{cold['total']:.1f} s ({name})"))
            warm = f"{d['warm']['total']:.1f}" if d["warm"] else "-"
            rows.append([name, *(f"{cold[k]:.1f}" for k in execution.KEYS), warm])
    return ([["cold Run All of a chapter < 20 s (transfer learning 60 s)", f"worst {worst[1]}", verdict(worst[0])]],
            errors + ["", "### Chapter Run All (nbclient, s; cold = empty JAX cache, warm = filled)", "", table(
                ["chapter", "kernel start", "imports", "JAX compile", "rest", "total cold", "total warm"], rows)])


def report_live(ch: dict):
    live = [f | {"chapter": c} for c, d in ch.items() if ok(d) for f in d["figures"]]
    good = [f for f in live if "error" not in f]
    targets, details = [], [f"- FAILED {c}: {d['error']}" for c, d in ch.items() if not ok(d)]
    details += [f"- not measured: {f['chapter']} {f['figure']} {f.get('slider', '')}: {f['error']}"
                for f in live if "error" in f]
    if good:
        total, jax = (max(good, key=lambda f: f[k]["p50"]) for k in ("total_ms", "jax_ms"))
        targets.append(["live slider update p50 < 50 ms, its JAX part < 5 ms",
                        f"worst {total['total_ms']['p50']:.1f} ms ({total['figure']}: {total['slider']}), "
                        f"JAX {jax['jax_ms']['p50']:.1f} ms ({jax['figure']}: {jax['slider']})",
                        verdict(max(total["total_ms"]["p50"] / LIVE_P50_MS, jax["jax_ms"]["p50"] / LIVE_JAX_P50_MS))])
        details += ["", "### Live slider updates (`LiveFigure.update`)", "", table(
            ["figure", "slider", "JAX p50 / p95", "whole update p50 / p95", "first move", "positions"],
            [[f["figure"], f["slider"], p50_p95(f["jax_ms"]), p50_p95(f["total_ms"]), f"{f['first_move_ms']:.0f}",
              f["positions"]] for f in good])]
    return targets, details


def report_speed(ch: dict):
    speed = {k: v for d in ch.values() if ok(d) for k, v in d["speed"].items()}
    targets, details = [], []
    if s := speed.get("sweep"):
        targets.append(["chapter 4: one vectorised sweep beats a Python loop over the grid",
                        f"{s['vectorised_ms']:.2f} ms vs {s['python_loop_ms']:.0f} ms, {s['speedup']:.0f}x",
                        "holds" if s["speedup"] > 1 and s["same_results"] else "FAILS"])
    if g := speed.get("gradient_modes"):  # {"<mode> n=<n>": ms}
        largest = max(int(k.rsplit("n=", 1)[1]) for k in g)
        at = {k.rsplit(" n=", 1)[0]: v for k, v in g.items() if k.endswith(f"n={largest}")}
        reverse = next(v for k, v in at.items() if k.startswith("reverse"))
        targets.append([f"chapter 5: reverse mode is the cheapest gradient at n = {largest}",
                        ", ".join(f"{k} {v:.2f} ms" for k, v in at.items()),
                        "holds" if reverse == min(at.values()) else "FAILS"])
        details += ["", "### Chapter 5: one gradient (as the chapter timed it)", "",
                    table(["mode, size", "ms"], [[k, f"{v:.3f}"] for k, v in g.items()])]
    return targets, details


def report_browser(br: dict):
    targets, sliders = [], br["static_sliders"]
    if sliders:
        worst = max(sliders, key=lambda s: s["switch_ms"]["p95"])
        targets.append(["static slider switch in Chromium p95 < 16 ms", f"worst {worst['switch_ms']['p95']:.1f} ms "
                        f"({worst['figure']}, input {worst['input']})",
                        verdict(worst["switch_ms"]["p95"] / STATIC_SWITCH_P95_MS)])
    name, heaviest = max(br["pages"].items(), key=lambda kv: kv[1]["loaded_bytes"])
    targets.append(["page weight < 3 MB (everything a page loads)",
                    f"heaviest {heaviest['loaded_bytes'] / 1e6:.2f} MB ({name})",
                    verdict(heaviest["loaded_bytes"] / 1e6 / PAGE_MB)])
    pages = [[k, f"{x['loaded_bytes'] / 1e6:.2f}", x["requests"], x["blocked_external"]]
             for k, x in br["pages"].items()]
    switches = [[f"{s['page']}: {s['figure']}", s["input"], p50_p95(s["switch_ms"]),
                 f"{s['distinct_frames']}/{s['positions']}"] for s in sliders]
    return targets, ["", "### Pages in headless Chromium", "", table(["page", "MB", "requests", "blocked"], pages),
                     "", table(["static slider", "input", "switch p50 / p95", "frames seen"], switches)]


REPORTS = {"build": [report_build], "stages": [report_stages], "execution": [report_execution],
           "chapters": [report_live, report_speed], "browser": [report_browser]}


def render(r: dict) -> str:
    loads = " / ".join(", ".join(f"{x:.1f}" for x in load) for load in r["load"])
    targets, details = [], []
    for name, reports in REPORTS.items():
        if name in r and not ok(r[name]):
            details.append(f"- section {name} failed: {r[name]['error']}")
        for report in reports if ok(r.get(name)) else []:
            t, d = report(r[name])
            targets, details = targets + t, details + d
    return "\n".join([
        f"## make bench: {r['date']}, commit {r['commit']}{' + uncommitted edits' if r['dirty'] else ''}", "",
        f"{r['cores']} cores; load average (1, 5, 15 min) at start / end: {loads}. Medians of {r['repeat']} "
        f"runs; sliders: {r['moves']} moves each; times in ms unless marked.", "",
        table(["target", "measured", "verdict"], targets), *details]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", 3)))
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--report", action="store_true", help="only re-render _build/bench.json")
    args = parser.parse_args()
    if unknown := set(args.only.split(",")) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    out = ROOT / "_build"
    if args.report:
        results = json.loads((out / "bench.json").read_text())
    else:
        out.mkdir(exist_ok=True)
        save = lambda results: (out / "bench.json").write_text(json.dumps(results, indent=1))
        only = [s for s in SECTIONS if s in args.only.split(",")]
        results = run(only, max(1, args.repeat), max(30, args.moves), save)
    (out / "bench.md").write_text(report := render(results))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
