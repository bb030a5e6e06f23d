"""The printed table of `make bench`, rendered from its JSON.

    python -m benchmarks.report [_build/bench.json]

Targets (from the issue; reported against, never asserted):
  live slider update: median under 50 ms, its JAX part under 5 ms
  static slider frame switch: under 16 ms (one frame at 60 Hz), judged at p95
  a chapter executes in under 60 s (the transfer-learning chapter: 120 s)
  cold `make book` under 5 minutes; a no-change rebuild under 20 s (2 cores)
  `make test` on a fresh machine under 20 minutes
"""

from __future__ import annotations

import json
import pathlib
import sys

from benchmarks.common import ROOT, fmt_kb, fmt_ms, fmt_s, table

LIVE_TOTAL_MS, LIVE_JAX_MS = 50.0, 5.0
STATIC_MS = 16.0
CHAPTER_S, TRANSFER_CHAPTER_S = 60.0, 120.0
COLD_BOOK_S, REBUILD_S = 300.0, 20.0
MAKE_TEST_S = 1200.0


def _verdict(value, target, unit: str) -> str:
    if value is None:
        return "-"
    if value <= target:
        return "ok"
    over = value - target
    text = f"{over:.1f} ms" if unit == "ms" else (f"{over:.0f} s" if over < 120 else f"{over / 60:.1f} min")
    return f"MISSED by {text}"


def chapter_target(name: str) -> float:
    return TRANSFER_CHAPTER_S if "transfer" in name else CHAPTER_S


def _error(section) -> str | None:
    return section.get("error") if isinstance(section, dict) else None


def _failures(failures: list[dict]) -> list[str]:
    lines = []
    for f in failures:
        tail = (f.get("tail") or "").splitlines()
        what = "; ".join(f.get("failed_tests") or []) or (tail[-1] if tail else "")
        lines.append(f"- FAILED {f['run']} (exit {f['status']}): {what or '?'} - log: {f.get('log', '-')}")
    return ([""] + lines) if lines else []


