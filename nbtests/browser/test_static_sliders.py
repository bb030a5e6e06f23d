"""The in-page sliders of the HTML book (nnbook.sliders.static_figure), moved
as a reader moves them: with the keyboard and with the mouse."""

from __future__ import annotations

import json

import pytest

from browser_support import TIMEOUT_MS, toc_chapters

STATE_JS = """
figure => ({
  frame: figure.dataset.frame,
  values: [...figure.querySelectorAll('input[type=range]')].map(i => Number(i.value)),
  max: [...figure.querySelectorAll('input[type=range]')].map(i => Number(i.max)),
  outputs: [...figure.querySelectorAll('output')].map(o => o.textContent),
  valuetexts: [...figure.querySelectorAll('input[type=range]')].map(i => i.getAttribute('aria-valuetext')),
  points: [...figure.querySelectorAll('polyline')].map(p => p.getAttribute('points')),
})
"""


@pytest.fixture(scope="module")
def chapter_page(browser, site):
    contexts = []

    def open_page(name):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{site}/{name}.html", wait_until="load")
        return page, errors

    yield open_page
    for context in contexts:
        context.close()


def _check_shows(figure, labels, state, where):
    for k, value in enumerate(state["values"]):
        assert state["outputs"][k] == labels[k][value], (
            f"{where}: the label shows {state['outputs'][k]!r}, not the value"
        )
        assert state["valuetexts"][k] == labels[k][value], f"{where}: aria-valuetext is {state['valuetexts'][k]!r}"


@pytest.mark.parametrize("name", toc_chapters())
def test_every_static_slider_changes_the_figure(chapter_page, name):
    page, errors = chapter_page(name)
    figures = page.locator("figure.nnbook-static")
    assert figures.count() >= 1, f"{name}: a chapter needs at least one in-page slider figure (DESIGN.md)"
    for f in range(figures.count()):
        figure = figures.nth(f)
        figure_id = figure.get_attribute("id")
        data = json.loads(figure.locator('script[type="application/json"]').text_content())
        inputs = figure.locator("input[type=range]")
        svg = figure.locator("svg")
        for k in range(inputs.count()):
            where = f"{name} #{figure_id}, slider {k} ({figure.locator('label span').nth(k).text_content()})"
            slider = inputs.nth(k)
            before = figure.evaluate(STATE_JS)
            _check_shows(figure, data["labels"], before, where)
            picture = svg.screenshot()

            # The keyboard: one step (back, if it starts at the end).
            slider.focus()
            at_end = before["values"][k] == before["max"][k]
            page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            after = figure.evaluate(STATE_JS)
            assert after["values"][k] == before["values"][k] + (-1 if at_end else 1), f"{where}: a key did not move it"
            assert after["frame"] != before["frame"], f"{where}: the frame index did not change"
            assert after["points"] != before["points"], f"{where}: no line of the figure moved"
            assert svg.screenshot() != picture, f"{where}: the figure shown did not change"
            _check_shows(figure, data["labels"], after, where)

            # The mouse: a click near the end of the track farther from the thumb.
            box = slider.bounding_box()
            far = 0.05 if after["values"][k] > after["max"][k] / 2 else 0.95
            target_x = box["x"] + box["width"] * far
            page.mouse.click(target_x, box["y"] + box["height"] / 2)
            clicked = figure.evaluate(STATE_JS)
            assert clicked["values"][k] != after["values"][k], f"{where}: a click on the track did not move it"
            assert clicked["points"] != after["points"], f"{where}: the click did not change the figure"
            _check_shows(figure, data["labels"], clicked, where)
    assert not errors, f"{name}: script errors: {errors}"
