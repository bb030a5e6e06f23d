"""Checks of the book's sources that need no build: nnbook modules import only
what earlier chapters taught, and every glued number is used by the prose."""

import ast
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
            if node.module == "nnbook":
                found |= {alias.name for alias in node.names}
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
