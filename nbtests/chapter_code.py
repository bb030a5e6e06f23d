"""Run a chapter's code in-process, to test what its prose and solutions claim.

The notebook is the source: tests execute its code cells (and the code of its
exercise solutions, which live in markdown) instead of copying them.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import matplotlib
import nbformat

CHAPTERS = pathlib.Path(__file__).resolve().parents[1] / "chapters"

# Cells that only display an interactive figure: slow in-process and tested
# elsewhere (test_descent_figures.py, nbval).
_DISPLAY_ONLY = re.compile(r"^\s*interactive_figure\(")


def toc_files() -> list[str]:
    """Every file of _toc.yml in reading order (root first), as paths from the book's root."""
    import yaml

    toc = yaml.safe_load((CHAPTERS.parent / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def code_cells(chapter: str) -> list[str]:
    nb = nbformat.read(CHAPTERS / chapter, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and not _DISPLAY_ONLY.match(c.source)]


def solution_blocks(chapter: str) -> dict[str, str]:
    """The python code of each ``{solution} label`` block, by exercise label."""
    nb = nbformat.read(CHAPTERS / chapter, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    blocks = {}
    for match in re.finditer(r"````\{solution\} (\S+)\n(.*?)````", text, re.S):
        code = re.findall(r"```python\n(.*?)```", match.group(2), re.S)
        blocks[match.group(1)] = "\n".join(code)
    return blocks


_RUNS: dict[tuple[str, bool], dict] = {}


def run_chapter(chapter: str) -> dict:
    """Execute the chapter's code cells in one namespace and return it; once
    per process and float precision (64-bit floats on or off at the call):
    every test module of a chapter reads the same run, so a pytest session
    executes each chapter once. Treat the namespace as read-only."""
    import jax.numpy as jnp

    key = (str(chapter), jnp.asarray(0.0).dtype == jnp.float64)
    if key not in _RUNS:
        _RUNS[key] = execute_chapter(chapter)
    return _RUNS[key]


def execute_chapter(chapter: str, show_figure=None) -> dict:
    """Run the chapter's code cells top to bottom in one namespace (matplotlib
    on Agg, printed output discarded) and return the namespace.

    A cell that only displays an interactive figure is skipped, or, given
    ``show_figure``, run with its display function bound to ``show_figure``,
    which receives exactly what the chapter passes (``figure_specs``).
    ``chapter`` is a file name in chapters/ or a path to a notebook."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(CHAPTERS / chapter, as_version=4)
    namespace: dict = {"__name__": "__chapter__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            display = _DISPLAY_ONLY.match(cell.source)
            if not display:
                exec(compile(cell.source, str(chapter), "exec"), namespace)
            elif show_figure is not None:  # e.g. "static_figure(" -> static_figure = show_figure
                overlay = {**namespace, display.group(0).strip().rstrip("("): show_figure}
                exec(compile(cell.source, str(chapter), "exec"), overlay)
            plt.close("all")
    return namespace


def figure_specs(chapter: str) -> tuple[dict, list]:
    """The chapter's namespace and the figure specs its cells display, in
    page order, one per spec name (``make bench`` measures them)."""
    specs: dict = {}
    namespace = execute_chapter(chapter, lambda spec, *args, **kwargs: specs.setdefault(spec.name, spec))
    return namespace, list(specs.values())


def run_solution(namespace: dict, code: str) -> str:
    """Execute solution code in the chapter's namespace; return what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "solution", "exec"), namespace)
    return out.getvalue()
