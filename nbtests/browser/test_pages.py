"""Every page of the built book in headless Chromium, served from 127.0.0.1.

Each page is loaded once per view (desktop, phone, dark) and what the reader
would meet is recorded: console errors, failed or off-machine requests, the
bytes it loads, math left raw, broken links and anchors, axe-core violations,
sideways scrolling, transparent figures. The tests below assert on that record,
one failure per kind and page. Screenshots go to _build/screenshots/.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from browser_support import HTML, PAGE_WEIGHTS, TIMEOUT_MS, toc_files
from nnbook.budgets import PAGE_BYTES

# The toc's pages, and the two pages Sphinx adds that every page links to.
PAGES = [*toc_files(), "genindex", "search"]
WEIGHT_BUDGET = PAGE_BYTES  # bytes, the page and everything it loads
DESKTOP = dict(viewport={"width": 1280, "height": 900})
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=1)


def pages_for(check: str, names) -> list:
    """The pages a check runs on: all of them (no known failures are tolerated)."""
    return list(names)


@dataclasses.dataclass
class Visit:
    name: str
    url: str
    console_errors: list = dataclasses.field(default_factory=list)
    failed_requests: list = dataclasses.field(default_factory=list)
    off_machine: list = dataclasses.field(default_factory=list)
    requested: list = dataclasses.field(default_factory=list)
    math: dict = dataclasses.field(default_factory=dict)
    links: list = dataclasses.field(default_factory=list)
    ids: set = dataclasses.field(default_factory=set)
    axe: list = dataclasses.field(default_factory=list)
    overflow: dict = dataclasses.field(default_factory=dict)
    images: list = dataclasses.field(default_factory=list)
    theme: str = ""


MATH_JS = r"""
() => {
  const math = [...document.querySelectorAll('.math')];
  const out = {
    count: math.length,
    // MathML for screen readers, next to each typeset formula.
    assistive: document.querySelectorAll('mjx-container mjx-assistive-mml').length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.trim().slice(0, 80)),
    errors: [],
    raw: [],
  };
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    // Undefined macros (noundefined) come out red, TeX errors as <merror>.
    for (const item of MathJax.startup.document.math) {
      const mml = MathJax.startup.toMML(item.root);
      if (/<merror|mathcolor="red"/.test(mml)) out.errors.push(item.math.slice(0, 80));
    }
  }
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight').forEach(e => e.remove());
  out.raw = (main.textContent.match(/\$[^$\n]{1,80}\$|\\\(|\\\[/g) || []).slice(0, 5);
  return out;
}
"""

LINKS_JS = """
() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id)
       .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
})
"""

# Elements that stick out to the right of a phone screen, outside any
# element that scrolls them itself (code blocks and wide tables do).
OVERFLOW_JS = """
() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const culprits = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let scrolled = false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') { scrolled = true; break; }
    }
    if (!scrolled && getComputedStyle(e).position !== 'fixed')
      culprits.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '') +
                    ' right=' + Math.round(r.right));
  }
  return {scrollWidth: root.scrollWidth, bodyScrollWidth: document.body.scrollWidth, width,
          culprits: culprits.slice(0, 8)};
}
"""

# Every figure in the article: is it opaque (readable on a dark page), and
# what is its alt text.
IMAGES_JS = """
async () => {
  const out = [];
  for (const img of document.querySelectorAll('article img')) {
    try { await img.decode(); } catch (e) {}
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    let transparent = -1;
    if (c.width && c.height) {
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      transparent = 0;
      for (let i = 3; i < d.length; i += 4 * 5) if (d[i] < 250) transparent++;
    }
    out.push({kind: 'img', src: (img.getAttribute('src') || '').slice(0, 100), alt: img.getAttribute('alt'),
              transparent, width: c.width});
  }
  for (const svg of document.querySelectorAll('article svg[role=img]')) {
    out.push({kind: 'svg', src: svg.closest('[id]') ? svg.closest('[id]').id : 'svg',
              alt: svg.getAttribute('aria-label'), background: getComputedStyle(svg).backgroundColor});
  }
  return out;
}
"""

AXE_RUN_JS = """
async (rules) => {
  const options = {resultTypes: ['violations']};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const result = await axe.run(document, options);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' +
           (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)),
  }));
}
"""


def _page_file(name: str) -> str:
    return f"{name}.html"


def _load(browser, site: str, name: str, view: str, screenshots, axe_source=None) -> Visit:
    options = {"desktop": DESKTOP, "phone": PHONE, "dark": {**DESKTOP, "color_scheme": "dark"}}[view]
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    visit = Visit(name, f"{site}/{_page_file(name)}")
    host = urllib.parse.urlsplit(site).netloc

    def route(route):
        if urllib.parse.urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            visit.off_machine.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and visit.console_errors.append(f"{m.text} ({m.location.get('url', '')})"),
    )
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: visit.requested.append(r.url))
    page.on("requestfailed", lambda r: visit.failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and visit.failed_requests.append(f"{r.url}: HTTP {r.status}"))
    try:
        page.goto(visit.url, wait_until="load")
        page.evaluate(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            " ? MathJax.startup.promise.then(() => true) : false"
        )
        page.wait_for_load_state("networkidle")
        visit.theme = page.evaluate("() => document.documentElement.dataset.theme")
        stem = name.rsplit("/", 1)[-1]
        if view == "desktop":
            visit.math = page.evaluate(MATH_JS)
            found = page.evaluate(LINKS_JS)
            visit.links, visit.ids = found["links"], set(found["ids"])
            visit.images = page.evaluate(IMAGES_JS)
            page.screenshot(path=screenshots / f"{stem}-desktop.png", full_page=True)
            page.add_script_tag(path=str(axe_source))
            visit.axe = page.evaluate(AXE_RUN_JS, None)
        elif view == "phone":
            visit.overflow = page.evaluate(OVERFLOW_JS)
            page.screenshot(path=screenshots / f"{stem}-phone.png", full_page=True)
        else:
            visit.images = page.evaluate(IMAGES_JS)
            page.screenshot(path=screenshots / f"{stem}-dark.png", full_page=True)
            page.add_script_tag(path=str(axe_source))
            # Only colours change with the theme: the other rules ran on the light page.
            visit.axe = page.evaluate(AXE_RUN_JS, ["color-contrast", "link-in-text-block"])
    finally:
        context.close()
    return visit


@pytest.fixture(scope="module")
def visit(browser, site, screenshots, axe_source):
    """visit(name, view) -> Visit, each page and view loaded once."""

    @functools.cache
    def load(name: str, view: str = "desktop") -> Visit:
        return _load(browser, site, name, view, screenshots, axe_source)

    return load


@functools.cache
def _ids_in_file(path) -> frozenset:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return frozenset(
        [t["id"] for t in soup.find_all(id=True)] + [t["name"] for t in soup.find_all("a", attrs={"name": True})]
    )


def _local_file(site: str, url: str):
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.path).lstrip("/")
    target = HTML / path
    if not path or path.endswith("/"):
        target = target / "index.html"
    return parts, target


# ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_console_errors(visit, name):
    errors = visit(name).console_errors
    assert not errors, f"{name}: console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("name", PAGES)
def test_page_requests_nothing_off_the_machine_and_nothing_fails(visit, name):
    page = visit(name)
    assert not page.off_machine, f"{name} requests other hosts (the book must work offline):\n" + "\n".join(
        page.off_machine
    )
    assert not page.failed_requests, f"{name}: failed requests:\n" + "\n".join(page.failed_requests)


@pytest.mark.parametrize("name", pages_for("weight", PAGES))
def test_page_weight_is_under_budget(visit, site, name):
    page = visit(name)
    files = {}
    for url in page.requested:
        parts, target = _local_file(site, url)
        if parts.scheme.startswith("http") and target.is_file():
            files[target] = target.stat().st_size
    total = sum(files.values())
    PAGE_WEIGHTS[name] = (total, len(files))
    biggest = sorted(files.items(), key=lambda kv: -kv[1])[:5]
    assert total < WEIGHT_BUDGET, (
        f"{name} loads {total / 1e6:.2f} MB (budget {WEIGHT_BUDGET / 1e6:.0f} MB); biggest: "
        + ", ".join(f"{p.relative_to(HTML)} {s / 1e3:.0f} kB" for p, s in biggest)
    )


@pytest.mark.parametrize("name", PAGES)
def test_math_is_rendered(visit, name):
    math = visit(name).math
    assert not math["unrendered"], f"{name}: math left for MathJax but not typeset: {math['unrendered'][:5]}"
    assert not math["errors"], f"{name}: TeX errors or undefined macros: {math['errors'][:5]}"
    assert not math["raw"], f"{name}: raw TeX delimiters left in the text: {math['raw']}"
    assert math["assistive"] == math["count"], (
        f"{name}: {math['count']} formulas, {math['assistive']} with MathML for screen readers"
    )


def test_math_and_the_book_macros_render_in_a_chapter(visit):
    """At least one chapter has math, and MathJax typeset it from the local copy."""
    counts = {name: visit(name).math["count"] for name in toc_files() if name.startswith("chapters/")}
    assert any(counts.values()), f"no math found in any chapter: {counts}"
    assert any("/vendor/mathjax/" in url for url in visit("chapters/00_how_to_use").requested)


@pytest.mark.parametrize("name", PAGES)
def test_every_internal_link_and_anchor_resolves(visit, site, name):
    page = visit(name)
    host = urllib.parse.urlsplit(site).netloc
    broken = []
    for raw, url in page.links:
        parts, target = _local_file(site, url)
        if parts.scheme not in ("http", "https") or parts.netloc != host:
            continue  # an external link: not followed (no network), not loaded by the page
        if not target.is_file():
            broken.append(f"{raw}: no file {target.relative_to(HTML)}")
            continue
        fragment = urllib.parse.unquote(parts.fragment)
        if not fragment or target.suffix != ".html":
            continue
        ids = page.ids if target == HTML / _page_file(name) else _ids_in_file(target)
        if fragment not in ids:
            broken.append(f"{raw}: no anchor #{fragment} in {target.relative_to(HTML)}")
    assert not broken, f"{name}: broken links:\n" + "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violations(visit, name):
    serious = [v for v in visit(name).axe if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: axe-core violations:\n" + json.dumps(serious, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_without_sideways_scrolling(visit, name):
    overflow = visit(name, "phone").overflow
    assert overflow["scrollWidth"] <= overflow["width"] and overflow["bodyScrollWidth"] <= overflow["width"], (
        f"{name} scrolls sideways at 390 px: {overflow}"
    )


@pytest.mark.parametrize("name", pages_for("alt", toc_files()))
def test_every_figure_has_alt_text(visit, name):
    missing = []
    for image in visit(name).images:
        alt = (image["alt"] or "").strip()
        if len(alt) < 10 or re.search(r"\.(png|jpe?g|svg|gif|webp)$|_images/", alt):
            missing.append(f"{image['kind']} {image['src']}: alt={alt!r}")
    assert not missing, f"{name}: figures without alt text that says what they show:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", toc_files())
def test_figures_stay_readable_in_dark_mode(visit, name):
    page = visit(name, "dark")
    assert page.theme == "dark", f"{name}: the theme did not switch to dark for a dark-mode reader ({page.theme!r})"
    bad = []
    for image in page.images:
        if image["kind"] == "img" and image["transparent"] != 0:
            bad.append(f"{image['src']}: {image['transparent']} sampled pixels are (partly) transparent")
        if image["kind"] == "svg" and not re.fullmatch(r"rgb\(\d+, \d+, \d+\)", image["background"]):
            bad.append(f"{image['src']}: background {image['background']} is not opaque")
    assert not bad, f"{name}: figures that would show the dark page through them:\n" + "\n".join(bad)
    serious = [v for v in page.axe if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name} in dark mode: axe-core violations:\n" + json.dumps(
        serious, indent=1, ensure_ascii=False
    )


@pytest.mark.parametrize("name", ["index", *toc_files()])
def test_book_opens_from_files_with_no_network(browser, name):
    """Opening _build/html/index.html from disk, as an offline reader does
    (file://, no server; any other request is blocked): math, fonts, sliders."""
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    blocked, errors = [], []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (blocked.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"{r.url}: {r.failure}"))
    try:
        page.goto((HTML / _page_file(name)).as_uri(), wait_until="load")
        if name == "index":  # the landing page forwards to the root document
            page.wait_for_url(f"**/{toc_files()[0]}.html")
            page.wait_for_load_state("load")
        page.evaluate(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            " ? MathJax.startup.promise.then(() => document.fonts.ready).then(() => true) : false"
        )
        math = page.evaluate(MATH_JS)
        fonts = page.evaluate("() => [...document.fonts].filter(f => f.status === 'error').map(f => f.family)")
        slider = page.locator("figure.nnbook-static input[type=range]").first
        if slider.count():
            frame = page.locator("figure.nnbook-static").first.get_attribute("data-frame")
            slider.focus()
            page.keyboard.press("ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight")
            assert page.locator("figure.nnbook-static").first.get_attribute("data-frame") != frame, (
                f"{name}: slider dead"
            )
    finally:
        context.close()
    assert not blocked, f"{name} from disk requests other hosts: {blocked}"
    assert not errors, f"{name} from disk: errors:\n" + "\n".join(errors)
    assert not fonts, f"{name} from disk: fonts that failed to load: {fonts}"
    assert not math["unrendered"] and not math["raw"] and not math["errors"], (
        f"{name} from disk: math not rendered: {math}"
    )


def test_vendored_javascript_is_not_added_to_every_page():
    """Pitfall: a `_static/` folder makes Jupyter Book add every .js under the
    static paths to every page. Only MathJax's entry point may come from vendor/
    (it loads its components itself)."""
    page = (HTML / "chapters" / "00_how_to_use.html").read_text(encoding="utf-8")
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
    vendored = [s for s in sources if "vendor/" in s and "_static/vendor/fontawesome" not in s]
    assert [s.split("?")[0].rsplit("/", 1)[-1] for s in vendored] == ["startup.js"], vendored
    assert len(sources) < 30, f"{len(sources)} scripts in a chapter page: {sources}"
    assert not [s for s in sources if "://" in s], "a script is loaded from another host"
