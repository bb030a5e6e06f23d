"""One plot style for every chapter.

Figures get an opaque white background so that they stay readable when the
HTML book is shown in its dark theme (a transparent PNG would put black axes
on a near-black page).
"""

import matplotlib

BOOK_STYLE = {
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    # Text as paths keeps SVG/PNG output identical across runs and machines.
    "svg.fonttype": "path",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once in a chapter's setup cell)."""
    matplotlib.rcParams.update(BOOK_STYLE)
