"""nnbook's compiler flags (nnbook/__init__.py): set before JAX computes, in
every chapter, and only on the jaxlib the book is tested with; the programs
that run long compiled with LLVM's optimisations all the same.

XLA reads XLA_FLAGS once, when JAX first computes; a chapter that computed
before importing nnbook would compile without the flags (slower) and round a
few last bits differently from its stored outputs. Each chapter's setup cells
(the cells up to its first import of nnbook) run here in a fresh Python, as a
reader's fresh kernel runs them.
"""

import os
import re
import subprocess
import sys

import pytest

import nnbook
from chapter_code import CHAPTERS, toc_files

CHAPTER_FILES = [f.removeprefix("chapters/") + ".ipynb" for f in toc_files() if re.fullmatch(r"chapters/\d\d_\w+", f)]


def setup_cells(chapter: str) -> str:
    """The chapter's code cells up to and including the first that imports nnbook."""
    import nbformat

    nb = nbformat.read(CHAPTERS / chapter, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    first = next(i for i, source in enumerate(code) if re.search(r"^\s*(from|import) nnbook\b", source, re.M))
    return "\n".join(code[: first + 1])


def run_fresh(code: str, xla_flags: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=CHAPTERS, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_chapters_are_found():
    assert len(CHAPTER_FILES) == 8 and all((CHAPTERS / c).is_file() for c in CHAPTER_FILES)


@pytest.mark.parametrize("chapter", CHAPTER_FILES)
def test_each_chapter_sets_the_flag_before_jax_computes(chapter):
    # The setup cells may compute (chapter 7 loads a model); what matters is
    # that nnbook saw JAX not started yet, and XLA got the flag.
    probe = "\nimport os, nnbook\nprint(nnbook.fast_compile, os.environ.get('XLA_FLAGS', ''))\n"
    last_line = run_fresh(setup_cells(chapter) + probe).splitlines()[-1]  # the cells may print too
    assert last_line.split() == ["True", *nnbook.FAST_COMPILE_FLAGS]


def test_a_readers_own_choice_wins_and_jax_started_first_is_reported():
    probe = "import os, nnbook; print(nnbook.fast_compile, os.environ.get('XLA_FLAGS', ''))"
    assert run_fresh(probe, "--xla_cpu_use_fusion_emitters=true").split() == [
        "False", "--xla_cpu_use_fusion_emitters=true"]
    assert run_fresh(probe, "--xla_backend_optimization_level=3").split() == [
        "False", "--xla_backend_optimization_level=3"]
    assert run_fresh(probe, "--xla_dump_hlo_as_text").split() == [
        "True", "--xla_dump_hlo_as_text", *nnbook.FAST_COMPILE_FLAGS]
    started_first = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()\n" + probe
    assert run_fresh(started_first).split() == ["False"]


def test_the_flag_is_for_the_pinned_jaxlib():
    # A flag XLA does not know stops the process: the guard must name the
    # jaxlib that requirements.txt pins (and so nbval, CI and Binder run).
    pins = dict(re.findall(r"^(jax|jaxlib)==(\S+)", (CHAPTERS.parent / "requirements.txt").read_text(), re.M))
    assert pins["jaxlib"].startswith(nnbook.TESTED_JAXLIB) and pins["jax"].startswith(nnbook.TESTED_JAXLIB)
    assert nnbook.fast_compile  # this test process imported nnbook (conftest) before JAX computed



def test_the_optimised_programs_options_are_ones_xla_knows():
    # An option XLA does not know fails the compile: every OPTIMISED program
    # would fail, not just run slowly. (How much faster they run is measured in
    # benchmarks/, not asserted here.)
    import jax
    import jax.numpy as jnp

    compiled = jax.jit(lambda x: x * 2.0 + 1.0, compiler_options=nnbook.OPTIMISED).lower(jnp.ones(3)).compile()
    assert compiled(jnp.ones(3)).tolist() == [3.0, 3.0, 3.0]
