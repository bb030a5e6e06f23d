"""The live sliders as a Binder user gets them: JupyterLab from the project's
venv, a chapter opened, Run > Run All Cells, then the first slider of the
chapter's first live figure moved with the keyboard; the figure (a
widgets.Image) must change.

The chapters opened are browser_support.lab_chapters(): by default the first
chapter with an interactive figure and the one with the most (each costs a
Run All in a browser, ~40 s); NNBOOK_LAB_CHAPTERS=all opens every one. The
tests at the end of this module check, for every chapter and without a
browser, what JupyterLab reads from the notebook file; the rest of what the
browser test proves is proven for every chapter elsewhere (see there).

Each figure is one output carrying both faces (``interactive_figure``): after
Run All, JupyterLab must show the live widget of every figure and never the
static in-page copy. What it shows for the stored outputs, before the cells
run, is recorded in the summary (and a screenshot).

The server (browser/conftest.py, ``jupyterlab``; ``lab`` here, for other
modules to import) runs once per session on 127.0.0.1 with a random token, on
a copy of chapters/ in a temporary folder (a run must never write into the
committed notebooks), with autosave off and its config, data, settings and
workspaces in that folder too, so nothing of the user's own Jupyter setup
leaks in. Each chapter's kernel is shut down after its test; the server is
stopped when the session ends.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import nbformat
import pytest

from browser_support import (
    LIVE_SLIDERS,
    ROOT,
    STORED_VIEWS,
    TIMEOUT_MS,
    api_get,
    interactive_cells,
    lab_chapters,
    toc_chapters,
)

RUN_TIMEOUT_MS = 150_000  # to run every cell of one chapter
# A slider whose label says it is the learning rate is the one to move (the
# gradient-descent chapter); otherwise the first slider of the figure.
LEARNING_RATE = re.compile(r"learning rate|step size|\bη\b|\beta\b", re.IGNORECASE)

KERNEL_READY_JS = """
() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const session = widget && widget.sessionContext;
  const kernel = session && session.isReady && session.session && session.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}
"""

# Done when every code cell shows an execution count; fails fast on an error.
RUN_STATE_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const prompts = [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const errors = [...panel.querySelectorAll(
      '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent.slice(0, 400));
  return {prompts, errors};
}
"""


@pytest.fixture
def lab(jupyterlab):
    """The session's JupyterLab server (browser/conftest.py); yields (base_url, token)."""
    return jupyterlab


