"""`make unit` runs each chapter once per worker that asks for it, so the tests
of a chapter's module must all be scheduled on one worker (the scheduler in
nbtests/conftest.py). This runs a small pytest session on two workers and
checks where the tests went: xdist's plain load scheduling would send the first
tests to both workers."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("xdist")

PROBE = textwrap.dedent('''
    import json, os
    import pytest

    CHAPTER = "01_neurons.ipynb"

    @pytest.mark.parametrize("k", range(12))
    def test_reads_the_chapter(chapter_of, k, request):
        with open(os.environ["PROBE_OUT"], "a") as out:
            out.write(json.dumps([request.node.nodeid, os.environ.get("PYTEST_XDIST_WORKER")]) + "\\n")
''')


def test_a_chapters_tests_share_one_worker(tmp_path):
    probe = tmp_path / "test_probe_groups.py"
    probe.write_text(PROBE)
    out = tmp_path / "seen.jsonl"
    nbtests = os.path.dirname(__file__)
    # the probe runs with this folder's conftest.py (its fixtures and hooks)
    target = os.path.join(nbtests, "test_zz_probe_groups.py")
    os.replace(probe, target)
    try:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        "--dist", "loadgroup", target], check=True, capture_output=True,
                       env=os.environ | {"PROBE_OUT": str(out)}, cwd=os.path.dirname(nbtests))
    finally:
        os.remove(target)
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(seen) == 12
    assert len({worker for _, worker in seen}) == 1, seen
