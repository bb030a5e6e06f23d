"""Write the book's math macros out in the chapters' markdown.

    python -m nbtests.expand_macros --write [chapters ...]   # default: every notebook of _toc.yml

The HTML book defines macros such as ``\\vw`` (``mathjax3_config`` in
_config.yml), and each chapter's first, hidden cell defines them again with
``\\def`` for Jupyter. jupyterlab-myst (which renders the markdown in
JupyterLab and on Binder) typesets each cell on its own with KaTeX and does
not see that cell's ``\\def``s, so ``$\\vw$`` shows as an error there.
This replaces each macro by its definition (``\\vw`` -> ``\\mathbf{w}``) in
every markdown cell but the macros cell; the page looks the same. Only
markdown changes; code cells and outputs are written back as they were.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import yaml

BOOK = pathlib.Path(__file__).resolve().parents[1]
MACROS_TAG = "nnbook-macros"


def book_macros() -> dict[str, str]:
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    return dict(config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


def expanded(text: str, macros: dict[str, str]) -> str:
    """``text`` with every ``\\name`` of a macro (not followed by a letter) replaced by its definition."""
    pattern = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    return pattern.sub(lambda m: macros[m.group(1)], text)


def uses(nb: dict, macros: dict[str, str]) -> list[str]:
    """The macro names the notebook's markdown (outside the macros cell) still uses."""
    pattern = re.compile(r"\\(" + "|".join(map(re.escape, macros)) + r")(?![A-Za-z])")
    return sorted({m for c in nb["cells"] if c["cell_type"] == "markdown"
                   and MACROS_TAG not in c.get("metadata", {}).get("tags", [])
                   for m in pattern.findall("".join(c["source"]))})


def shown(path: pathlib.Path) -> str:
    return str(path.relative_to(BOOK)) if path.is_relative_to(BOOK) else str(path)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(BOOK / "nbtests"))
    from colab_cell import chapters

    write = "--write" in argv
    paths = [pathlib.Path(a).resolve() for a in argv if a != "--write"] or chapters()
    macros, stale = book_macros(), 0
    for path in paths:
        nb = json.loads(path.read_text())
        changed = False
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown" or MACROS_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            old = "".join(cell["source"])
            new = expanded(old, macros)
            if new != old:
                cell["source"], changed = new.splitlines(True), True
        if changed:
            stale += 1
            print(f"{shown(path)}: macros {'written out' if write else 'to write out'}")
            if write:
                path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    return 0 if write or not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
