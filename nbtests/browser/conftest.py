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
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error

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
    SETTINGS,
    START_TIMEOUT,
    STORED_VIEWS,
    TIMEOUT_MS,
    api_get,
    free_port,
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


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """One JupyterLab server from the project's venv for the whole session
    (every chapter opened in it gets a kernel of its own, shut down after
    it); yields (base_url, token). test_jupyterlab.py's ``lab`` hands it on."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "book"
    shutil.copytree(ROOT / "chapters", root / "chapters", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path, value in SETTINGS.items():
        target = home / "settings" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: only read, to see the kernel is up
    ]
    if os.geteuid() == 0:  # CI and this sandbox run as root; Binder does not
        command.append("--allow-root")
    log_path = home / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def log_tail() -> str:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])

    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_tail()}")
            try:
                api_get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{log_tail()}")
                time.sleep(0.3)
        yield base, token
    finally:
        # SIGTERM: jupyter_server shuts its kernels down, then exits. The
        # group also holds the kernels, should one outlive the server.
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


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

