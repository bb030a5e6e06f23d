"""Whole-book timings in the bench's copy of the working tree, each from an
empty _build (empty execution and JAX caches, like a fresh clone; venv and
npm packages installed):

* book: cold ``make book``, then a no-change rebuild, ``repeat`` times;
* stages: the stages of ``make test`` one after another from an empty _build,
  as ``make test`` runs them (nbval fills the JAX cache the book build reuses).
"""

from __future__ import annotations

import shutil

from benchmarks.common import log, make

# What `make test` runs, in its order (see the Makefile).
TEST_STAGES = ("lint", "nbval", "book", "unit", "test-browser")


def book(copy, flags, repeat: int) -> dict:
    runs = {"cold": [], "no_change": []}
    for r in range(repeat):
        shutil.rmtree(copy / "_build", ignore_errors=True)
        for kind, results in runs.items():
            log(f"  make book, {kind} ({r + 1}/{repeat})")
            results.append(make(copy, flags, "book", f"book-{kind}-{r + 1}"))
    return runs


def stages(copy, flags) -> dict:
    shutil.rmtree(copy / "_build", ignore_errors=True)
    out = {}
    for stage in TEST_STAGES:
        log(f"  make {stage}")
        out[stage] = make(copy, flags, stage, f"stage-{stage}")
    return out
