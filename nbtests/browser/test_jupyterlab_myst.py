"""The book's MyST markup in JupyterLab, as a Binder user opens a chapter:
jupyterlab-myst (requirements.txt) renders the markdown cells, so citations,
exercises and solutions show as such, never as raw ``{cite:t}`` roles or
```` ```{exercise} ```` fences.

The chapter is opened as it is committed, not trusted (as on Binder) and not
run: markdown renders without a kernel. What jupyterlab-myst 2.7 shows, seen
on a screenshot: an exercise is a box headed "Exercise N (title ★★☆)", its
solution a folded "Solution to Exercise N"; a citation is a citation group
with the bibliography key and a "Citation Not Found" mark, since JupyterLab
does not read references.bib (the HTML book resolves it to "Author (year)");
a reference to another chapter is marked "Cross Reference Not Found". Math
is typeset with KaTeX one cell at a time, so the macros cell's definitions
reach no other cell: the chapters write the macros out
(nbtests/expand_macros.py). The macros cell itself must typeset: it uses
\\def, since KaTeX refuses to \\newcommand its own \\R and \\L. Glued
numbers ({glue:text}) show as their names.
"""

from __future__ import annotations

import re

import nbformat

from browser_support import ROOT, TIMEOUT_MS

try:  # the JupyterLab server of the live-slider tests, one per module
    from test_jupyterlab import lab  # noqa: F401
except ImportError:  # moved to conftest.py: found there
    pass

CHAPTER = "chapters/06_transfer_learning"
EXERCISE_TITLE = re.compile(r"^`{3,}\{exercise\}[ \t]*(.+)$", re.M)

RENDERED_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const rendered = [...panel.querySelectorAll('.jp-MarkdownCell .myst')];
  return {
    text: rendered.map(r => r.textContent).join('\\n'),
    citations: [...panel.querySelectorAll('.jp-MarkdownCell .myst .cite-group')].map(c => c.textContent.trim()),
    exercises: [...panel.querySelectorAll('.jp-MarkdownCell .myst .myst-exercise-header')]
      .map(h => h.textContent.trim().replace(/\\s+/g, ' ')),
    // jupyterlab-myst marks what it cannot render with a warning sign and says why in the title;
    // the first cell (the macros, hidden in the book) included: KaTeX must accept its \\def's
    problems: rendered.flatMap(r => [...r.querySelectorAll('.text-yellow-600[title]')])
      .map(e => e.getAttribute('title')),
  };
}
"""


def test_jupyterlab_renders_citations_and_exercises(browser, lab, screenshots):  # noqa: F811
    base, token = lab
    nb = nbformat.read(ROOT / f"{CHAPTER}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    titles = EXERCISE_TITLE.findall(markdown)
    assert titles and "{cite:t}`pan2010survey`" in markdown  # what the page below must render

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{base}/lab/workspaces/nnbook-myst/tree/{CHAPTER}.ipynb?token={token}&reset",
                  wait_until="domcontentloaded")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        panel.locator(".jp-MarkdownCell .myst-exercise-header").first.wait_for(timeout=60_000)
        page.wait_for_function(
            f"() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
            f".jp-MarkdownCell .myst .myst-exercise-header').length >= {2 * len(titles)}", timeout=30_000)
        shown = page.evaluate(RENDERED_JS)
        panel.locator(".jp-MarkdownCell .myst-exercise-header").first.scroll_into_view_if_needed()
        page.screenshot(path=screenshots / "jupyterlab-myst-exercise.png")

        # no raw markup in what the reader sees (the source stays in the hidden editor)
        raw = [m for m in ("{cite:t}", "{cite:p}", "{exercise}", "{solution}", ":label:") if m in shown["text"]]
        assert not raw, f"JupyterLab shows raw MyST markup: {raw}"
        # a citation group for the cite:t role, holding its key
        assert any("pan2010survey" in c for c in shown["citations"]), shown["citations"]
        # one box per exercise, headed with its number and its title (difficulty mark included)
        boxes = [h for h in shown["exercises"] if h.startswith("Exercise")]
        assert boxes == [f"Exercise {i} ({t.strip()})" for i, t in enumerate(titles, 1)], boxes
        solutions = [h for h in shown["exercises"] if h.startswith("Solution to")]
        assert len(solutions) == len(titles), shown["exercises"]
        # math typesets (KaTeX, one cell at a time: the chapters write the book's macros out);
        # what is left unresolved is only what needs the whole book: references.bib, other chapters
        unresolved = {"Citation Not Found", "Cross Reference Not Found"}
        assert set(shown["problems"]) <= unresolved, sorted(set(shown["problems"]) - unresolved)
    finally:
        context.close()
