import os

# Tests run on the CPU, like the chapters (JAX otherwise probes for accelerators).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


import warnings  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def float64_and_no_warnings():
    """The chapters run in 64-bit floats, and a reader must never see an
    overflow or NaN warning: inside this fixture any warning fails the test.
    Test modules opt in with ``pytestmark = pytest.mark.usefixtures(...)``."""
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- the chapters' own code, run once per session -------------------------------------------
# Claim tests read the chapter's variables from its namespace (chapter_code.py
# executes the notebook's code cells): they never rebuild a chapter's data or
# keys themselves, so the page and the test cannot drift apart.

from chapter_code import run_chapter, run_solution, solution_blocks  # noqa: E402

_namespaces: dict[str, dict] = {}


def chapter_namespace(name: str) -> dict:
    """The namespace after the chapter's code cells; each chapter runs once per
    pytest session (in 64-bit floats, as the chapters set). Treat it as
    read-only: solutions run in a copy (see ``solve``)."""
    if name not in _namespaces:
        with jax.enable_x64(True):
            _namespaces[name] = run_chapter(name)
    return _namespaces[name]


def solve_in(name: str, label: str) -> tuple[dict, str]:
    """Run the code of one exercise solution of chapter ``name`` after the
    chapter's cells, in a copy of its namespace (so one solution cannot change
    what another test reads). Returns (namespace, what it printed)."""
    namespace = dict(chapter_namespace(name))
    with jax.enable_x64(True):
        printed = run_solution(namespace, solution_blocks(name)[label])
    return namespace, printed


@pytest.fixture
def chapter_of():
    """``chapter_of(name)``: the namespace of any chapter (run once per session)."""
    return chapter_namespace


@pytest.fixture
def solution_of():
    """``solution_of(name, label) -> (namespace, printed)`` for any chapter."""
    return solve_in


@pytest.fixture
def chapter(request):
    """The namespace of the test module's chapter (its ``CHAPTER`` constant)."""
    return chapter_namespace(request.module.CHAPTER)


@pytest.fixture
def solve(request):
    """``solve(label) -> (namespace, printed)`` for the test module's chapter."""
    return lambda label: solve_in(request.module.CHAPTER, label)
