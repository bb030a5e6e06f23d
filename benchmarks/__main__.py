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
  stages     the stages of `make test` as it runs them (side by side where it
             does), each pytest stage's time split by chapter (JUnit XML): the
             growth table says what one more chapter costs each stage
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import re
import resource
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from benchmarks import execution
from benchmarks.common import ROOT, log, make, repo_copy, run_json, table, test_steps, toc_chapters

SECTIONS = ("build", "browser", "execution", "chapters", "stages")  # browser uses build's book
# The targets (README "Performance"): reported against, never asserted.
LIVE_P50_MS, LIVE_JAX_P50_MS = 16.0, 5.0  # a 60 Hz display; the JAX part within a third
STATIC_SWITCH_P95_MS = 16.0  # one frame at 60 Hz
CHAPTER_COLD_S, TRANSFER_CHAPTER_COLD_S = 20.0, 60.0
LONG_CHAPTERS = ("transfer", "frontiers")  # the chapters allowed TRANSFER_CHAPTER_COLD_S (they train networks)
PAGE_MB = 3.0
COLD_BOOK_S, REBUILD_S, MAKE_TEST_S = 300.0, 20.0, 720.0


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


def chapter_of_test(classname: str, name: str, stems: list[str], root) -> str | None:
    """The chapter a JUnit test case belongs to: one named in its id (a notebook's
    cells, a test parametrized by chapter), else its module's ``CHAPTER`` (or the
    one chapter file the module names); None for a book-wide test."""
    text = f"{classname} {name}"
    if hit := next((stem for stem in stems if stem in text), None):
        return hit
    module = root / (classname.replace(".", "/") + ".py")
    source = module.read_text() if module.is_file() else ""
    named = set(re.findall(r'^CHAPTER = "(\d\d_\w+)\.ipynb"', source, re.M)) or set(
        re.findall(r"\b(\d\d_\w+)\.ipynb\b", source))
    return named.pop() if len(named) == 1 else None


def split_by_chapter(junit, stems: list[str], root) -> dict:
    """Seconds of test time (setup + call + teardown) per chapter, and book-wide."""
    split = dict.fromkeys(stems, 0.0) | {"book-wide": 0.0}
    for case in ET.parse(junit).iter("testcase"):
        chapter = chapter_of_test(case.get("classname", ""), case.get("name", ""), stems, root)
        split[chapter or "book-wide"] += float(case.get("time", 0))
    return split


def stages(copy, flags, chapters) -> dict:
    """`make test`'s stages from an empty _build, as it runs them; a pytest stage
    also writes JUnit XML, split here by chapter."""
    shutil.rmtree(copy / "_build", ignore_errors=True)
    stems = [p.stem for p in chapters]
    junit_dir = copy / "_junit"
    junit_dir.mkdir(exist_ok=True)

    def one(stage: str) -> dict:
        junit = junit_dir / f"{stage}.xml"
        out = make(copy, flags, stage, f"stage-{stage}", PYTEST_ADDOPTS=f"--junitxml={junit}")
        if junit.exists():
            out["by_chapter"] = split_by_chapter(junit, stems, copy)
        return out

    out = {"chapters": stems, "steps": [], "step_cpu_seconds": []}
    for step in test_steps(copy):
        log(f"  make {' & '.join(step)}")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with concurrent.futures.ThreadPoolExecutor(len(step)) as pool:
            results = dict(zip(step, pool.map(one, step)))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["steps"].append(list(step))
        # CPU time of everything the step ran (a loaded machine stretches wall time far more)
        out["step_cpu_seconds"].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out |= results
    return out


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
            "stages": lambda: stages(copy, flags, chapters),
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
    steps = st.get("steps") or [[k] for k in st]  # (a run from before the steps were recorded: one after another)
    stems = st.get("chapters", [])
    walls = [max(st[k]["seconds"] for k in step) for step in steps]
    total, failed = sum(walls), [k for step in steps for k in step if st[k]["status"]]
    cpu = st.get("step_cpu_seconds") or [None] * len(steps)
    rows = [[" & ".join(step), f"{wall:.0f}", f"{c:.0f}" if c is not None else "-", "; ".join(
        f"FAILED {'; '.join(st[k]['failed'][:5])} ({st[k]['log']})" if st[k]["status"] else "pass" for k in step)]
        for step, wall, c in zip(steps, walls, cpu)]
    details = ["", "### `make test` stages, from an empty _build (`a & b`: side by side)", "",
               table(["stage", "wall s", "CPU s (all processes)", "result"], rows)]
    if stems:
        n = len(stems)
        growth = []
        for step in steps:
            for k in step:
                split = st[k].get("by_chapter")
                per = [split[c] for c in stems] if split else []
                growth.append([k, f"{st[k]['seconds']:.0f}", f"{st[k]['seconds'] / n:.1f}",
                               f"{sum(per) / n:.1f}" if per else "-",
                               f"{max(per):.0f} ({stems[per.index(max(per))]})" if per else "-",
                               f"{split['book-wide']:.0f}" if split else "-"])
        details += ["", f"### Growth: what each chapter costs each stage ({n} chapters)", "",
                    "Stage wall time / chapters, and for pytest stages the test time (setup, call, teardown; "
                    "summed over workers) of each chapter's tests: a new chapter adds about the mean to the "
                    "stage's test time, divided by the stage's workers in wall time.", "",
                    table(["stage", "wall s", "wall s / chapter", "mean test s / chapter", "most (chapter)",
                           "book-wide test s"], growth)]
        pytest_stages = [k for step in steps for k in step if st[k].get("by_chapter")]
        details += ["", table(["chapter", *pytest_stages],
                              [[c, *(f"{st[k]['by_chapter'][c]:.1f}" for k in pytest_stages)] for c in stems])]
    return ([[f"`make test` < {MAKE_TEST_S / 60:.0f} min (venv installed, chromium installed)",
              f"{total / 60:.1f} min" + (f", FAILED: {', '.join(failed)}" if failed else ""),
              "no verdict (a stage failed)" if failed else verdict(total / MAKE_TEST_S)]], details)


