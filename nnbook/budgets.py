"""Page weight budgets, in one place.

``static_figure`` checks a figure against ``STATIC_FIGURE_BYTES`` when the
chapter runs (a clear error in the notebook, before the page is built), and
the browser tests check every built page against ``PAGE_BYTES``.
"""

PAGE_BYTES = 3_000_000  # a page and everything it loads (HTML, scripts, fonts, images)
STATIC_FIGURE_BYTES = (
    500_000  # the HTML of one in-page slider figure (background PNG + every frame); the largest is ~220 kB
)
