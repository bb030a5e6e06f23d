"""`make nbval` hands the chapters to its workers longest stored run first
(benchmarks.common.longest_first), so the longest chapter does not start last
and run alone."""

import json
import pathlib
import sys

from chapter_code import CHAPTERS

sys.path.insert(0, str(CHAPTERS.parent))
from benchmarks.common import longest_first, stored_run_seconds  # noqa: E402


def notebook(path, *spans):
    """A notebook whose cells ran over the given (start, end) seconds past 12:00:00."""
    def stamp(t):
        return f"2026-12-03T12:00:{t:06.3f}Z"
    cells = [{"cell_type": "code", "source": "", "outputs": [], "execution_count": None,
              "metadata": {"execution": {"iopub.execute_input": stamp(a), "shell.execute_reply": stamp(b)}}}
             for a, b in spans]
    cells.append({"cell_type": "markdown", "source": "", "metadata": {}})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return str(path)


def test_the_run_is_first_start_to_last_reply(tmp_path):
    assert stored_run_seconds(pathlib.Path(notebook(tmp_path / "a.ipynb", (1.5, 2.0), (2.25, 9.75)))) == 8.25


def test_longest_first_and_untimed_last(tmp_path):
    short = notebook(tmp_path / "short.ipynb", (0, 3))
    long = notebook(tmp_path / "long.ipynb", (0, 1), (1, 30))
    untimed = notebook(tmp_path / "untimed.ipynb")
    assert longest_first([untimed, short, long]) == [long, short, untimed]


def test_every_chapter_stores_its_timing():
    # nbclient records it when `make outputs` executes a chapter; a chapter
    # stored without it would be handed out last, however long it runs.
    for chapter in sorted(CHAPTERS.glob("*.ipynb")):
        assert stored_run_seconds(chapter) > 0, chapter.name
