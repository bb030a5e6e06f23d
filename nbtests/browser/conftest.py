"""Browser tests: the built book and the live notebooks, as a reader gets them.

They drive Debian's chromium (/usr/bin/chromium) with Playwright for Python;
Playwright's own browser downloads are never used. `make test-browser` installs
what they need (chromium with apt when missing, npm packages) and runs them
after `make book`; `make test` runs them last.

Where chromium is missing (and cannot be installed without root), the tests
say so and are skipped; under CI=true they fail instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import threading

import pytest

from browser_support import (  # noqa: E402 - this folder is on sys.path (pytest rootdir-less import)
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    HTML,
    LIVE_SLIDERS,
    PAGE_WEIGHTS,
    ROOT,
    SCREENSHOTS,
    STORED_VIEWS,
    TIMEOUT_MS,
)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        message = (
            f"No chromium at {CHROMIUM}: the browser tests need Debian's chromium "
            "('make browser-deps' installs it with apt-get as root)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " Under CI=true the browser tests must run.")
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives chromium a fresh, temporary --user-data-dir; each page
        # also gets a new context (no cache, no storage shared between pages).
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def site():
    """The built book served from a local http.server on a free port."""
    if not (HTML / "index.html").exists():
        pytest.fail("The book is not built: run 'make book' first (make test does).")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def screenshots() -> pathlib.Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def axe_source() -> pathlib.Path:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS.relative_to(ROOT)} is missing: run 'npm ci' (make browser-deps does).")
    return AXE_JS


def pytest_terminal_summary(terminalreporter):
    if PAGE_WEIGHTS:
        terminalreporter.section("page weight (the page and everything it loads)")
        for name, (size, count) in sorted(PAGE_WEIGHTS.items()):
            terminalreporter.write_line(f"{name:40s} {size / 1e6:6.2f} MB in {count:3d} files")
    if LIVE_SLIDERS:
        terminalreporter.section("live sliders moved in JupyterLab")
        for name, what in LIVE_SLIDERS.items():
            terminalreporter.write_line(f"{name:40s} {what}")
    if STORED_VIEWS:
        terminalreporter.section("interactive figures in JupyterLab before Run All (stored outputs)")
        for name, what in STORED_VIEWS.items():
            terminalreporter.write_line(f"{name:40s} {what}")
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"screenshots: {SCREENSHOTS.relative_to(ROOT)}/")

