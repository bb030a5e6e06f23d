import os

# Tests run on the CPU, like the chapters (JAX otherwise probes for accelerators).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


import warnings  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

# nnbook sets XLA_FLAGS before JAX first computes (nnbook/__init__.py): the
# tests compile as the chapters do, and compute the same last bits.
import nnbook  # noqa: E402, F401


@pytest.fixture
def float64_and_no_warnings():
    """The chapters run in 64-bit floats, and a reader must never see an
    overflow or NaN warning: inside this fixture any warning fails the test.
    Test modules opt in with ``pytestmark = pytest.mark.usefixtures(...)``."""
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- Helpers shared by the figure tests (test_*_figures.py, test_sliders.py) -----------------
# Imported by name (``from conftest import ...``): pytest puts nbtests/ on sys.path.


def live_lines(live) -> dict:
    """The data of every line a live figure shows now, as copies."""
    return {name: (line.get_xdata().copy(), line.get_ydata().copy()) for name, line in live.lines.items()}


def static_data(spec):
    """The static face of ``spec`` and the JSON its page script reads."""
    import json

    from bs4 import BeautifulSoup

    from nnbook.sliders import static_figure

    fig = static_figure(spec)
    soup = BeautifulSoup(fig.html, "html.parser")
    return fig, json.loads(soup.find("script", type="application/json").string)


def check_extremes_draw(live) -> None:
    """Every slider at both ends of its live range, one after the other: no
    "cannot draw" note, every drawn number finite (a warning fails the test
    under ``float64_and_no_warnings``)."""
    import numpy as np

    for control in live.spec.controls:
        lo, hi, _ = control.live
        for value in (lo, hi):
            live.update(**{control.name: value})
            assert "cannot draw" not in live.note.get_text(), (control.name, value, live.note.get_text())
            for line in live.lines.values():
                assert np.all(np.isfinite(line.get_xydata())), (control.name, value)
        live.update(**{control.name: control.initial})


def check_faces_start_at_initial(spec) -> None:
    """Both faces of ``spec``, shown by one ``interactive_figure``, start at the
    spec's initial values exactly, and show the frame of those values."""
    import numpy as np
    from bs4 import BeautifulSoup

    from nnbook.sliders import checked_frame, interactive_figure

    figure = interactive_figure(spec)
    live, static = figure.live, figure.static
    initial = spec.initial_params()
    # the live face: every slider's value is the initial value, bit for bit
    assert {name: slider.value for name, slider in live.sliders.items()} == initial
    expected, note = checked_frame(spec, initial)
    for name, line in live.lines.items():
        want = expected.get(name, (np.empty(0), np.empty(0)))
        np.testing.assert_array_equal(line.get_xdata(), want[0])
        np.testing.assert_array_equal(line.get_ydata(), want[1])
    assert live.note.get_text() == note
    # the static face: each range input starts at the grid index of the initial value...
    soup = BeautifulSoup(static.html, "html.parser")
    inputs = soup.find_all("input", type="range")
    moving = [c for c in spec.controls if len(c.grid) > 1]
    assert [c.grid[int(i["value"])] for c, i in zip(moving, inputs, strict=True)] == [c.initial for c in moving]
    # ...the markup already draws that frame, and the frame is the frame function's at the initial values
    (params, lines, static_note), = [f for f in static.frames if f[0] == initial]
    assert static_note == note
    for name in spec.styles:
        got = lines.get(name, (np.empty(0), np.empty(0)))
        want = expected.get(name, (np.empty(0), np.empty(0)))
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    index = static._initial_index()
    polylines = soup.find_all("polyline")
    assert [p["points"] for p in polylines] == static.data["frames"][index]["lines"]
    assert soup.find("text", class_="nnbook-note").get_text() == note

# --- the chapters' own code, run once per session -------------------------------------------
# Claim tests read the chapter's variables from its namespace (chapter_code.py
# executes the notebook's code cells): they never rebuild a chapter's data or
# keys themselves, so the page and the test cannot drift apart.

from chapter_code import code_cells, run_chapter, run_solution, solution_blocks  # noqa: E402


def uses_x64(name: str) -> bool:
    """Whether the chapter switches 64-bit floats on, read from its own cells.
    The switch is global, so a chapter that stays in 32 bits (06, 07) must be
    run with it explicitly off, or it would inherit it from an earlier one."""
    return any('jax.config.update("jax_enable_x64", True)' in source for source in code_cells(name))


def chapter_namespace(name: str) -> dict:
    """The namespace after the chapter's code cells; each chapter runs once per
    pytest session, in the float precision the chapter sets. Treat it as
    read-only: solutions run in a copy (see ``solve``)."""
    with jax.enable_x64(uses_x64(name)):
        return run_chapter(name)


def solve_in(name: str, label: str) -> tuple[dict, str]:
    """Run the code of one exercise solution of chapter ``name`` after the
    chapter's cells, in a copy of its namespace (so one solution cannot change
    what another test reads). Returns (namespace, what it printed)."""
    namespace = dict(chapter_namespace(name))
    with jax.enable_x64(uses_x64(name)):
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


# --- `make unit` on several cores (pytest-xdist, --dist loadgroup) ---------------------------
# Running a chapter is the expensive part of a claim test, so the tests that
# read a chapter's namespace go to one worker per chapter, which runs that
# chapter once (chapter_code.run_chapter); the other tests (nnbook's unit tests,
# checks of the built book) go to whichever worker is free.

import functools  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402


@functools.cache
def chapter_group(module_path: str) -> str | None:
    """The chapter a test module tests: its ``CHAPTER``, else the one chapter
    file its source names (a module that runs a chapter itself), else None."""
    path = pathlib.Path(module_path)
    source = path.read_text() if path.suffix == ".py" and path.is_file() else ""
    if chapter := re.search(r'^CHAPTER = "(\d\d_\w+\.ipynb)"', source, re.M):
        return chapter.group(1)
    named = set(re.findall(r"\b\d\d_\w+\.ipynb\b", source))
    return named.pop() if len(named) == 1 else None


# The scheduler of `make unit` (`--dist loadgroup`): every test of a module that
# tests a chapter goes to the worker that runs that chapter, as one unit; every
# other test goes to whichever worker is free. This replaces xdist's own
# loadgroup, which reads "@group" suffixes that pytest 9.2's node ids no longer
# carry (xdist 3.8 sets item._nodeid, which pytest now ignores): with it, the
# tests of a chapter were spread over both workers and each ran the chapter.
# nbtests/test_xdist_groups.py checks where the tests go.
@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ChapterScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::")[0]
            return chapter_group(str(config.rootpath / module)) or nodeid

    return ChapterScheduling(config, log)
