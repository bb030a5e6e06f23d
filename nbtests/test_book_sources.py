"""Checks of the book's sources that need no build: nnbook modules import only
what earlier chapters taught, and every glued number is used by the prose."""

import ast
import json
import pathlib
import re

import nbformat
import pytest

from chapter_code import CHAPTERS, toc_files

NNBOOK = pathlib.Path(__file__).resolve().parents[1] / "nnbook"

# Where each nnbook module is taught (chapter number; 0 for the plumbing every
# chapter may use). A module may import only modules of its chapter or earlier.
TAUGHT_IN = {
    "calculus": 0,  # 00 how to use
    "data": 0,  # loads data sets, teaches nothing
    "budgets": 0,  # page-weight budgets of the figures and pages
    "glue": 0,  # myst-nb's glue without myst-nb (every chapter glues its numbers)
    "sliders": 0,
    "style": 0,
    "neurons": 1,  # 01 neurons: the neuron, dense layer, accuracy, gradient descent
    "neuron_figures": 1,
    "activations": 2,  # 02 activations
    "activation_figures": 2,
    "losses": 3,  # 03 losses
    "loss_figures": 3,
    "optim": 4,  # 04 gradient descent: momentum, SGD, sweeps
    "descent_figures": 4,
    "autodiff": 5,  # 05 backpropagation
    "xla_cost": 5,
    "transfer": 6,  # 06 transfer learning
    "transfer_figures": 6,
    "make_transfer_data": 6,
    "frontiers": 7,  # 07 frontiers and challenges
    "frontiers_figures": 7,
    "mlp": 5,
    "feedback": 5,  # 05: feedback alignment, next to backprop
    "backprop_figures": 5,
}


def modules():
    return sorted(p.stem for p in NNBOOK.glob("*.py") if p.stem != "__init__")


