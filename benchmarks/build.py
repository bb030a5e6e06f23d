"""Whole-book timings, each in a throw-away copy of the working tree (see
``common.repo_copy``) so that it starts cold and the developer's ``_build``
survives:

* cold ``make book``: empty ``_build``, so an empty execution cache (every
  chapter executes) and an empty JAX compilation cache;
* no-change rebuild: ``make book`` again right after, nothing edited;
* strict nbval per chapter: ``make nbval CHAPTERS=<one chapter>`` (the
  Makefile's own flags), with the JAX compilation cache emptied first (cold)
  and then again (warm);
* ``make test``: once, from an empty ``_build``, with the venv (and
  node_modules) already installed.
"""

from __future__ import annotations

import pathlib
import shutil

from benchmarks.common import ROOT, failure, log, make, median


def _prepare(copy: pathlib.Path) -> list[str]:
    """Share installed tools with the copy; return make flags that stop make
    from reinstalling them (it must never write into the developer's tools)."""
    flags = []
    if (ROOT / "node_modules").is_dir() and not (copy / "node_modules").exists():
        (copy / "node_modules").symlink_to(ROOT / "node_modules")
        flags += ["-o", "node_modules/.package-lock.json"]
    return flags


def book(copy: pathlib.Path, repeat: int) -> dict:
    flags = _prepare(copy)
    cold, nochange, failures = [], [], []
    for r in range(repeat):
        shutil.rmtree(copy / "_build", ignore_errors=True)
        for kind, runs in (("cold", cold), ("no-change", nochange)):
            log(f"  make book, {kind} (run {r + 1}/{repeat})")
            seconds, status, output = make(copy, *flags, "book")
            runs.append(seconds)
            if status:
                failures.append(failure(f"book {kind} {r + 1}", status, output))
    return {"cold": {"median": median(cold), "runs": cold},
            "no_change": {"median": median(nochange), "runs": nochange}, "failures": failures}


def nbval(copy: pathlib.Path, chapters: list[pathlib.Path], repeat: int) -> dict:
    flags = _prepare(copy)
    out = {}
    for path in chapters:
        rel = str(path.relative_to(copy))
        runs = {"cold": [], "warm": []}
        failures = []
        for r in range(repeat):
            shutil.rmtree(copy / "_build" / ".jax_cache", ignore_errors=True)
            for kind in ("cold", "warm"):
                log(f"  nbval {rel} ({kind} JAX cache, run {r + 1}/{repeat})")
                seconds, status, output = make(copy, *flags, "nbval", f"CHAPTERS={rel}")
                runs[kind].append(seconds)
                if status:
                    failures.append(failure(f"nbval {path.stem} {kind} {r + 1}", status, output))
        out[rel] = {"cold": median(runs["cold"]), "warm": median(runs["warm"]), "runs": runs, "failures": failures}
    return out


def make_test(copy: pathlib.Path) -> dict:
    flags = _prepare(copy)
    shutil.rmtree(copy / "_build", ignore_errors=True)
    log("  make test (empty _build, one run)")
    seconds, status, output = make(copy, *flags, "test", timeout=7200)
    return {"seconds": seconds, "status": status, "failure": failure("make test", status, output) if status else None}
