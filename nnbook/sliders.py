"""One computation, two faces, one cell: the book's interactive figures.

An interactive figure is a *pure* function ``frame(**params) -> Frame`` that
turns slider values into line data, drawn over a fixed *background* (axes,
contours, labels) that does not depend on the sliders. One :class:`FigureSpec`
describes it; each :class:`Control` declares both the live slider's range and
step and the static face's grid, and the value both faces start at.

* The live face (Jupyter, Binder), :func:`live_figure`: ipywidgets sliders whose
  callback calls ``frame`` and redraws one matplotlib figure.  Only the lines
  are redrawn over a cached background (blitting), and the result is shown in a
  ``widgets.Image``.  This pattern was chosen over ``ipywidgets.interact``
  because executing ``interact``/``Output`` cells in batch stalls
  intermittently (jupyter/nbclient#312); an ``Image`` updated from ``observe``
  sends no output-capture messages while the notebook executes.
* The static face (the HTML book, no kernel), :func:`static_figure`: the same
  ``frame`` evaluated at build time on every point of the grid.  The page gets
  one PNG of the background and, per grid point, the lines as SVG point strings
  already in pixel coordinates (computed with matplotlib's own transform, so
  both faces draw the same thing).  A few lines of inline JS swap them when a
  range input moves: no kernel, no CDN, no image per frame.
* Both in one cell, :func:`interactive_figure`: one output whose MIME bundle
  holds the widget view and the static HTML.  JupyterLab ranks the widget view
  first and shows the live face; the book's ``nb_mime_priority_overrides``
  drops the widget view, so the page shows the static face; nbval compares the
  HTML and the text.

The legend and the note are placed by the figure, the same way on both faces:
one legend for the whole figure outside the axes (``FigureSpec.legend``), and
the note in a band across the top of the figure, at the same pixel on both.

Everything validates its input and says clearly what is wrong: a grid that is
empty or not increasing, an initial value off the grid or off the live
slider's steps, a frame with NaN or infinite values, a static face over its
page budget.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import itertools
import json
import math
import re
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from nnbook.budgets import STATIC_FIGURE_BYTES

__all__ = [
    "Control",
    "Frame",
    "Style",
    "FigureSpec",
    "FrameError",
    "UpdateTiming",
    "interactive_figure",
    "live_figure",
    "static_figure",
    "evaluate_grid",
]


class FrameError(ValueError):
    """A frame function returned something that cannot be drawn."""


# ----------------------------------------------------------------------------
# The description of a figure: controls, frames, styles
# ----------------------------------------------------------------------------

_LATTICE_TOLERANCE = 1e-6  # in steps: "on the lattice" up to float rounding of lo + k * step


def _steps_from(lo: float, value: float, step: float) -> float:
    return (value - lo) / step


@dataclass(frozen=True)
class Control:
    """One slider, declared for both faces.

    ``live = (lo, hi, step)`` is the live slider: it moves from ``lo`` to ``hi``
    in steps of ``step`` (for ``scale="log"``, ``lo`` and ``hi`` are values and
    ``step`` is in decades: the slider moves on log10 of the value).  ``grid``
    is the static face's list of values (non-empty, finite, strictly
    increasing; one value means the static face holds this control fixed).
    ``initial`` must lie on the grid and exactly on the live slider's steps:
    both faces start there, nothing is snapped.
    """

    name: str
    label: str
    initial: float
    live: tuple[float, float, float]
    grid: Sequence[float]
    scale: str = "linear"
    integer: bool = False
    fmt: str = ".3g"

    def __post_init__(self) -> None:
        where = f"slider {self.name!r}"
        if self.scale not in ("linear", "log"):
            raise ValueError(f"{where}: scale must be 'linear' or 'log', not {self.scale!r}.")
        grid = np.asarray(self.grid, dtype=float)
        if grid.ndim != 1 or grid.size == 0:
            raise ValueError(f"{where}: the grid of values is empty; give at least one value.")
        if not np.all(np.isfinite(grid)):
            raise ValueError(f"{where}: the grid contains NaN or infinite values: {grid.tolist()}.")
        if grid.size > 1 and not np.all(np.diff(grid) > 0):
            raise ValueError(
                f"{where}: the grid must be strictly increasing (a slider moves one way); got {grid.tolist()}."
            )
        if self.scale == "log" and grid[0] <= 0:
            raise ValueError(f"{where}: a log-scale slider needs positive values; got {grid[0]}.")
        if self.integer and not np.all(grid == np.round(grid)):
            raise ValueError(f"{where}: an integer slider needs whole-number values; got {grid.tolist()}.")
        try:
            lo, hi, step = (float(v) for v in self.live)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: live must be (lo, hi, step), three numbers; got {self.live!r}.") from None
        if not all(math.isfinite(v) for v in (lo, hi, step)) or not lo < hi or step <= 0:
            raise ValueError(f"{where}: live = (lo, hi, step) needs lo < hi and step > 0; got {self.live!r}.")
        if self.scale == "log" and lo <= 0:
            raise ValueError(f"{where}: a log-scale slider needs positive values; live starts at {lo}.")
        if self.integer and not all(v == round(v) for v in (lo, hi, step)):
            raise ValueError(f"{where}: an integer slider needs whole-number lo, hi and step; got {self.live!r}.")
        initial = float(self.initial)
        if not np.any(grid == initial) and not np.any(np.isclose(grid, initial, rtol=1e-12, atol=0)):
            raise ValueError(f"{where}: the initial value {initial} is not on the grid {grid.tolist()}.")
        # The live lattice: lo + k * step (log10 of the value for a log slider).
        to_axis = math.log10 if self.scale == "log" else float
        a_lo, a_hi = to_axis(lo), to_axis(hi)
        n = _steps_from(a_lo, a_hi, step)
        if abs(n - round(n)) > _LATTICE_TOLERANCE:
            raise ValueError(
                f"{where}: hi = {hi:g} is not a whole number of steps from lo = {lo:g} "
                f"({n:.4g} steps of {step:g}{' decades' if self.scale == 'log' else ''}); "
                "change hi or the step so the slider ends exactly at hi."
            )
        if not lo <= initial <= hi:
            raise ValueError(f"{where}: the initial value {initial:g} is outside the live range [{lo:g}, {hi:g}].")
        k = _steps_from(a_lo, to_axis(initial), step)
        if abs(k - round(k)) > _LATTICE_TOLERANCE:
            raise ValueError(
                f"{where}: the initial value {initial:g} is not on the live slider's steps "
                f"(lo + k * step{' in log10' if self.scale == 'log' else ''}, k = {k:.4g}); "
                "the slider would show a nearby value instead. Change lo or the step."
            )
        object.__setattr__(self, "grid", tuple(grid.tolist()))
        object.__setattr__(self, "live", (lo, hi, step))
        object.__setattr__(self, "initial", float(grid[np.argmin(np.abs(grid - initial))]))

    @property
    def live_positions(self) -> int:
        """How many values the live slider can take."""
        lo, hi, step = self.live
        if self.scale == "log":
            lo, hi = math.log10(lo), math.log10(hi)
        return int(round((hi - lo) / step)) + 1

    @property
    def fixed_on_page(self) -> bool:
        """True if the static face holds this control at its initial value."""
        return len(self.grid) == 1

    def format(self, value: float) -> str:
        return format(int(round(value)), "d") if self.integer else format(value, self.fmt)

    def cast(self, value: float) -> float | int:
        return int(round(value)) if self.integer else float(value)


@dataclass(frozen=True)
class Frame:
    """What a figure shows for one setting of its sliders.

    ``lines`` maps a line's name (a key of the figure's styles) to its ``(x, y)``
    data; ``note`` is a short message written on the figure, for example
    ``"diverged after 12 steps"``.
    """

    lines: Mapping[str, tuple]
    note: str = ""


@dataclass(frozen=True)
class Style:
    """How one named line is drawn, identically on both faces. Lines with a
    ``label`` get an entry in the figure's legend (once per label)."""

    axes: int = 0
    color: str = "C0"
    width: float = 1.8
    marker: bool = False
    dashed: bool = False
    label: str | None = None