def nnbook_imports(module: str) -> set[str]:
    """The nnbook modules a module imports (``from nnbook.x import``, ``from nnbook import x``, ``import nnbook.x``)."""
    tree = ast.parse((NNBOOK / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "nnbook":  # modules, not the package's own names (OPTIMISED)
                found |= {alias.name for alias in node.names if (NNBOOK / f"{alias.name}.py").is_file()}
            elif node.module.startswith("nnbook."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("nnbook.")}
    return found


def test_every_module_has_a_chapter():
    assert set(modules()) == set(TAUGHT_IN), "declare new nnbook modules in TAUGHT_IN (and drop removed ones)"


@pytest.mark.parametrize("module", modules())
def test_no_module_imports_one_taught_later(module):
    later = {name: TAUGHT_IN[name] for name in nnbook_imports(module) if TAUGHT_IN[name] > TAUGHT_IN[module]}
    assert not later, f"nnbook.{module} (chapter {TAUGHT_IN[module]}) imports modules taught later: {later}"


def test_the_import_parser_finds_the_imports_of_a_real_module():
    assert nnbook_imports("mlp") == {"activations", "losses", "neurons"}


# --- glued numbers -------------------------------------------------------------------------------

GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)")  # a name may hold dots: bp_ratio_0.5


def glued_and_used(chapter: str):
    nb = nbformat.read(CHAPTERS / chapter, as_version=4)
    glued = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = out["data"]["application/papermill.record/text/plain"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return glued, set(GLUE_ROLE.findall(markdown))


@pytest.mark.parametrize("chapter", sorted(p.name for p in CHAPTERS.glob("*.ipynb")))
def test_every_glued_number_is_stored_formattable_and_used(chapter):
    glued, used = glued_and_used(chapter)
    assert used <= set(glued), f"{chapter}: the prose uses values no cell glues: {sorted(used - set(glued))}"
    assert set(glued) <= used, f"{chapter}: glued values the prose never uses: {sorted(set(glued) - used)}"
    for name in used:
        # myst-nb formats {glue:text}`name:.3f` from the stored text/plain; a numpy
        # scalar is stored as "np.float64(...)" and then shows as an empty string
        if not glued[name].startswith(("'", '"')):  # a glued string is shown as it is
            float(glued[name])


# --- "Next:" links follow the table of contents -----------------------------------------------

BOOK = CHAPTERS.parent
NEXT_LINK = re.compile(r"Next: \{doc\}`([^`]+)`")


def numbered_chapters() -> list[str]:
    return [f for f in toc_files() if re.fullmatch(r"chapters/\d\d_\w+", f)]


def last_next_link(chapter: str) -> str | None:
    """Where the chapter's last "Next: {doc}`...`" link points, as a path from the book's root."""
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    links = NEXT_LINK.findall(markdown)
    if not links:
        return None
    return str((BOOK / chapter).parent.joinpath(links[-1]).resolve().relative_to(BOOK.resolve()))


def test_toc_lists_the_numbered_chapters_in_order():
    chapters = numbered_chapters()
    assert chapters == sorted(chapters) and len(chapters) >= 2, chapters
    assert all((BOOK / f"{c}.ipynb").exists() for c in chapters)


@pytest.mark.parametrize("index", range(len(numbered_chapters())), ids=numbered_chapters())
def test_each_chapter_ends_with_a_next_link_to_the_next_chapter_in_the_toc(index):
    chapters = numbered_chapters()
    chapter, link = chapters[index], last_next_link(chapters[index])
    if index + 1 < len(chapters):
        want = chapters[index + 1]
        assert link == want, f"{chapter}: last 'Next:' link is {link}, the toc says {want}"
    else:  # the last chapter: no next chapter to point to (a link, if any, goes to the next toc entry)
        following = toc_files()[toc_files().index(chapter) + 1 :]
        assert link is None or link == following[0], f"{chapter}: last 'Next:' link is {link}"



def test_chapters_run_in_the_precision_they_set():
    """The shared chapter runner reads each chapter's float precision from its
    cells: 64 bits for chapters 0-5, JAX's default 32 bits for 6 and 7."""
    from conftest import uses_x64

    chapters = sorted(p.name for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    assert {name: uses_x64(name) for name in chapters} == {name: name < "06" for name in chapters}


# --- glossary links: the first use of a term in a chapter links to the glossary ------------------

import glossary_links as gl  # noqa: E402  (nbtests/glossary_links.py, the tool that writes the links)

TERMS = gl.glossary_terms()


def test_the_glossary_has_terms_and_the_tool_finds_them():
    assert len(TERMS) >= 20 and "gradient descent" in TERMS and "PRNG key" in TERMS


def linked(text: str, terms=("gradient", "gradient descent", "batch", "weight", "ReLU", "head")) -> str:
    return gl.Linker(list(terms)).link(text)


def test_the_first_use_is_linked_with_its_plural_and_case_and_later_uses_are_not():
    assert linked("Gradients point uphill; a gradient is a vector.") == (
        "{term}`Gradients <gradient>` point uphill; a gradient is a vector.")
    assert linked("two batches, one batch") == "two {term}`batches <batch>`, one batch"
    assert linked("ReLUs and ReLU") == "{term}`ReLUs <ReLU>` and ReLU"
    # the longest term wins, a term wrapped over a line is joined, and a hyphenated word is not a use
    assert linked("gradient\ndescent uses the gradient") == "{term}`gradient descent` uses the {term}`gradient`"
    assert linked("weight-sharing and batchnorm") == "weight-sharing and batchnorm"
    assert linked("the voltage heads for the head") == "the voltage heads for the {term}`head`"  # a verb


def test_only_prose_is_linked():
    untouched = [
        "# Gradient descent\n",
        "(sec-gradient)=\n",
        "```python\ngradient = 1\n```\n",
        "````{exercise} The gradient ★☆☆\n:label: ex-gradient\n````\n",
        "```{math}\n\\text{gradient}\n```\n",
        "use `gradient(f)` here",
        "$$\n\\text{gradient}\n$$",
        "the $\\text{gradient}$",
        "[the gradient](https://example.org/gradient)",
        "{ref}`the gradient <sec-gradient>`",
        "<!-- gradient -->",
    ]
    for text in untouched:
        assert linked(text) == text, text
    # the body of an exercise or an admonition is prose; an admonition's title is not
    assert linked("```{admonition} Why the gradient\nthe gradient\n```\n") == (
        "```{admonition} Why the gradient\nthe {term}`gradient`\n```\n")


def test_an_earlier_link_counts_and_linking_twice_changes_nothing():
    text = "A {term}`weight <weight>` here, a weight there, then gradients."
    assert linked(text) == "A {term}`weight <weight>` here, a weight there, then {term}`gradients <gradient>`."
    assert linked(linked(text)) == linked(text)


@pytest.mark.parametrize("path", gl.chapter_files(), ids=lambda p: p.name)
def test_each_chapter_links_the_first_use_of_every_glossary_term(path):
    """Fails when a chapter uses a term in its prose before linking it (or never
    links it). Fix: `python -m nbtests.glossary_links --write <chapter>`."""
    _, changes = gl.linked_file(path, TERMS)
    missing = [new for old, new in changes if old != new]
    assert not missing, (f"{path.name}: first uses of glossary terms are not linked; run "
                         f"`python -m nbtests.glossary_links --write {path.relative_to(BOOK)}`")


def test_every_term_link_names_a_glossary_term():
    known = {t.lower() for t in TERMS}
    for path in [*gl.chapter_files(), gl.GLOSSARY]:
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        targets = {(m.group(1) or m.group(2)).strip() for m in gl.TERM_ROLE.finditer(text)}
        assert {t for t in targets if t.lower() not in known} == set(), f"{path.name}: links to unknown terms"


# --- exercises: a difficulty mark on every title, a pen-and-paper exercise in every chapter ------

EXERCISE = re.compile(r"^(?:`{3,}|:{3,})\{exercise\}[ \t]*(.*)$", re.M)
MARKS = ("★☆☆", "★★☆", "★★★")


def exercise_titles(chapter: str) -> list[str]:
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    return [title.strip() for c in nb.cells if c.cell_type == "markdown" for title in EXERCISE.findall(c.source)]


def test_the_exercise_pattern_reads_titles():
    assert EXERCISE.findall("x\n````{exercise} ✎ Softplus ★☆☆\n:label: a\n````\n```{exercise}\n") == [
        "✎ Softplus ★☆☆", ""]


@pytest.mark.parametrize("chapter", numbered_chapters())
def test_every_exercise_title_ends_with_a_difficulty_mark(chapter):
    titles = exercise_titles(chapter)
    assert titles, f"{chapter}: no exercises"
    bad = [t for t in titles if not (t.endswith(MARKS) and t[:-3].strip())]
    assert not bad, f"{chapter}: exercise titles need a title and end in one of {MARKS}: {bad}"


@pytest.mark.parametrize("chapter", [c for c in numbered_chapters() if not c.startswith("chapters/00")])
def test_every_chapter_has_a_pen_and_paper_exercise(chapter):
    assert any(t.startswith("✎ ") for t in exercise_titles(chapter)), (
        f"{chapter}: no pen-and-paper exercise (a title starting with '✎ ')")


# --- Colab: the first code cell installs the book's package, on Colab only ----------------------

import colab_cell  # noqa: E402  (nbtests/colab_cell.py: the cell and the tool that inserts it)


@pytest.mark.parametrize("chapter", numbered_chapters())
def test_every_chapter_starts_its_code_with_the_colab_cell(chapter):
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == colab_cell.cell_source() and "remove-cell" in first.metadata.get("tags", []), (
        f"{chapter}: run `python -m nbtests.colab_cell --write {chapter}.ipynb`")
    assert first.outputs == [], f"{chapter}: the Colab cell printed something outside Colab"


def run_colab_cell(monkeypatch, on_colab: bool) -> list:
    """Run the cell with subprocess.run recorded instead of called; return the calls."""
    import os
    import subprocess
    import sys

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args[0]))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    if on_colab:
        monkeypatch.setitem(os.environ, "COLAB_RELEASE_TAG", "release-colab-test")
    exec(colab_cell.cell_source(), {"__name__": "__cell__"})
    return calls


def test_the_colab_cell_does_nothing_off_colab(monkeypatch, capsys):
    assert run_colab_cell(monkeypatch, on_colab=False) == []
    assert capsys.readouterr().out == ""


def test_the_colab_cell_installs_the_repository_on_colab(monkeypatch, capsys):
    import sys

    url = colab_cell.repository_url()
    assert url.startswith("https://github.com/")
    calls = run_colab_cell(monkeypatch, on_colab=True)
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", f"git+{url}"]]
    assert "restart" in capsys.readouterr().out


# --- math in JupyterLab: no book macro outside the macros cell -----------------------------------

import expand_macros  # noqa: E402  (nbtests/expand_macros.py: writes the macros out)


def test_expanding_a_macro_leaves_longer_commands_alone():
    macros = {"vw": "\\mathbf{w}", "R": "\\mathbb{R}"}
    assert expand_macros.expanded(r"$\vw^\top x \in \R^n \Rightarrow \vwx$", macros) == (
        r"$\mathbf{w}^\top x \in \mathbb{R}^n \Rightarrow \vwx$")


@pytest.mark.parametrize("chapter", numbered_chapters())
def test_chapter_markdown_writes_the_book_macros_out(chapter):
    """jupyterlab-myst typesets each markdown cell alone (KaTeX) and ignores the
    macros cell's \\def's, so $\\vw$ would be an error in JupyterLab."""
    nb = json.loads((BOOK / f"{chapter}.ipynb").read_text())
    used = expand_macros.uses(nb, expand_macros.book_macros())
    assert not used, f"{chapter} uses {used}: run `python -m nbtests.expand_macros --write {chapter}.ipynb`"


# --- code width: every line of code a reader sees fits the book's code block ---------------------

# The longest line of code the book shows without a sideways scrollbar. At a
# 1280 px window the HTML book's code block is 684 px wide: 84-88 characters at
# the book's code font. nnbook's own limit (ruff, 120) is for code no page shows.
CODE_WIDTH = 88
READER_HIDDEN = {"remove-cell", "remove-input"}  # hide-input cells are one click away: they count
PYTHON_FENCE = re.compile(r"^(`{3,})python[ \t]*\n(.*?)^\1[ \t]*$", re.M | re.S)  # a ```python block
LITERALINCLUDE = re.compile(r"^(`{3,}|:{3,})\{literalinclude\}[ \t]+(\S+)[ \t]*\n((?:[ \t]*:[\w-]+:.*\n?)*)", re.M)


def literalincluded_objects(chapter: str) -> list[tuple[str, str]]:
    """(path from the book's root, object name) of each ``{literalinclude}`` with
    ``:pyobject:``; any other option would show other lines, so it is refused."""
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in LITERALINCLUDE.finditer(cell.source):
            options = dict(re.findall(r":([\w-]+):[ \t]*(.*)", match.group(3)))
            assert set(options) == {"pyobject"}, (
                f"{chapter}: literalinclude {match.group(2)} with options {sorted(options)}; "
                "this test reads only :pyobject:")
            path = (BOOK / chapter).parent.joinpath(match.group(2)).resolve().relative_to(BOOK.resolve())
            found.append((str(path), options["pyobject"]))
    return found


def object_lines(path: str, name: str) -> tuple[int, list[str]]:
    """The first line number and the lines of a module's top-level function or
    class, decorators included (what Sphinx's :pyobject: shows)."""
    source = (BOOK / path).read_text()
    tree = ast.parse(source)
    nodes = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
             and n.name == name]
    assert nodes, f"{path} has no top-level function or class {name}"
    node = nodes[-1]
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return start, source.splitlines()[start - 1 : node.end_lineno]


