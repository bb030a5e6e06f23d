"""Constants and shared state of the browser tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import urllib.request

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = pathlib.Path(os.environ.get("NNBOOK_CHROMIUM", "/usr/bin/chromium"))
# As root, in a sandbox with no network: without the background-networking
# flags chromium keeps opening connections that the machine refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Every wait in these tests is bounded by this (ms) unless it says otherwise.
TIMEOUT_MS = 20_000


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def toc_chapters() -> list[str]:
    """The notebook chapters (the back matter's FAQ and glossary are plain pages)."""
    return [name for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


# --- JupyterLab (one server per session: browser/conftest.py) ------------------------------

START_TIMEOUT = 90  # s, for the server to answer
SETTINGS = {
    # Never write the notebook back (the copy is thrown away anyway).
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # Every cell in the DOM, so the test can see every prompt and output.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # No news or update checks (no network here; no pop-up over the page).
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_get(url: str, token: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None



def interactive_cells(chapter: str) -> int:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("interactive_figure("))


def lab_chapters() -> list[str]:
    """The chapters whose live sliders the JupyterLab test moves. All of them
    under NNBOOK_LAB_CHAPTERS=all (e.g. `make test-browser NNBOOK_LAB_CHAPTERS=all`);
    by default two that stand for the rest: the first chapter of the toc with an
    interactive figure and the one with the most (most widget views in one
    page). What the others would add is checked for every chapter without a
    browser (test_jupyterlab.py: strict nbval runs every cell, the stored
    outputs and widget states are those JupyterLab was seen to render)."""
    chapters = [c for c in toc_chapters() if interactive_cells(c)]
    if os.environ.get("NNBOOK_LAB_CHAPTERS", "") == "all" or not chapters:
        return chapters
    most = max(chapters, key=interactive_cells)
    return list(dict.fromkeys([chapters[0], most]))


# Filled by the tests, printed at the end of the run (conftest.pytest_terminal_summary).
PAGE_WEIGHTS: dict[str, tuple[int, int]] = {}
LIVE_SLIDERS: dict[str, str] = {}
STORED_VIEWS: dict[str, str] = {}  # what JupyterLab shows for the figures of a notebook not yet run