def render(r: dict) -> str:
    m = r["machine"]
    out = [
        f"## make bench - {m['date']}, commit {m['commit']}{' (uncommitted changes)' if m['dirty'] else ''}",
        "",
        f"Machine: {m['cores']} cores ({m['usable_cores']} usable), {m['cpu'] or 'unknown CPU'}, "
        f"{m['memory_gib']:.1f} GiB; Python {m['python']}, jax {m['jax']}, jupyter-book {m['jupyter_book']}. "
        f"Load average (1/5/15 min) at start: {', '.join(f'{x:.2f}' for x in m['load_average_at_start'] or [])}"
        + (f"; at end: {', '.join(f'{x:.2f}' for x in m['load_average_at_end'])}" if m.get("load_average_at_end") else "")
        + " (other work on the machine shows here and in the timings).",
        f"Medians over {r['repeat']} runs; sliders: p50/p95 over {r['moves']} moves per slider.",
    ]

    if "build" in r or "test" in r:
        out += ["", "### Book build", ""]
        rows, failures = [], []
        b = r.get("build", {})
        if _error(b):
            rows.append(["make book", f"failed: {_error(b)}", "", "", ""])
        elif b:
            rows.append(["cold `make book` (empty execution + JAX caches)", fmt_s(b["cold"]["median"]),
                         " / ".join(f"{x:.0f}" for x in b["cold"]["runs"]), "< 5 min",
                         _verdict(b["cold"]["median"], COLD_BOOK_S, "s")])
            rows.append(["no-change rebuild", fmt_s(b["no_change"]["median"]),
                         " / ".join(f"{x:.1f}" for x in b["no_change"]["runs"]), "< 20 s",
                         _verdict(b["no_change"]["median"], REBUILD_S, "s")])
            failures += b.get("failures", [])
        t = r.get("test")
        if t and _error(t):
            rows.append(["make test", f"failed: {_error(t)}", "", "", ""])
        elif t:
            if t.get("failure"):
                failures.append(t["failure"])
            rows.append(["`make test` (empty _build, venv installed; 1 run)"
                         + ("" if t["status"] == 0 else f" - FAILED, exit {t['status']}"),
                         f"{t['seconds'] / 60:.1f} min", "1 run", "< 20 min incl. venv",
                         _verdict(t["seconds"], MAKE_TEST_S, "s") + " (without venv install)"
                         + ("; the run failed, see below" if t["status"] else "")])
        out.append(table(["measurement", "median", "runs (s)", "target", "verdict"], rows))
        out += _failures(failures)

    if "execution" in r:
        out += ["", "### Chapter execution (nbclient, one kernel per run)", ""]
        e = r["execution"]
        if _error(e):
            out.append(f"failed: {_error(e)}")
        else:
            rows = []
            for name, d in e.items():
                c, w = d["cold"], d["warm"]
                rows.append([name, fmt_s(c["kernel_start"]), fmt_s(c["imports"]), fmt_s(c["compile"]),
                             fmt_s(c["rest"]), fmt_s(c["total"]), fmt_s(w["compile"]), fmt_s(w["total"]),
                             f"< {chapter_target(name):.0f} s", _verdict(c["total"], chapter_target(name), "s")])
            out.append(table(["chapter", "kernel start", "imports", "JAX compile", "rest", "total (cold)",
                              "JAX compile (warm)", "total (warm)", "target", "verdict"], rows))
            out += [f"- {name}: FAILED {err}" for name, d in e.items() for err in d.get("errors", [])]
            out.append("\ncold/warm: JAX persistent compilation cache empty / filled by the cold run. "
                       "JAX compile = wall time inside JAX tracing, lowering and XLA compilation "
                       "(jax.monitoring spans, union).")

    if "nbval" in r:
        out += ["", "### Strict nbval per chapter (`make nbval CHAPTERS=...`)", ""]
        n = r["nbval"]
        if _error(n):
            out.append(f"failed: {_error(n)}")
        else:
            out.append(table(["chapter", "cold JAX cache", "warm JAX cache", "result"], [
                [name, fmt_s(d["cold"]), fmt_s(d["warm"]),
                 "pass" if not d["failures"] else f"FAILED {len(d['failures'])} of {len(d['runs']['cold']) * 2} runs"]
                for name, d in n.items()]))
            out += _failures([f for d in n.values() for f in d["failures"]])

    if "live" in r:
        out += ["", "### Live sliders (callback = JAX frame function + redraw)", ""]
        lv = r["live"]
        if _error(lv):
            out.append(f"failed: {_error(lv)}")
        else:
            rows, notes = [], []
            for chapter, d in lv.items():
                if d.get("error"):
                    notes.append(f"{chapter}: executing the chapter stopped at {d['error']}")
                if not d["figures"]:
                    notes.append(f"{chapter}: no live figure")
                for f in d["figures"]:
                    if f.get("error"):
                        rows.append([chapter, f["figure"], f.get("slider", "-"), "-", "-", "-", "-", "-", "-",
                                     f"not measured: {f['error']}"])
                        continue
                    j, rd, t = f["jax_ms"], f["redraw_ms"], f["total_ms"]
                    verdicts = [v for v in (_verdict(t["p50"], LIVE_TOTAL_MS, "ms"),
                                            _verdict(j["p50"], LIVE_JAX_MS, "ms")) if v != "ok"]
                    verdict = "ok" if not verdicts else "; ".join(
                        f"{'total' if k == 0 else 'JAX'} {v}" for k, v in enumerate(
                            [_verdict(t["p50"], LIVE_TOTAL_MS, "ms"), _verdict(j["p50"], LIVE_JAX_MS, "ms")])
                        if v != "ok")
                    rows.append([chapter.replace("chapters/", ""), f["figure"] + ("" if f["found"] == "shown live" else " *"),
                                 f["slider"], f"{j['p50']:.1f} / {j['p95']:.1f}", f"{rd['p50']:.1f} / {rd['p95']:.1f}",
                                 f"{t['p50']:.1f} / {t['p95']:.1f}", fmt_ms(f["first_move_max_ms"]),
                                 str(f["moves"]), "< 50 (JAX < 5)", verdict])
            out.append(table(["chapter", "figure", "slider", "JAX p50/p95 ms", "redraw p50/p95 ms",
                              "total p50/p95 ms", "first move (max)", "moves", "target ms", "verdict"], rows))
            out.append("\nfirst move: slowest move of the warm-up pass, JIT compilation included. "
                       "* = a FigureSpec in the chapter's namespace that the chapter does not show live. "
                       "Not included: sending the PNG to the browser.")
            out += [f"- {n}" for n in notes]

    if "browser" in r:
        br = r["browser"]
        out += ["", "### Static sliders in headless Chromium (book in " + r.get("browser_html", "?") + ")", ""]
        if _error(br):
            out.append(f"failed: {_error(br)}")
        else:
            rows = []
            for s in br["static_sliders"]:
                rows.append([s["page"].replace("chapters/", ""), s["figure"].replace("nnbook-", ""), str(s["input"]),
                             f"{s['switch_ms']['p50']:.1f} / {s['switch_ms']['p95']:.1f}",
                             f"{s['handler_ms']['p50']:.1f}", f"{s['next_frame_ms']['p50']:.1f}",
                             f"{s['distinct_frames']}/{s['positions']}", str(s["moves"]), "< 16 (p95)",
                             _verdict(s["switch_ms"]["p95"], STATIC_MS, "ms")])
            out.append(table(["page", "figure", "input", "switch p50/p95 ms", "handler p50 ms",
                              "next frame (double rAF) p50 ms", "distinct frames / positions", "moves", "target ms", "verdict"], rows)
                       if rows else "no static slider found")
            out.append("\nswitch: input event at the start of a frame until that frame's rendering work is done "
                       "(handler + style + layout + paint). next frame: from the event until the second "
                       "requestAnimationFrame after it; includes waiting for the 60 Hz frame clock.")
            out += ["", "### Page weight (everything a page loads, served locally)", ""]
            rows = []
            for name, p in br["pages"].items():
                t = p["by_type"]
                rows.append([name, fmt_kb(p["html_bytes"]), fmt_kb(p["loaded_bytes"]), str(p["requests"]),
                             fmt_kb(t.get("script", 0)), fmt_kb(t.get("stylesheet", 0)), fmt_kb(t.get("font", 0)),
                             fmt_kb(t.get("image", 0)), str(len(p["blocked_external"])) if p["blocked_external"] else "0"])
            out.append(table(["page", "HTML", "loaded in all", "requests", "JS", "CSS", "fonts", "images",
                              "blocked external requests"], rows))
            heaviest = max(br["pages"].values(), key=lambda p: p["loaded_bytes"], default=None)
            if heaviest:
                out.append("\nlargest files: " + ", ".join(
                    f"{i['url'].split('?')[0]} {fmt_kb(i['bytes'])}" for i in heaviest["largest"][:4]))

    if "speed" in r:
        sp = r["speed"]
        out += ["", "### In-book speed comparisons, outside the notebooks", ""]
        if _error(sp):
            out.append(f"failed: {_error(sp)}")
        else:
            sw = sp["sweep"]
            if sw.get("status") != "ok":
                out.append(f"Sweep (vectorised vs Python loop): {sw.get('status') or sw}")
            else:
                out.append(table(["sweep (" + sw["grid"] + ")", "time", "same results"], [
                    ["vectorised: jit(vmap(vmap(lax.scan run)))", fmt_ms(sw["vectorised_ms"]), ""],
                    ["Python loop of jitted single runs", fmt_ms(sw["python_loop_ms"]), str(sw["same_results"])],
                    ["speed-up", f"{sw['speedup']:.0f}x", ""],
                ]))
            g = sp["gradient_modes"]
            out += ["", f"Gradient of {g['function']}:", ""]
            out.append(table(["n", "f itself", "reverse (grad)", "forward (jacfwd)", "central differences",
                              "forward / reverse", "differences / reverse", "rel. error of differences"], [
                [str(x["n"]), fmt_ms(x["f_ms"]), fmt_ms(x["reverse_ms"]), fmt_ms(x["forward_ms"]),
                 fmt_ms(x["finite_diff_ms"]), f"{x['forward_ms'] / x['reverse_ms']:.1f}x",
                 f"{x['finite_diff_ms'] / x['reverse_ms']:.1f}x", f"{x['finite_diff_rel_err']:.0e}"]
                for x in g["rows"]]))

    secs = r.get("seconds", {})
    if secs:
        out += ["", "Bench sections took: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in secs.items()) + "."]
    return "\n".join(out)


def main() -> None:
    path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "bench.json"
    print(render(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
