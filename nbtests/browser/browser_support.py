"""Constants and shared state of the browser tests (imported by conftest and the tests)."""

from __future__ import annotations

import os
import pathlib

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


# Filled by the tests, printed at the end of the run (conftest.pytest_terminal_summary).
PAGE_WEIGHTS: dict[str, tuple[int, int]] = {}
LIVE_SLIDERS: dict[str, str] = {}
STORED_VIEWS: dict[str, str] = {}  # what JupyterLab shows for the figures of a notebook not yet run
