"""Small fixes to the HTML pages that Jupyter Book 1.x makes (a Sphinx extension).

Loaded from _config.yml (`sphinx: local_extensions`). Each fix is checked by
the browser tests in nbtests/browser/.

* One script per page, not two: sphinx-thebe 0.3 registers its inline config
  (`const THEBE_JS_URL = ...`) after the builder started, and Sphinx 7.4 adds
  such an inline script a second time (once with filename None, once with
  ''), so every page threw "Identifier 'THEBE_JS_URL' has already been
  declared". Duplicates are dropped when a page is rendered.
* No 1.5 MB icon script: pydata-sphinx-theme loads FontAwesome twice, as
  webfonts from its CSS and as `fontawesome.js`, which only re-draws the same
  icons as inline SVG. Without the script a page loads 1.5 MB less (the page
  budget is 3 MB) and the icons still show, from the webfonts.
* Accessibility (axe-core, serious or critical):
  - the theme's search button is labelled "Search" but shows "Search Ctrl+K":
    its aria-label goes, so its name is the text a reader sees;
  - the same for the summary of a hidden code cell (`hide-input`): labelled
    "Toggle hidden content", it shows "Show code cell source";
  - docutils marks bibliography entries with the DPUB role
    `doc-biblioentry`, deprecated in ARIA 1.2, which leaves the
    `role="list"` around them with no list items: they become `listitem`.

The page-text fixes run on the written pages when the build finishes
(templates of the theme are not copied, so a theme update cannot go stale).
"""

from __future__ import annotations

import pathlib
import re

# (pattern, replacement) applied to every written page.
PAGE_FIXES = [
    (re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>'), ""),
    (re.compile(r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="[^"]*"'), r"\1"),
    (re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"'), r'\1 role="listitem"'),
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
]


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted(getattr(script, "attributes", {}).items()))
        key = (filename, attributes)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _fix_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in pathlib.Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for pattern, replacement in PAGE_FIXES:
            fixed = pattern.sub(replacement, fixed)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("build-finished", _fix_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