def test_the_literalinclude_pattern_reads_the_object_and_its_lines():
    assert LITERALINCLUDE.findall("x\n```{literalinclude} ../nnbook/mlp.py\n:pyobject: train\n```\n") == [
        ("```", "../nnbook/mlp.py", ":pyobject: train\n")]
    start, lines = object_lines("nnbook/mlp.py", "train")
    assert lines[0].startswith(("def train(", "@")) and lines[-1].strip() and start > 1


@pytest.mark.parametrize("chapter", numbered_chapters())
def test_code_a_reader_sees_fits_88_columns(chapter):
    """Every line of a shown code cell, of a python block in the prose (the
    exercises' solutions) and of each literalincluded nnbook object fits
    CODE_WIDTH characters. Fix: rewrap it by hand (not ruff format)."""
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    too_long = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or READER_HIDDEN & set(cell.metadata.get("tags", [])):
            continue
        for number, line in enumerate(cell.source.splitlines(), 1):
            if len(line) > CODE_WIDTH:
                too_long.append(f"cell {index} line {number} ({len(line)} chars): {line.strip()[:60]}")
    for index, cell in enumerate(nb.cells):  # code in the prose: the exercises' solutions
        if cell.cell_type != "markdown":
            continue
        for block in PYTHON_FENCE.finditer(cell.source):
            for number, line in enumerate(block.group(2).splitlines(), 1):
                if len(line) > CODE_WIDTH:
                    too_long.append(f"markdown cell {index}, python block line {number} ({len(line)} chars): "
                                    f"{line.strip()[:60]}")
    for path, name in literalincluded_objects(chapter):
        start, lines = object_lines(path, name)
        for number, line in enumerate(lines, start):
            if len(line) > CODE_WIDTH:
                too_long.append(f"{path}:{number} in {name} ({len(line)} chars): {line.strip()[:60]}")
    assert not too_long, (f"{chapter}: {len(too_long)} lines of shown code are longer than {CODE_WIDTH} "
                          "characters:\n" + "\n".join(too_long))
