"""The built book in headless Chromium: what each page loads, and how fast
every static (in-page) slider switches frames.

``_build/html`` is served on 127.0.0.1 by a throw-away HTTP server; requests
to any other host are blocked and counted (the book must work offline).

Page weight: the HTML file, and every response the page loaded until the
network was idle (scripts, style sheets, fonts, images...), by resource type.

Static sliders: for every ``figure.nnbook-static`` and each of its range
inputs, the input's value is set from JS and an ``input`` event dispatched,
back and forth across the whole range. Two clocks, both ``performance.now()``:

* switch: the move is made at the start of an animation frame (inside a
  ``requestAnimationFrame`` callback) and the clock stops in a message posted
  from there, which runs right after that frame's rendering work; so it is
  the handler plus style, layout and paint of the new frame on the main
  thread. This is what the 16 ms budget (one frame at 60 Hz) is about.
* next frame (double rAF): from the move, made at an arbitrary moment, until
  the second ``requestAnimationFrame`` after it, i.e. after the next frame was
  produced. It includes waiting for the display's frame clock, so it is at
  least one frame interval whatever the page does; it is reported for
  comparison, not against the budget.

Run:  python -m benchmarks.browser [HTML_DIR] [--moves 40]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import pathlib
import sys
import threading
import urllib.parse

from benchmarks.common import ROOT, log, run_json, summary, toc_chapters

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MOVES = 40

MEASURE_JS = """
async ({id, k, seq}) => {
  const root = document.getElementById(id);
  const input = root.querySelectorAll('input[type=range]')[k];
  const raf = () => new Promise(r => requestAnimationFrame(r));
  const afterRendering = () => new Promise(r => {
    const ch = new MessageChannel(); ch.port1.onmessage = () => r(); ch.port2.postMessage(0);
  });
  const move = v => { input.value = String(v); input.dispatchEvent(new Event('input', {bubbles: true})); };
  const handler = [], sw = [], next = [], frames = new Set();
  for (const v of seq) {                       // switch: move at the start of a frame
    await raf();
    const t0 = performance.now();
    move(v);
    const t1 = performance.now();
    await afterRendering();
    sw.push(performance.now() - t0);
    handler.push(t1 - t0);
    frames.add(root.dataset.frame);
  }
  for (const v of seq.slice().reverse()) {     // next frame: move at any moment, double rAF
    await new Promise(r => setTimeout(r, 3));
    const t0 = performance.now();
    move(v);
    await raf(); await raf();
    next.push(performance.now() - t0);
  }
  return {handler, switch: sw, next, distinct_frames: frames.size};
}
"""


@contextlib.contextmanager
def serve(directory: pathlib.Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _sweep(size: int, moves: int) -> list[int]:
    """At most 40 evenly spaced positions (both ends included), visited back
    and forth until ``moves`` moves."""
    if size < 2:
        return []
    positions = sorted({round(i * (size - 1) / 39) for i in range(40)}) if size > 40 else list(range(size))
    back_and_forth = positions + positions[-2:0:-1]
    seq = []
    while len(seq) < moves:
        seq += back_and_forth
    return seq[:moves]


def measure_site(html: pathlib.Path, pages: list[str], moves: int = MOVES) -> dict:
    from playwright.sync_api import sync_playwright

    results = {"pages": {}, "static_sliders": []}
    with serve(html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        blocked = []

        def route(r):
            host = urllib.parse.urlsplit(r.request.url).hostname
            if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        for name in pages:
            file = html / f"{name}.html"
            if not file.exists():
                continue
            page = context.new_page()
            loads = []

            def finished(request, loads=loads):
                try:
                    size = request.sizes()["responseBodySize"]
                except Exception:
                    size = 0
                loads.append({"url": request.url.replace(base, ""), "type": request.resource_type, "bytes": size})

            page.on("requestfinished", finished)
            blocked.clear()
            page.goto(f"{base}/{name}.html", wait_until="networkidle")
            by_type = {}
            for item in loads:
                by_type[item["type"]] = by_type.get(item["type"], 0) + item["bytes"]
            results["pages"][name] = {
                "html_bytes": file.stat().st_size,
                "loaded_bytes": sum(i["bytes"] for i in loads),
                "requests": len(loads),
                "by_type": by_type,
                "blocked_external": sorted(set(blocked)),
                "largest": sorted(loads, key=lambda i: -i["bytes"])[:5],
            }
            for figure in page.query_selector_all("figure.nnbook-static"):
                fid = figure.get_attribute("id")
                figure.scroll_into_view_if_needed()
                sizes = [int(i.get_attribute("max")) + 1 for i in figure.query_selector_all("input[type=range]")]
                for k, size in enumerate(sizes):
                    seq = _sweep(size, moves)
                    if not seq:
                        continue
                    log(f"  static slider {fid} input {k} on {name}")
                    r = page.evaluate(MEASURE_JS, {"id": fid, "k": k, "seq": seq})
                    results["static_sliders"].append({
                        "page": name, "figure": fid, "input": k, "positions": size, "moves": len(seq),
                        "distinct_frames": r["distinct_frames"],
                        "handler_ms": summary(r["handler"]), "switch_ms": summary(r["switch"]),
                        "next_frame_ms": summary(r["next"]),
                    })
            page.close()
        browser.close()
    return results


def toc_pages(root: pathlib.Path = ROOT) -> list[str]:
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [c["file"] for c in part.get("chapters", [])]
    return names


def measure(html: pathlib.Path, moves: int = MOVES, root: pathlib.Path = ROOT) -> dict:
    return run_json(["-m", "benchmarks.browser", str(html), "--moves", str(moves)], root=root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", nargs="?", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--moves", type=int, default=MOVES)
    args = parser.parse_args()
    if not (args.html / "index.html").exists():
        sys.exit(f"no built book in {args.html}: run 'make book' first")
    print(json.dumps(measure_site(args.html.resolve(), toc_pages(), max(30, args.moves))))


if __name__ == "__main__":
    sys.exit(main())
