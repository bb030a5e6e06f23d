"""Sphinx extension: keep the notebooks' ipywidgets state out of the HTML pages.

The book shows an interactive figure's static face (its text/html) in the HTML
pages, never the frozen widget (see `nb_mime_priority_overrides` in
_config.yml), so the widget state
that myst-nb embeds for the HTML widget manager is dead weight: about 100 kB
per live figure (each state holds its first PNG). The notebooks keep their
state for Jupyter users; only the pages drop it.
"""

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def drop_widget_state(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts is not None:
        scripts[:] = [s for s in scripts if getattr(s, "attributes", {}).get("type") != WIDGET_STATE]


def setup(app):
    # after myst-nb's own html-page-context handler (priority 500) has added the state
    app.connect("html-page-context", drop_widget_state, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
