"""Checks of the built HTML book (`make book` first; `make test` runs it)."""

import json
import pathlib
import re

import pytest
from bs4 import BeautifulSoup

from chapter_code import toc_files

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def pages():
    if not (HTML / "index.html").exists():
        pytest.fail("The book is not built: run 'make book' (make test does it before these checks).")
    return {name: BeautifulSoup((HTML / f"{name}.html").read_text(), "html.parser") for name in toc_files()}


def chapter_names():
    """The notebook chapters (the back matter's FAQ and glossary are plain pages)."""
    return [name for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


def test_every_toc_entry_has_a_page(pages):
    assert set(pages) == set(toc_files())


@pytest.mark.parametrize("name", toc_files())
def test_no_traceback_or_warning_reaches_a_page(pages, name):
    text = pages[name].get_text()
    for bad in ("Traceback (most recent call last)", "RuntimeWarning", "UserWarning", "DeprecationWarning"):
        assert bad not in text, f"{name}: '{bad}' in the page"
    assert not pages[name].select(".stderr, .output.traceback"), f"{name}: an error/stderr output is shown"


@pytest.mark.parametrize("name", chapter_names())
def test_what_a_cell_prints_is_one_block(pages, name):
    # A cell's printed lines arrive in several stream messages when it
    # computes between prints; nb_merge_streams (_config.yml) shows them as one
    # block, not one box per message.
    for output in pages[name].select("div.cell_output"):
        kinds = [" ".join(div.get("class", [])) for div in output.find_all("div", recursive=False)]
        streams = [i for i, kind in enumerate(kinds) if "output stream" in kind]
        assert all(b - a > 1 for a, b in zip(streams, streams[1:])), f"{name}: a printout split into boxes"


@pytest.mark.parametrize("name", chapter_names())
def test_chapters_have_launch_buttons(pages, name):
    links = [a.get("href", "") for a in pages[name].find_all("a")]
    assert any("mybinder.org/v2/gh/" in h and name in h for h in links), f"{name}: no Binder button"
    assert any("colab.research.google.com" in h for h in links), f"{name}: no Colab button"


@pytest.mark.parametrize("name", chapter_names())
def test_every_static_slider_in_a_page_is_complete(pages, name):
    for figure in pages[name].select("figure.nnbook-static"):
        data = json.loads(figure.find("script", type="application/json").string)
        inputs = figure.find_all("input", type="range")
        assert len(inputs) == len(data["sizes"])
        total = 1
        for size, input_, labels in zip(data["sizes"], inputs, data["labels"]):
            assert int(input_["max"]) == size - 1 and len(labels) == size
            total *= size
        assert len(data["frames"]) == total
        assert figure.find("svg")["aria-label"], "a static figure needs alt text"


@pytest.mark.parametrize("name", chapter_names())
def test_each_figure_shows_its_static_face_and_no_live_figure_paragraph(pages, name):
    """One cell per figure: the page shows the static slider of each, and
    neither the widget's text nor a "Live figure ..." paragraph."""
    import nbformat

    nb = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("interactive_figure(")]
    page = pages[name]
    assert len(page.select("figure.nnbook-static")) == len(cells) >= 1
    assert not page.select(".nnbook-live-note")
    text = page.get_text()
    for bad in ("Live figure", "its sliders run Python", "<interactive figure"):
        assert bad not in text, f"{name}: {bad!r} in the page"


def test_no_raw_widget_controls_without_a_kernel(pages):
    for name, page in pages.items():
        assert not page.select(".jupyter-widgets"), f"{name}: frozen widget controls in a static page"


def test_bibliography_page_lists_cited_works(pages):
    text = pages["references"].get_text()
    assert re.search(r"Baydin", text)


def macro_cell_source():
    import yaml as _yaml

    macros = _yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    return {name: value for name, value in macros.items()}


@pytest.mark.parametrize("name", chapter_names())
def test_chapters_define_the_book_macros_for_jupyter(name):
    """Jupyter and Binder do not read _config.yml: each chapter starts with a
    cell (removed from the HTML page) that defines the same macros."""
    import nbformat

    nb = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    first = nb.cells[0]
    assert "remove-cell" in first.metadata.get("tags", []), f"{name}: the first cell must be the hidden macro cell"
    for macro, value in macro_cell_source().items():
        # \def, which MathJax and KaTeX both accept: KaTeX refuses to \newcommand its own \R and \L
        assert f"\\def\\{macro}{{{value}}}" in first.source, f"{name}: macro \\{macro} missing or different"
