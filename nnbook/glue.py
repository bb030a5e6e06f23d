"""``glue(name, value)``: myst-nb's glue, without importing myst-nb.

Every number in the prose of a chapter is glued from the cell that computes it
(``{glue:text}`name:.2f``` in the markdown). The function is myst-nb's own
(``myst_nb.ext.glue.glue``, five lines): it displays the value's MIME bundle
with a "scrapbook" entry in the output's metadata, which the book build finds
and pastes into the text. It lives here for two reasons:

* speed: importing myst-nb's glue imports nbformat, whose JSON-schema
  validator imports an RFC 3987 grammar that takes 1.5-3 s to build, in every
  chapter's cold Run All, for a type annotation;
* Colab: nnbook is what a Colab reader installs (pyproject.toml), and myst-nb,
  the book builder, is not part of it.

nbtests/test_glue.py checks that both functions display exactly the same thing.
"""

from __future__ import annotations

from typing import Any

from IPython.core.formatters import format_display_data
from IPython.display import display as show

GLUE_PREFIX = "application/papermill.record/"  # myst-nb reads hidden glued values under these keys

__all__ = ["glue"]


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Store ``variable``'s displayed form under ``name`` in this cell's output
    (shown too, unless ``display`` is False); the book pastes it where the
    text says ``{glue:text}`name```."""
    bundle, metadata = format_display_data(variable)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=prefix)
    show({prefix + kind: data for kind, data in bundle.items()}, raw=True, metadata=metadata)