# What each output area holding an interactive figure shows: the live widget, the
# static copy, a widget error, or something else (its first words).
FIGURE_OUTPUTS_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  return [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')]
    .filter(cell => /^\\s*interactive_figure\\(/.test(cell.querySelector('.jp-InputArea-editor').textContent))
    .map(cell => {
      const out = cell.querySelector('.jp-OutputArea');
      if (!out) return 'no output';
      if (out.querySelector('.widget-vbox img.widget-image')) return 'live widget';
      const copy = out.querySelector('figure.nnbook-static');
      if (copy) return copy.querySelector('svg') ? 'static copy' : 'static copy, sanitized (no picture, no script)';
      const text = out.textContent.trim().replace(/\\s+/g, ' ');
      return text ? 'text: ' + text.slice(0, 60) : 'empty';
    });
}
"""


def _first_spec_initials(chapter: str) -> list[str]:
    """The initial values of the chapter's first interactive figure, as the
    live sliders' readouts print them; from its stored text/plain output."""
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith("interactive_figure("):
            (text,) = [o["data"]["text/plain"] for o in cell.outputs if "text/plain" in o.get("data", {})]
            return [part.split(" = ")[1] for part in text.split(": ", 1)[1].rstrip(">").split(", ")]
    raise AssertionError(f"{chapter} has no interactive figure")


def _shut_down_kernels(base: str, token: str) -> None:
    """Free the chapter's kernel (memory, CPU) before the next chapter."""
    try:
        for kernel in api_get(f"{base}/api/kernels", token) or []:
            api_get(f"{base}/api/kernels/{kernel['id']}", token, method="DELETE")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # the server is gone: the fixture reports it, stopping it ends its kernels


@pytest.mark.parametrize("chapter", lab_chapters())
def test_live_slider_redraws_the_figure_in_jupyterlab(browser, lab, screenshots, chapter):
    base, token = lab
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = []
    page.on("console", lambda m: m.type in ("error", "warning") and console.append(f"{m.type}: {m.text[:300]}"))
    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
    try:
        # A workspace of its own per chapter: no tab of an earlier chapter comes back.
        stem = chapter.rsplit("/", 1)[-1]
        page.goto(f"{base}/lab/workspaces/nnbook-{stem}/tree/{chapter}.ipynb?token={token}&reset",
                  wait_until="domcontentloaded")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        panel.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=60_000)
        # As a reader does, wait for the kernel to be up: cells run before it
        # is connected are dropped, or their widgets shown as text (the widget
        # manager joins the notebook only then). The toolbar says "idle" even
        # before a kernel exists, so ask the app (exposed for this test).
        page.wait_for_function(KERNEL_READY_JS, timeout=60_000, polling=200)

        # Before running: what the stored outputs show, recorded. The notebook is not
        # trusted (as on Binder), so JupyterLab renders no widget view and shows the
        # safe MIME type, the static HTML, sanitised: no script, no SVG. It must not
        # show a broken widget ("model not found") or a working-looking static copy.
        expected = interactive_cells(chapter)
        page.wait_for_timeout(1000)  # let the widget manager try to restore stored state
        stored = page.evaluate(FIGURE_OUTPUTS_JS)
        STORED_VIEWS[chapter] = ", ".join(sorted({f"{stored.count(v)} x {v}" for v in stored}))
        page.screenshot(path=screenshots / f"jupyterlab-{stem}-stored.png")
        assert len(stored) == expected, f"{chapter}: {len(stored)} figure cells in the page, {expected} in the notebook"
        allowed = {"live widget", "static copy, sanitized (no picture, no script)"}
        assert set(stored) <= allowed, f"{chapter}: before Run All the stored figures show {stored}"

        # Run > Run All Cells, as a reader does it.
        page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        dialog = page.locator(".jp-Dialog")
        deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
        while True:
            if dialog.count() and dialog.first.is_visible():  # "Select Kernel" on a first run: accept
                page.locator(".jp-Dialog .jp-mod-accept").first.click()
            state = page.evaluate(RUN_STATE_JS)
            assert not state["errors"], f"{chapter}: a cell wrote to stderr:\n" + "\n".join(state["errors"])
            if state["prompts"] and all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"]):
                break
            assert time.monotonic() < deadline, (
                f"{chapter}: cells did not finish in {RUN_TIMEOUT_MS / 1000:.0f} s: {state['prompts']}"
            )
            page.wait_for_timeout(250)

        # Every figure shows its live face, none its static copy (one output, two faces).
        page.wait_for_function(
            f"() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
            f".jp-OutputArea .widget-vbox img.widget-image').length >= {expected}",
            timeout=30_000,
        )
        shown = page.evaluate(FIGURE_OUTPUTS_JS)
        assert shown == ["live widget"] * expected, (
            f"{chapter}: after Run All the figures show {shown}: JupyterLab must render the widget view, "
            "not the static copy"
        )
        assert not panel.locator(".jp-OutputArea-output figure.nnbook-static").count()

        # The first live figure: a VBox of sliders over a widgets.Image.
        figure = panel.locator(".jp-OutputArea-output .widget-vbox:has(img.widget-image):has(.widget-slider)").first
        figure.wait_for(timeout=30_000)
        image = figure.locator("img.widget-image").first
        page.wait_for_function(
            "img => img.src && img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000
        )
        sliders = figure.locator(".widget-slider")
        labels = [sliders.nth(k).locator(".widget-label").first.inner_text() for k in range(sliders.count())]
        chosen = next((k for k, label in enumerate(labels) if LEARNING_RATE.search(label)), 0)
        if "gradient_descent" in chapter:
            assert LEARNING_RATE.search(labels[chosen]), f"{chapter}: no learning-rate slider in {labels}"
        slider = sliders.nth(chosen)
        readout = slider.locator(".widget-readout")
        figure.scroll_into_view_if_needed()
        before_src, before_value = image.get_attribute("src"), readout.inner_text()
        # the front end kept the spec's initial value (no snapping to the slider's steps)
        first_spec = _first_spec_initials(chapter)
        readouts = [sliders.nth(k).locator(".widget-readout").inner_text() for k in range(sliders.count())]
        # (the readouts print 3 significant digits, enough to tell -4 from the -3.96 a snapped slider shows)
        assert [float(r.replace("\u2212", "-")) for r in readouts] == pytest.approx(
            [float(v) for v in first_spec], rel=1e-3
        ), f"{chapter}: the live sliders start at {readouts}, the spec says {first_spec}"
        before_picture = image.screenshot()

        # ipywidgets 8 sliders are noUiSlider elements: focus the handle, press keys.
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        for key in ("ArrowRight", "ArrowLeft"):  # back, if it starts at the end
            for _ in range(3):
                handle.press(key)
            if readout.inner_text() != before_value:
                break
        after_value = readout.inner_text()
        assert after_value != before_value, f"{chapter}: the slider {labels[chosen]!r} did not move ({before_value})"
        page.wait_for_function(
            "([img, old]) => img.src !== old && img.complete && img.naturalWidth > 0",
            arg=[image.element_handle(), before_src],
            timeout=30_000,
        )
        assert image.screenshot() != before_picture, f"{chapter}: the figure did not change"
        state = page.evaluate(RUN_STATE_JS)
        assert not state["errors"], f"{chapter}: moving the slider wrote to stderr:\n" + "\n".join(state["errors"])
        page.screenshot(path=screenshots / f"jupyterlab-{stem}.png")
        LIVE_SLIDERS[chapter] = f"{labels[chosen]!r}: {before_value} -> {after_value}, image redrawn"
    except Exception:
        # What the page showed, for the person reading the failure.
        page.screenshot(path=screenshots / f"jupyterlab-{chapter.rsplit('/', 1)[-1]}-failed.png", full_page=True)
        (screenshots / f"jupyterlab-{chapter.rsplit('/', 1)[-1]}-failed.html").write_text(
            page.locator(".jp-Notebook").first.inner_html() if page.locator(".jp-Notebook").count() else page.content()
        )
        print(f"{chapter}: the browser console said:", *console, sep="\n  ")
        raise
    finally:
        context.close()
        _shut_down_kernels(base, token)


