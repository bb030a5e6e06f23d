"""The built book in headless Chromium (the browser tests' settings), served
on 127.0.0.1 (requests to other hosts are blocked and counted): every page's
weight (all it loads until the network is idle), and every static slider's
*switch*: from an input event sent at the start of an animation frame until
that frame's rendering work is done (handler, style, layout, paint), the
16 ms budget of one frame at 60 Hz; back and forth across each range input.

Run:  python -m benchmarks.browser [HTML_DIR] [MOVES]
"""

from __future__ import annotations

import functools
import http.server
import json
import pathlib
import sys
import threading
import urllib.parse

from benchmarks.common import ROOT, summary, toc_files

MOVES = 40
SWITCH_JS = """
async ({id, k, seq}) => {
  const root = document.getElementById(id);
  const input = root.querySelectorAll('input[type=range]')[k];
  const raf = () => new Promise(r => requestAnimationFrame(r));
  const afterRendering = () => new Promise(r => {
    const ch = new MessageChannel(); ch.port1.onmessage = () => r(); ch.port2.postMessage(0);
  });
  const times = [], frames = new Set();
  for (const v of seq) {
    await raf();
    const t0 = performance.now();
    input.value = String(v);
    input.dispatchEvent(new Event('input', {bubbles: true}));
    await afterRendering();
    times.push(performance.now() - t0);
    frames.add(root.dataset.frame);
  }
  return {times, distinct_frames: frames.size};
}
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def measure_site(html: pathlib.Path, moves: int = MOVES) -> dict:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "nbtests" / "browser"))
    from browser_support import CHROMIUM, CHROMIUM_ARGS

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=html))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results = {"pages": {}, "static_sliders": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            blocked = []

            def route(r):
                url = r.request.url
                if url.startswith(("data:", "blob:")) or urllib.parse.urlsplit(url).hostname == "127.0.0.1":
                    return r.continue_()
                blocked.append(url)
                r.abort()

            context.route("**/*", route)
            for name in toc_files(html.parents[1]):
                if not (html / f"{name}.html").exists():
                    continue
                page, loads = context.new_page(), []
                page.on("requestfinished", lambda req, loads=loads: loads.append(req.sizes()["responseBodySize"]))
                blocked.clear()
                page.goto(f"{base}/{name}.html", wait_until="networkidle")
                results["pages"][name] = {"loaded_bytes": sum(loads), "requests": len(loads),
                                          "blocked_external": len(set(blocked))}
                for figure in page.query_selector_all("figure.nnbook-static"):
                    figure.scroll_into_view_if_needed()
                    inputs = figure.query_selector_all("input[type=range]")
                    for k, size in enumerate(int(i.get_attribute("max")) + 1 for i in inputs):
                        if size < 2:
                            continue
                        steps = sorted({round(i * (size - 1) / 39) for i in range(40)})
                        cycle = steps[-2::-1] + steps[1:]
                        seq = (steps + cycle * moves)[:moves]
                        r = page.evaluate(SWITCH_JS, {"id": figure.get_attribute("id"), "k": k, "seq": seq})
                        results["static_sliders"].append({
                            "page": name, "figure": figure.get_attribute("id"), "input": k, "positions": size,
                            "distinct_frames": r["distinct_frames"], "switch_ms": summary(r["times"])})
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return results


if __name__ == "__main__":
    html = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html").resolve()
    if not (html / "index.html").exists():
        sys.exit(f"no built book in {html}: run 'make book' first")
    print(json.dumps(measure_site(html, int(sys.argv[2]) if len(sys.argv) > 2 else MOVES)))