LEGEND_PLACES = {"right": "outside right upper", "below": "outside lower center", None: None}


@dataclass(frozen=True)
class FigureSpec:
    """Everything both faces need: the pure ``frame`` function, the sliders,
    how each line looks and a ``setup(fig) -> [axes]`` that draws the part of
    the figure that does not move (limits, contours, labels; give artists a
    ``label`` to put them in the legend, but make no legend).

    ``legend`` is where the one legend of the figure goes: ``"right"`` of the
    axes, ``"below"`` them, or ``None``. ``alt`` describes the figure for
    readers who cannot see it.
    """

    name: str
    frame: Callable[..., Frame]
    controls: Sequence[Control]
    styles: Mapping[str, Style]
    setup: Callable[[Figure], Sequence[Axes]]
    alt: str
    figsize: tuple[float, float] = (6.4, 3.6)
    dpi: int = 100
    legend: str | None = "right"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise ValueError(
                f"figure name {self.name!r}: use lower-case letters, digits and '-' (it becomes an HTML id)."
            )
        if not self.controls:
            raise ValueError(f"figure {self.name!r}: an interactive figure needs at least one slider.")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"figure {self.name!r}: two sliders share a name: {names}.")
        if not self.styles:
            raise ValueError(f"figure {self.name!r}: give a Style for each line the frame function returns.")
        if self.legend not in LEGEND_PLACES:
            raise ValueError(f"figure {self.name!r}: legend must be 'right', 'below' or None, not {self.legend!r}.")

    def initial_params(self) -> dict[str, float | int]:
        return {c.name: c.cast(c.initial) for c in self.controls}


