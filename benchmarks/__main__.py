"""`make bench`: measure the book against its speed and weight targets.

Everything runs in a copy of the working tree taken at the start (it never
touches your _build). The report (Markdown: the targets table first, then
the details) goes to stdout and _build/bench.md, every run to _build/bench.json.
Timings are reported against the targets, never asserted.

    python -m benchmarks [--only SECTION,...] [--repeat 3] [--moves 40]
    python -m benchmarks --report   # re-render _build/bench.json

  build      cold `make book` and a no-change rebuild
  browser    page weight and static slider switch in headless Chromium
  stages     the stages of `make test` (lint, nbval, book, unit, test-browser)
  execution  each chapter's Run All split: kernel start, imports, JAX compile, rest
  chapters   each chapter in-process: live slider updates, the in-book speed comparisons
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

from benchmarks import build, execution
from benchmarks.common import ROOT, log, repo_copy, run_json, table, toc_chapters

SECTIONS = ("build", "browser", "stages", "execution", "chapters")
# The targets (README "Performance"): reported against, never asserted.
LIVE_P50_MS, LIVE_JAX_P50_MS = 50.0, 5.0
STATIC_SWITCH_P95_MS = 16.0  # one frame at 60 Hz
CHAPTER_COLD_S, TRANSFER_CHAPTER_COLD_S = 20.0, 60.0
PAGE_BYTES = 3e6
COLD_BOOK_S, REBUILD_S, MAKE_TEST_S = 300.0, 20.0, 1200.0


def machine() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "-uno")),
            "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "load_start": os.getloadavg()}


def browser_section(copy, flags, moves: int) -> dict:
    if not (copy / "_build" / "html" / "index.html").exists():
        log("  building the book once for the browser")
        build.book(copy, flags, 1)
    return run_json("browser", copy / "_build" / "html", moves, root=copy)


def run(only: list[str], repeat: int, moves: int) -> dict:
    r = {"machine": machine(), "repeat": repeat, "moves": moves}
    with repo_copy() as (copy, flags):
        chapters = [p for p in toc_chapters(copy) if "chapters" in p.parts]
        sections = {
            "build": lambda: build.book(copy, flags, repeat),
            "browser": lambda: browser_section(copy, flags, moves),
            "stages": lambda: build.stages(copy, flags),
            "execution": lambda: execution.measure(chapters, repeat, copy),
            "chapters": lambda: {str(p.relative_to(copy)): run_json("chapters", p, moves, root=copy) for p in chapters},
        }
        for name in only:
            log(f"[{name}]")
            t0 = time.perf_counter()
            try:
                r[name] = sections[name]()
            except Exception as exc:  # one broken section must not hide the others
                r[name] = {"error": f"{type(exc).__name__}: {exc}"[-1500:]}
            log(f"  {name}: {time.perf_counter() - t0:.0f} s")
    r["machine"]["load_end"] = os.getloadavg()
    return r


def verdict(value, limit) -> str:
    return "-" if value is None else "met" if value <= limit else "MISSED"


def ok(section) -> bool:
    return isinstance(section, dict) and "error" not in section


def render(r: dict) -> str:
    m = r["machine"]
    load = "; ".join(f"{k.split('_')[1]} {', '.join(f'{x:.2f}' for x in m[k])}" for k in ("load_start", "load_end")
                     if m.get(k))
    out = [f"## make bench: {m['date']}, commit {m['commit']}{' + uncommitted edits' if m['dirty'] else ''}", "",
           f"{m['cores']} cores, Python {m['python']}; load average (1/5/15 min) at {load}. "
           f"Medians of {r['repeat']} runs; sliders: {r['moves']} moves each.", ""]
    targets, details = [], []
    b, st, ex, ch, br = (r.get(k) for k in SECTIONS)
    if ok(b):
        med = {k: sorted(x["seconds"] for x in v)[len(v) // 2] for k, v in b.items()}
        targets += [["cold `make book` < 5 min", f"{med['cold']:.0f} s", verdict(med["cold"], COLD_BOOK_S)],
                    ["no-change rebuild < 20 s", f"{med['no_change']:.1f} s", verdict(med["no_change"], REBUILD_S)]]
        details += [f"- FAILED {k} build: see {x['log']}" for k, v in b.items() for x in v if x["status"]]
    if ok(st):
        total = sum(x["seconds"] for x in st.values())
        failed = [k for k, x in st.items() if x["status"]]
        targets.append(["`make test` < 20 min (venv installed)", f"{total / 60:.1f} min"
                        + (f" ({', '.join(failed)} failed)" if failed else ""), verdict(total, MAKE_TEST_S)])
        details += ["", "### `make test` stages (from an empty _build)", "",
                    table(["stage", "time", "result"], [[f"make {k}", f"{x['seconds']:.0f} s", "FAILED: "
                          + "; ".join(x["failed"][:5]) + f" (log {x['log']})" if x["status"] else "pass"]
                          for k, x in st.items()])]
    if ok(ex):
        rows, worst = [], (0.0, "-")  # (fraction of its limit, text)
        for name, d in ex.items():
            c, w = d["cold"], d["warm"]
            if c:
                limit = TRANSFER_CHAPTER_COLD_S if "transfer" in name else CHAPTER_COLD_S
                worst = max(worst, (c["total"] / limit, f"{c['total']:.1f} s ({name})"))
                rows.append([name] + [f"{c[k]:.1f}" for k in execution.KEYS] + [f"{w['total']:.1f}" if w else "-"])
            details += [f"- FAILED execution of {name}: {e}" for e in d["errors"]]
        targets.append(["cold Run All of a chapter < 20 s (transfer learning 60 s)", f"slowest {worst[1]}",
                        verdict(worst[0] if rows else None, 1.0)])
        details += ["", "### Chapter Run All (nbclient; seconds; cold = empty JAX cache)", "",
                    table(["chapter", "kernel start", "imports", "JAX compile", "rest", "total cold", "total warm"],
                          rows)]
    if ok(ch):
        live = [f | {"chapter": c} for c, d in ch.items() for f in d["figures"]]
        good = [f for f in live if "error" not in f]
        if good:
            p50 = max(good, key=lambda f: f["total_ms"]["p50"])
            jax = max(good, key=lambda f: f["jax_ms"]["p50"])
            targets.append(["live slider update p50 < 50 ms, its JAX part < 5 ms",
                            f"slowest {p50['total_ms']['p50']:.1f} ms ({p50['figure']}/{p50['slider']}), "
                            f"JAX {jax['jax_ms']['p50']:.1f} ms ({jax['figure']}/{jax['slider']})",
                            "met" if p50["total_ms"]["p50"] <= LIVE_P50_MS and jax["jax_ms"]["p50"] <= LIVE_JAX_P50_MS
                            else "MISSED"])
        details += ["", "### Live slider updates (`LiveFigure.update`, ms)", "",
                    table(["figure", "slider", "JAX p50/p95", "whole update p50/p95", "first move", "positions"],
                          [[f["figure"], f["slider"], f"{f['jax_ms']['p50']:.1f} / {f['jax_ms']['p95']:.1f}",
                            f"{f['total_ms']['p50']:.1f} / {f['total_ms']['p95']:.1f}",
                            f"{f['first_move_ms']:.1f}", f["positions"]] for f in good])]
        details += [f"- not measured: {f['chapter']} {f['figure']} {f.get('slider', '')}: {f['error']}"
                    for f in live if "error" in f]
        speed = {k: v for d in ch.values() for k, v in d["speed"].items()}
        if "sweep" in speed:
            s = speed["sweep"]
            targets.append(["chapter 4: one vectorised sweep beats a Python loop over the grid",
                            f"{s['vectorised_ms']:.2f} ms vs {s['python_loop_ms']:.0f} ms ({s['speedup']:.0f}x)",
                            "holds" if s["speedup"] > 1 and s["same_results"] else "FAILS"])
        if "gradient_modes" in speed:
            g = speed["gradient_modes"]
            details += ["", "### Chapter 5: one gradient by mode (ms, as the chapter timed it)", "",
                        table(["mode and size", "ms"], [[k, f"{v:.3f}"] for k, v in g.items()])]
            at = {k.split(" n=")[0]: v for k, v in g.items() if k.endswith(f"n={max(int(k.split('n=')[1]) for k in g)}")}
            rev = next((v for k, v in at.items() if k.startswith("reverse")), None)
            if rev:
                targets.append(["chapter 5: reverse mode is the cheapest gradient at the largest n",
                                ", ".join(f"{k} {v:.2f} ms" for k, v in at.items()),
                                "holds" if rev == min(at.values()) else "FAILS"])
    if ok(br):
        sw = br["static_sliders"]
        if sw:
            worst = max(sw, key=lambda s: s["switch_ms"]["p95"])
            targets.append(["static slider switch in Chromium p95 < 16 ms",
                            f"slowest {worst['switch_ms']['p95']:.1f} ms ({worst['figure']} input {worst['input']})",
                            verdict(worst["switch_ms"]["p95"], STATIC_SWITCH_P95_MS)])
        heaviest = max(br["pages"].items(), key=lambda kv: kv[1]["loaded_bytes"])
        targets.append(["page weight < 3 MB (everything a page loads)",
                        f"heaviest {heaviest[1]['loaded_bytes'] / 1e6:.2f} MB ({heaviest[0]})",
                        verdict(heaviest[1]["loaded_bytes"], PAGE_BYTES)])
        details += ["", "### Pages in headless Chromium", "",
                    table(["page", "loaded", "requests", "blocked external"],
                          [[k, f"{p['loaded_bytes'] / 1e6:.2f} MB", p["requests"], p["blocked_external"]]
                           for k, p in br["pages"].items()]), "",
                    table(["static slider", "input", "switch p50/p95 ms", "distinct frames / positions"],
                          [[f"{s['page']} {s['figure']}", s["input"],
                            f"{s['switch_ms']['p50']:.1f} / {s['switch_ms']['p95']:.1f}",
                            f"{s['distinct_frames']}/{s['positions']}"] for s in sw])]
    for name in SECTIONS:
        if name in r and not ok(r[name]):
            details.append(f"- section {name} failed: {r[name]['error'] if isinstance(r[name], dict) else r[name]}")
    return "\n".join(out + [table(["target", "measured", "verdict"], targets)] + details) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", 3)))
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--report", action="store_true", help="only re-render _build/bench.json")
    args = parser.parse_args()
    only = [s for s in SECTIONS if s in args.only.split(",")]  # browser needs build's book: keep this order
    if unknown := set(args.only.split(",")) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    out = ROOT / "_build"
    if args.report:
        results = json.loads((out / "bench.json").read_text())
    else:
        results = run(only, max(1, args.repeat), max(30, args.moves))
        out.mkdir(exist_ok=True)
        (out / "bench.json").write_text(json.dumps(results, indent=1))
    report = render(results)
    (out / "bench.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
