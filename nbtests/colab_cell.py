"""The first code cell of every chapter: on Colab, install the book's package.

Colab does not read requirements.txt, so a chapter opened there lacks
``nnbook`` (and may lack a dependency). The first code cell of each chapter
installs the repository as a package, with the dependencies pyproject.toml
declares, when, and only when, it runs on Colab. Elsewhere (Binder, a local
Jupyter, nbval, the book build) it does nothing and prints nothing, and the
tag ``remove-cell`` keeps it out of the HTML page.

The cell's source is made here, from the repository URL in _config.yml (the
one place it is set), and written into the chapters by

    python -m nbtests.colab_cell --write [chapters ...]    # default: every chapter of _toc.yml

nbtests/test_book_sources.py checks that every chapter's first code cell is
this one; ``make check-install`` (benchmarks/venv_checks.py install) runs it
in a fresh venv, without and then with the Colab marker set. Standard library only (the venv check
runs it with the system python).
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

BOOK = pathlib.Path(__file__).resolve().parents[1]
TAG = "colab-install"
TAGS = ["remove-cell", TAG]

TEMPLATE = '''\
# On Colab only: install this book's package (nnbook) and its dependencies.
import os
import sys

if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
    import subprocess

    book_package = {target}
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", book_package], check=True)
    print("Installed nnbook. If pip upgraded jax or numpy, restart the session and run all cells again.")'''


def repository_url(config: pathlib.Path = BOOK / "_config.yml") -> str:
    """``repository: url:`` of _config.yml, the URL every launch button uses."""
    match = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*(\S+)", config.read_text(), re.M)
    if not match:
        raise ValueError(f"{config}: no repository: url: setting")
    return match.group(1).strip("\"'")


def cell_source(target: str | None = None) -> str:
    """The cell; ``target`` is what pip installs (default ``git+<repository URL>``)."""
    return TEMPLATE.format(target=json.dumps(target or f"git+{repository_url()}"))


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def with_colab_cell(nb: dict) -> bool:
    """Put the cell first among the code cells of a notebook (as JSON); True if it changed."""
    source = cell_source()
    first = first_code_cell(nb)
    if first is not None and TAG in first.get("metadata", {}).get("tags", []):
        if "".join(first["source"]) == source and first["metadata"]["tags"] == TAGS:
            return False
        first["source"], first["metadata"]["tags"], first["outputs"] = source.splitlines(True), TAGS, []
        return True
    cell = {"cell_type": "code", "execution_count": None, "id": "colab-install",
            "metadata": {"tags": TAGS}, "outputs": [], "source": source.splitlines(True)}
    if nb.get("nbformat_minor", 0) < 5:
        del cell["id"]
    at = nb["cells"].index(first) if first is not None else len(nb["cells"])
    nb["cells"].insert(at, cell)
    return True


def chapters() -> list[pathlib.Path]:
    """Every notebook of _toc.yml (the `file:` entries that are .ipynb files)."""
    names = re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", (BOOK / "_toc.yml").read_text(), re.M)
    return [BOOK / f"{n}.ipynb" for n in names if (BOOK / f"{n}.ipynb").exists()]


def shown(path: pathlib.Path) -> str:
    return str(path.relative_to(BOOK)) if path.is_relative_to(BOOK) else str(path)


def main(argv: list[str]) -> int:
    write = "--write" in argv
    paths = [pathlib.Path(a).resolve() for a in argv if a != "--write"] or chapters()
    stale = []
    for path in paths:
        nb = json.loads(path.read_text())
        if with_colab_cell(nb):
            stale.append(path)
            if write:  # the layout nbformat writes, so only this cell shows in a diff
                path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
        state = "ok" if path not in stale else "updated" if write else "stale"
        print(f"{shown(path)}: {state}")
    return 0 if write or not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