def checked_frame(
    spec: FigureSpec, params: Mapping[str, float]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """Call ``spec.frame`` and check that what it returns can be drawn;
    return its lines as float arrays and its note."""
    frame = spec.frame(**params)
    setting = ", ".join(f"{k}={v}" for k, v in params.items())
    if not isinstance(frame, Frame):
        raise FrameError(f"figure {spec.name!r}: the frame function must return a Frame, got {type(frame).__name__}.")
    unknown = set(frame.lines) - set(spec.styles)
    if unknown:
        raise FrameError(f"figure {spec.name!r}: lines {sorted(unknown)} have no Style (known: {sorted(spec.styles)}).")
    lines = {}
    for name, (x, y) in frame.lines.items():
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        if x.shape != y.shape:
            raise FrameError(
                f"figure {spec.name!r}, line {name!r} at {setting}: x has {x.size} points but y has {y.size}."
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise FrameError(
                f"figure {spec.name!r}, line {name!r} at {setting}: the frame function returned NaN or "
                "infinite values. Stop the line where it leaves the finite range and say so in Frame.note."
            )
        lines[name] = (x, y)
    return lines, str(frame.note)


# ----------------------------------------------------------------------------
# Drawing shared by both faces: the canvas, its legend and the note band
# ----------------------------------------------------------------------------

NOTE_BAND_INCHES = 0.3  # the band across the top of every figure where the note is written
NOTE_FONT_POINTS = 9
NOTE_COLOR = "#b00020"
FONT_FAMILY = "DejaVu Sans"  # matplotlib's default font; the static face asks the browser for it too


def _line_kwargs(style: Style) -> dict:
    return dict(
        color=style.color,
        linewidth=style.width,
        linestyle="--" if style.dashed else "-",
        marker="o" if style.marker else None,
        markersize=3.5,
    )


def _legend(fig: Figure, spec: FigureSpec, axes: Sequence[Axes]) -> None:
    """One legend for the whole figure, outside the axes so that it hides no
    data: what ``setup`` labelled, then the labelled moving lines, each label
    once."""
    handles, seen = [], set()
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in seen:
                seen.add(label)
                handles.append(handle)
    for style in spec.styles.values():
        if style.label and style.label not in seen:
            seen.add(style.label)
            handles.append(Line2D([], [], label=style.label, **_line_kwargs(style)))
    if not handles or spec.legend is None:
        return
    ncol = 1 if spec.legend == "right" else min(len(handles), 4)
    fig.legend(handles=handles, loc=LEGEND_PLACES[spec.legend], ncol=ncol, fontsize=8, frameon=False)


class _Canvas(NamedTuple):
    fig: Figure
    canvas: FigureCanvasAgg
    axes: list
    note_xy: tuple[float, float]  # where the note starts, in pixels from the top left


def _new_canvas(spec: FigureSpec) -> _Canvas:
    fig = Figure(figsize=spec.figsize, dpi=spec.dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    band = NOTE_BAND_INCHES / spec.figsize[1]
    fig.get_layout_engine().set(rect=(0.0, 0.0, 1.0, 1.0 - band))  # keep the note band free
    axes = list(spec.setup(fig))
    for index in sorted({s.axes for s in spec.styles.values()}):
        if index >= len(axes):
            raise ValueError(f"figure {spec.name!r}: a Style refers to axes {index}, but setup made {len(axes)}.")
    _legend(fig, spec, axes)
    # Freeze the layout: both faces must map data to the same pixels.
    canvas.draw()
    fig.set_layout_engine("none")
    _, height = canvas.get_width_height()
    note_xy = (float(axes[0].bbox.x0), 0.5 * band * height)
    return _Canvas(fig, canvas, axes, note_xy)


@functools.cache
def _note_font(pixels: float) -> ImageFont.FreeTypeFont:
    """The note's font (FONT_FAMILY, as matplotlib finds it) at ``pixels`` per em."""
    return ImageFont.truetype(font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY)), pixels)


def _png(canvas: FigureCanvasAgg, compress_level: int = 6) -> bytes:
    rgba = np.asarray(canvas.buffer_rgba())
    out = io.BytesIO()
    PILImage.fromarray(rgba[..., :3].copy()).save(out, format="png", compress_level=compress_level)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _fast_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as an RGBA PNG, written in about a third of the time Pillow
    takes (3-4 ms for a 900 x 340 figure, not 10): a live update has 16 ms in all.
    Pillow spends its time choosing a filter for every row and copying RGBA to
    RGB; here every row is stored unfiltered (PNG filter type 0), as RGBA, and
    deflated at the fastest level. The bytes are larger, which matters little
    for an image that goes from the kernel to the page beside it."""
    rgba = np.asarray(canvas.buffer_rgba())
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # each row: its filter byte (0), then the pixels
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


# ----------------------------------------------------------------------------
# The live face
# ----------------------------------------------------------------------------


class UpdateTiming(NamedTuple):
    """What one live update cost, in seconds: the spec's frame function
    (including its JAX work, up to NumPy arrays), and everything (frame, blit,
    PNG)."""

    frame_seconds: float
    total_seconds: float


class LiveFigure:
    """Sliders and an image; moving a slider calls the frame function and
    redraws only the lines over the cached background."""

    def __init__(self, spec: FigureSpec, canvas: _Canvas | None = None):
        import ipywidgets as widgets  # imported here: the static face needs no widgets

        self.spec = spec
        self.fig, self.canvas, self.axes, note_xy = canvas or _new_canvas(spec)
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.lines = {
            name: self.axes[s.axes].plot([], [], animated=True, **_line_kwargs(s))[0] for name, s in spec.styles.items()
        }
        _, height = self.canvas.get_width_height()
        # The note's text and place live in a matplotlib Text (what code and tests
        # read: get_text, get_visible, get_position); _paint_note draws it.
        self.note = self.fig.text(
            note_xy[0],
            height - note_xy[1],
            "",
            transform=None,
            va="center",
            ha="left",
            fontsize=NOTE_FONT_POINTS,
            family=FONT_FAMILY,
            color=NOTE_COLOR,
            animated=True,
        )
        self._note_at = note_xy  # pixels from the top left, as Pillow counts
        self._band_rows = math.ceil(2 * note_xy[1])  # the band across the top where the note goes
        self._note_font = _note_font(NOTE_FONT_POINTS * spec.dpi / 72)
        self.sliders = {c.name: _live_slider(widgets, c) for c in spec.controls}
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([*self.sliders.values(), self.image])
        self._holding = False
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.redraw()

    @property
    def params(self) -> dict[str, float | int]:
        return {c.name: c.cast(self.sliders[c.name].value) for c in self.spec.controls}

    def _on_change(self, _change) -> None:
        if not self._holding:
            self.redraw()

    def update(self, **params: float) -> UpdateTiming:
        """Set some sliders, as a reader moving them would, and redraw once;
        return what the redraw cost."""
        for name, value in params.items():
            if name not in self.sliders:
                raise ValueError(
                    f"figure {self.spec.name!r} has no slider {name!r}; its sliders: {list(self.sliders)}."
                )
            control = next(c for c in self.spec.controls if c.name == name)
            lo, hi, _ = control.live
            if not lo <= value <= hi:
                raise ValueError(
                    f"figure {self.spec.name!r}: {name} = {value} is outside the slider's range [{lo:g}, {hi:g}]."
                )
        self._holding = True
        try:
            for name, value in params.items():
                self.sliders[name].value = value
        finally:
            self._holding = False
        return self.redraw()

    def redraw(self) -> UpdateTiming:
        started = time.perf_counter()
        try:
            data, note = checked_frame(self.spec, self.params)
        except FrameError as error:  # show the message on the figure, keep the sliders alive
            data, note = {}, f"cannot draw this setting: {error}"
        framed = time.perf_counter()
        for name, line in self.lines.items():
            line.set_data(*data.get(name, ([], [])))
        self.note.set_text(note)
        self.note.set_visible(bool(note))
        self.canvas.restore_region(self.background)
        for name, line in self.lines.items():
            self.axes[self.spec.styles[name].axes].draw_artist(line)
        self._paint_note(note)
        self.image.value = _fast_png(self.canvas)
        return UpdateTiming(framed - started, time.perf_counter() - started)

    def _paint_note(self, note: str) -> None:
        """Write the note into the band across the top of the canvas, with
        Pillow's FreeType renderer: matplotlib 3.11 renders a text glyph by glyph,
        4-7 ms for a note, a third of a live update's 16 ms; Pillow takes a
        fraction of a millisecond. The band holds no line (lines are clipped to
        their axes, below it), and restore_region has just put it back bare."""
        if not note:
            return
        pixels = np.asarray(self.canvas.buffer_rgba())  # the canvas's own memory
        band = PILImage.fromarray(pixels[: self._band_rows])
        ImageDraw.Draw(band).text(self._note_at, note, font=self._note_font, fill=NOTE_COLOR, anchor="lm")
        pixels[: self._band_rows] = np.asarray(band)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = _plain(self.spec)  # stable: no widget model id
        return bundle


def _plain(spec: FigureSpec) -> str:
    sliders = ", ".join(f"{c.name} = {c.format(c.initial)}" for c in spec.controls)
    return f"<interactive figure '{spec.name}': {sliders}>"


def _live_slider(widgets, control: Control):
    lo, hi, step = control.live
    common = dict(
        description=control.label,
        continuous_update=True,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="min(100%, 520px)"),
    )
    if control.integer:
        return widgets.IntSlider(min=int(lo), max=int(hi), step=int(step), value=int(control.initial), **common)
    common.update(value=control.initial, readout_format=control.fmt)
    if control.scale == "log":
        return widgets.FloatLogSlider(base=10, min=math.log10(lo), max=math.log10(hi), step=step, **common)
    return widgets.FloatSlider(min=lo, max=hi, step=step, **common)


def live_figure(spec: FigureSpec, canvas: _Canvas | None = None) -> LiveFigure:
    """The live face alone: display the returned object in a notebook cell.
    (``canvas``: a drawn background to take over, see :func:`interactive_figure`.)"""
    checked_frame(spec, spec.initial_params())  # fail early, with the message, on bad input
    return LiveFigure(spec, canvas)


# ----------------------------------------------------------------------------
# The static face
# ----------------------------------------------------------------------------


def evaluate_grid(spec: FigureSpec) -> list[tuple[dict[str, float | int], dict, str]]:
    """``(params, lines, note)`` for every point of the slider grid, in
    row-major order (the last slider varies fastest)."""
    grids = [[c.cast(v) for v in c.grid] for c in spec.controls]
    out = []
    for point in itertools.product(*grids):
        params = dict(zip([c.name for c in spec.controls], point))
        out.append((params, *checked_frame(spec, params)))
    return out


# Pixel coordinates far outside the image are clamped: browsers draw huge SVG
# coordinates unreliably, and a diverging line only needs to leave the frame.
_PX_LIMIT = 1.0e4


def _drawn_points(xy: np.ndarray, markers: bool) -> np.ndarray:
    """The points of a polyline in whole pixels that change what it draws.
    A repeat of the previous point draws nothing (a converging path sits on one
    pixel for hundreds of steps). Without markers, neither does a point on the
    straight segment between its neighbours, going on in the same direction (a
    membrane potential resting flat, a straight line sampled 200 times): the
    test is exact in whole pixels, so the path drawn is the same."""
    xy = xy[np.concatenate([[True], np.any(xy[1:] != xy[:-1], axis=1)])]
    if markers or len(xy) < 3:
        return xy
    before, after = xy[1:-1] - xy[:-2], xy[2:] - xy[1:-1]
    collinear = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0] == 0
    onward = np.sum(before * after, axis=1) > 0  # not a turn back along the same line
    return xy[np.concatenate([[True], ~(collinear & onward), [True]])]


def _svg_points(ax: Axes, x: np.ndarray, y: np.ndarray, height: float, markers: bool = False) -> str:
    if x.size == 0:
        return ""
    with np.errstate(all="ignore"):  # log axes of non-positive data: masked below
        px = ax.transData.transform(np.column_stack([x, y]))
    keep = np.all(np.isfinite(px), axis=1)
    px = np.clip(px[keep], -_PX_LIMIT, _PX_LIMIT)
    px[:, 1] = height - px[:, 1]  # matplotlib counts pixels from the bottom, SVG from the top
    # Whole pixels: finer is invisible at this size and would make pages ~30% heavier.
    xy = np.rint(px).astype(np.int64)
    return " ".join(f"{a},{b}" for a, b in _drawn_points(xy, markers))


_STATIC_JS = """
(function () {
  var root = document.getElementById(%(id)s);
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var inputs = root.querySelectorAll('input[type=range]');
  var outputs = root.querySelectorAll('output');
  var lines = root.querySelectorAll('polyline');
  var note = root.querySelector('.nnbook-note');
  function show() {
    var index = 0;
    inputs.forEach(function (input, k) {
      index = index * data.sizes[k] + Number(input.value);
      outputs[k].textContent = data.labels[k][Number(input.value)];
      input.setAttribute('aria-valuetext', data.labels[k][Number(input.value)]);
    });
    var frame = data.frames[index];
    lines.forEach(function (line, k) { line.setAttribute('points', frame.lines[k]); });
    note.textContent = frame.note;
    root.dataset.frame = index;
  }
  inputs.forEach(function (input) { input.addEventListener('input', show); });
  show();
})();
"""


class StaticFigure:
    """An HTML/JS slider figure that needs no kernel; display it in a cell."""

    def __init__(self, spec: FigureSpec, caption: str, canvas: _Canvas | None = None):
        self.spec = spec
        self.caption = caption
        self.moving = [c for c in spec.controls if not c.fixed_on_page]
        if not self.moving:
            raise ValueError(
                f"figure {spec.name!r}: every control has a one-value grid, so the page would show no slider; "
                "give at least one control a grid of two or more values."
            )
        self.frames = evaluate_grid(spec)
        fig, canvas, axes, self.note_xy = canvas or _new_canvas(spec)
        self.axes = axes
        width, height = canvas.get_width_height()
        self.background_png = _png(canvas)
        names = list(spec.styles)
        self.data = {
            # controls the page holds fixed have one value: they change no index
            "sizes": [len(c.grid) for c in self.moving],
            "labels": [[c.format(v) for v in c.grid] for c in self.moving],
            "frames": [
                {
                    "lines": [
                        _svg_points(axes[spec.styles[n].axes], *lines.get(n, (np.empty(0), np.empty(0))), height,
                                    markers=spec.styles[n].marker)
                        for n in names
                    ],
                    "note": note,
                }
                for _, lines, note in self.frames
            ],
        }
        self.html = self._render(width, height, names)

    def _initial_index(self) -> int:
        index = 0
        for c in self.spec.controls:
            index = index * len(c.grid) + c.grid.index(c.initial)
        return index

    def _render(self, width: int, height: int, names: list[str]) -> str:
        spec, esc = self.spec, html.escape
        uid = f"nnbook-{spec.name}"
        first = self.data["frames"][self._initial_index()]
        # Lines are clipped to their axes, as matplotlib does on the live face.
        clips = []
        for index, ax in enumerate(self.axes):
            x0, y0, x1, y1 = ax.bbox.extents
            clips.append(
                f'<clipPath id="{uid}-clip{index}"><rect x="{x0:.1f}" y="{height - y1:.1f}" '
                f'width="{x1 - x0:.1f}" height="{y1 - y0:.1f}"/></clipPath>'
            )
        marker_defs, polylines = clips, []
        for k, name in enumerate(names):
            s = spec.styles[name]
            color = to_hex(s.color)
            marker = ""
            if s.marker:
                mid = f"{uid}-m{k}"
                marker_defs.append(
                    f'<marker id="{mid}" viewBox="0 0 6 6" refX="3" refY="3" markerWidth="5" markerHeight="5">'
                    f'<circle cx="3" cy="3" r="2.5" fill="{color}"/></marker>'
                )
                marker = f' marker-start="url(#{mid})" marker-mid="url(#{mid})" marker-end="url(#{mid})"'
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            polylines.append(
                f'<polyline data-line="{esc(name)}" fill="none" stroke="{color}" stroke-width="{s.width:g}"'
                f' stroke-linejoin="round"{dash}{marker} clip-path="url(#{uid}-clip{s.axes})"'
                f' points="{first["lines"][k]}"/>'
            )
        # The note: SVG text at the pixel where the live face writes it, same font and size.
        note_x, note_y = self.note_xy
        font_px = NOTE_FONT_POINTS * spec.dpi / 72
        note = (
            f'<text class="nnbook-note" x="{note_x:.1f}" y="{note_y:.1f}" dominant-baseline="central" '
            f'font-family="{FONT_FAMILY}, sans-serif" font-size="{font_px:.1f}" fill="{NOTE_COLOR}">'
            f"{esc(first['note'])}</text>"
        )
        controls = []
        for c in self.moving:
            start = c.grid.index(c.initial)
            controls.append(
                '<label class="nnbook-control"'
                ' style="display:inline-flex;align-items:center;gap:0.4em;margin:0 1.5em 0.3em 0">'
                f"<span>{esc(c.label)}</span> "
                f'<input type="range" min="0" max="{len(c.grid) - 1}" step="1" value="{start}" '
                f'aria-label="{esc(c.label)}" aria-valuetext="{esc(c.format(c.initial))}"> '
                '<output style="min-width:3.5em;font-variant-numeric:tabular-nums">'
                f"{esc(c.format(c.initial))}</output></label>"
            )
        png = base64.b64encode(self.background_png).decode("ascii")
        data = json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")
        return (
            f'<figure class="nnbook-static" id="{uid}" style="max-width:{width}px;margin:0 auto">\n'
            f'<div class="nnbook-controls">{"".join(controls)}</div>\n'
            f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{esc(spec.alt)}" '
            f'style="display:block;background:white">'
            f"<title>{esc(spec.alt)}</title><defs>{''.join(marker_defs)}</defs>"
            f'<image href="data:image/png;base64,{png}" x="0" y="0" width="{width}" height="{height}"/>'
            f"{''.join(polylines)}{note}</svg>\n"
            f"<figcaption>{esc(self.caption)}</figcaption>\n"
            f'<script type="application/json">{data}</script>\n'
            f"<script>{_STATIC_JS % {'id': json.dumps(uid)}}</script>\n"
            f"</figure>"
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        sizes = " x ".join(str(len(c.grid)) for c in self.moving)
        kilobytes = len(self.html) / 1e3
        name = self.spec.name
        return f"<static slider figure '{name}': {sizes} settings, {kilobytes:.0f} kB; works in the HTML book>"


DEFAULT_CAPTION = (
    "Computed for every slider position when the book was built: it works in the page with no Python running."
)


def static_figure(
    spec: FigureSpec, caption: str | None = None, budget: int = STATIC_FIGURE_BYTES, canvas: _Canvas | None = None
) -> StaticFigure:
    """The static face alone: display the returned object in a notebook cell.

    Raises ValueError if its HTML is over ``budget`` bytes (the page weight
    budget of one figure, :mod:`nnbook.budgets`)."""
    figure = StaticFigure(spec, caption or DEFAULT_CAPTION, canvas)
    size = len(figure.html.encode("utf-8"))
    if size > budget:
        sizes = " x ".join(f"{len(c.grid)} {c.name}" for c in figure.moving)
        raise ValueError(
            f"figure {spec.name!r}: its in-page slider weighs {size / 1e3:.0f} kB, over the budget of "
            f"{budget / 1e3:.0f} kB per figure (nnbook.budgets.STATIC_FIGURE_BYTES). Its grid has {sizes} "
            f"= {len(figure.frames)} frames: use fewer grid values, or fewer points per line."
        )
    return figure


# ----------------------------------------------------------------------------
# Both faces in one cell
# ----------------------------------------------------------------------------


class InteractiveFigure:
    """Both faces of one spec in one output: the live widget for Jupyter and
    Binder, the static slider for the HTML book, and a stable text line."""

    def __init__(self, live: LiveFigure, static: StaticFigure):
        self.spec = live.spec
        self.live = live
        self.static = static

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.live.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static.html
        bundle["text/plain"] = _plain(self.spec)
        return bundle


def interactive_figure(spec: FigureSpec, caption: str | None = None) -> InteractiveFigure:
    """The figure of one spec with both faces, to display in ONE cell.

    Its output holds the widget view (``application/vnd.jupyter.widget-view+json``,
    what JupyterLab shows), the static slider (``text/html``, what the book
    shows: ``nb_mime_priority_overrides`` in _config.yml drops the widget view
    there) and a stable ``text/plain``; nbval compares the last two."""
    # One background for both faces: ``setup`` (contours, mathtext, the
    # constrained layout) costs 0.5-1.3 s per figure, too much to pay twice in a
    # chapter's Run All. The static face reads the drawn background first; the
    # live face then draws its lines over it.
    canvas = _new_canvas(spec)
    static = static_figure(spec, caption, canvas=canvas)
    return InteractiveFigure(live_figure(spec, canvas), static)