# --- Every chapter, without a browser ---------------------------------------------------------
# JupyterLab opens only lab_chapters() (two by default). For every chapter, what
# the browser test would add to what the rest of `make test` checks is here:
# Run All without an error or stderr is strict nbval (a fresh kernel, every
# cell, stderr compared); a slider's move redrawing the figure is
# LiveFigure.update in the figure tests (check_extremes_draw); what remains is
# what JupyterLab reads from the notebook file, checked below against the shape
# the browser test saw JupyterLab render.

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SLIDERS = {"FloatSliderModel", "IntSliderModel", "FloatLogSliderModel"}


def _on_grid(model: dict) -> bool:
    """Whether the slider's value is a position of its track (min + k step; for a
    log slider, of the exponent), so the front end shows it without snapping."""
    state = model["state"]
    value = state["value"]
    if model["model_name"] == "FloatLogSliderModel":
        import math

        value = math.log(value, state.get("base", 10))
    k = (value - state["min"]) / state["step"]
    return abs(k - round(k)) < 1e-9 and state["min"] <= value <= state["max"]


@pytest.mark.parametrize("chapter", toc_chapters())
def test_every_chapter_stores_figures_as_jupyterlab_renders_them(chapter):
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("interactive_figure(")]
    for cell in cells:
        # one output with both faces: JupyterLab shows the widget view after Run All, the
        # sanitised static HTML before (the two states the browser test accepts)
        (output,) = cell.outputs
        assert set(output.get("data", {})) == {WIDGET_VIEW, "text/html", "text/plain"}, (chapter, cell.source[:60])
        model = state.get(output.data[WIDGET_VIEW]["model_id"])
        assert model and model["model_name"] == "VBoxModel", f"{chapter}: a figure's view has no stored VBox"
        children = [state[ref.removeprefix("IPY_MODEL_")]["model_name"] for ref in model["state"]["children"]]
        assert "ImageModel" in children and SLIDERS & set(children), (chapter, children)
    # every live slider starts where the spec says, on its track: the browser test's readout check
    off = [m["state"].get("description") for m in state.values() if m["model_name"] in SLIDERS and not _on_grid(m)]
    assert not off, f"{chapter}: sliders whose initial value is not on their step grid: {off}"
