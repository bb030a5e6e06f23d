"""nnbook.glue.glue displays exactly what myst-nb's glue displays (the book
build reads those outputs), for the kinds of values the chapters glue."""

import sys

import numpy as np
import pytest
from myst_nb.ext import glue as myst_glue

from nnbook import glue as ours


def shown(module, attribute, monkeypatch, *args, **kwargs):
    calls = []
    monkeypatch.setattr(module, attribute, lambda *a, **k: calls.append((a, k)))
    (ours.glue if module is ours else myst_glue.glue)(*args, **kwargs)
    return calls


@pytest.mark.parametrize("value", [0.25, 3, "a text", np.float64(1.5e-11), np.float32(2.0), [1, 2]])
@pytest.mark.parametrize("display", [True, False])
def test_the_same_output_as_myst_nb(value, display, monkeypatch):
    expected = shown(myst_glue, "ipy_display", monkeypatch, "key", value, display=display)
    got = shown(ours, "show", monkeypatch, "key", value, display=display)
    assert got == expected and len(got) == 1
    (bundle,), options = got[0]
    assert options["metadata"]["scrapbook"] == {"name": "key", "mime_prefix": "" if display else ours.GLUE_PREFIX}


def test_importing_it_imports_no_notebook_format():
    """The point of the module: a chapter's first glue costs no nbformat import
    (checked in a fresh interpreter, where nothing has imported it yet)."""
    import subprocess

    code = "import nnbook.glue, sys; print('nbformat' in sys.modules, 'myst_nb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