def report_execution(ex: dict):
    rows, errors, worst = [], [], (0.0, "")  # worst: (fraction of the chapter's limit, text)
    for name, d in ex.items():
        errors += [f"- FAILED Run All of {name}: {e}" for e in d["errors"]]
        if cold := d["cold"]:
            limit = TRANSFER_CHAPTER_COLD_S if any(k in name for k in LONG_CHAPTERS) else CHAPTER_COLD_S
            worst = max(worst, (cold["total"] / limit, f"{cold['total']:.1f} s ({name})"))
            warm = f"{d['warm']['total']:.1f}" if d["warm"] else "-"
            rows.append([name, *(f"{cold[k]:.1f}" for k in execution.KEYS), warm, cold.get("programs", "-")])
    slowest = [[pathlib.Path(name).stem[:2], f"{c['code_cell']}", f"{c['seconds']:.1f}", f"{c['compile']:.1f}",
                c["programs"], f"`{c['head']}`"] for name, d in ex.items() for c in d.get("slowest_cells", [])[:3]]
    return ([["cold Run All of a chapter < 20 s (transfer learning, frontiers 60 s)", f"worst {worst[1]}",
               verdict(worst[0])]],
            errors + ["", "### Chapter Run All (nbclient, s; cold = empty JAX cache, warm = filled)", "", table(
                ["chapter", "kernel start", "imports", "JAX compile", "rest", "total cold", "total warm",
                 "XLA programs compiled (cold)"], rows)]
            + (["", "Where a cold run goes: each chapter's three slowest code cells (first cold run; "
                "`python -m benchmarks.execution CHAPTER` lists eight)", "",
                table(["ch", "code cell", "s", "compile s", "programs", "first line"], slowest)] if slowest else []))


def report_live(ch: dict):
    live = [f | {"chapter": c} for c, d in ch.items() if ok(d) for f in d["figures"]]
    good = [f for f in live if "error" not in f]
    targets, details = [], [f"- FAILED {c}: {d['error']}" for c, d in ch.items() if not ok(d)]
    details += [f"- not measured: {f['chapter']} {f['figure']} {f.get('slider', '')}: {f['error']}"
                for f in live if "error" in f]
    if good:
        total, jax = (max(good, key=lambda f: f[k]["p50"]) for k in ("total_ms", "jax_ms"))
        targets.append([f"live slider update p50 <= {LIVE_P50_MS:.0f} ms, its JAX part <= {LIVE_JAX_P50_MS:.0f} ms "
                        "(every control of every figure)",
                        f"worst p50 / p95 {p50_p95(total['total_ms'])} ms ({total['figure']}: {total['slider']}), "
                        f"JAX {p50_p95(jax['jax_ms'])} ms ({jax['figure']}: {jax['slider']})",
                        verdict(max(total["total_ms"]["p50"] / LIVE_P50_MS, jax["jax_ms"]["p50"] / LIVE_JAX_P50_MS))])
        details += ["", "### Live slider updates (`LiveFigure.update`)", "", table(
            ["figure", "slider", "JAX p50 / p95", "whole update p50 / p95", "first move", "positions"],
            [[f"{pathlib.Path(f['chapter']).stem[:2]}: {f['figure']}", f["slider"], p50_p95(f["jax_ms"]),
              p50_p95(f["total_ms"]), f"{f['first_move_ms']:.0f}",
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
