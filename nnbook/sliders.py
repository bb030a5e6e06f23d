"""One computation, two faces: the book's interactive figures.

An interactive figure is a *pure* function ``frame(**params) -> Frame`` that
turns slider values into line data, drawn over a fixed *background* (axes,
contours, labels) that does not depend on the sliders.

* The live face (Jupyter, Binder), :func:`live_figure`: ipywidgets sliders whose
  callback calls ``frame`` and redraws one matplotlib figure.  Only the lines
  are redrawn over a cached background (blitting), and the result is shown in a
  ``widgets.Image``.  This pattern was chosen over ``ipywidgets.interact``
  because executing ``interact``/``Output`` cells in batch stalls
  intermittently (jupyter/nbclient#312); an ``Image`` updated from ``observe``
  sends no output-capture messages while the notebook executes.
* The static face (the HTML book, no kernel), :func:`static_figure`: the same
  ``frame`` evaluated at build time on every point of the slider grid.  The page
  gets one PNG of the background and, per grid point, the lines as SVG point
  strings already in pixel coordinates (computed with matplotlib's own
  transform, so both faces draw the same thing).  Fifteen lines of inline JS
  swap them when a range input moves: no kernel, no CDN, no image per frame.

Both faces validate their input and say clearly what is wrong: an empty or
non-increasing grid, a frame with NaN or infinite values, a line with x and y
of different lengths.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image as PILImage

__all__ = [
    "Control",
    "Frame",
    "Style",
    "FigureSpec",
    "FrameError",
    "live_figure",
    "static_figure",
    "evaluate_grid",
]


class FrameError(ValueError):
    """A frame function returned something that cannot be drawn."""


# ----------------------------------------------------------------------------
# The description of a figure: controls, frames, styles
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One slider.

    ``values`` is the grid the static face is computed on (it must be
    non-empty, finite and strictly increasing); the live slider spans the same
    range with ``live_steps`` finer steps (on a log scale if ``scale="log"``).
    """

    name: str
    label: str
    values: Sequence[float]
    initial: float | None = None
    scale: str = "linear"
    integer: bool = False
    live_steps: int = 100
    fmt: str = ".3g"

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        where = f"slider {self.name!r}"
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{where}: the grid of values is empty; give at least one value.")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{where}: the grid contains NaN or infinite values: {values.tolist()}.")
        if values.size > 1 and not np.all(np.diff(values) > 0):
            raise ValueError(
                f"{where}: the grid must be strictly increasing (a slider moves one way); got {values.tolist()}."
            )
        if self.scale not in ("linear", "log"):
            raise ValueError(f"{where}: scale must be 'linear' or 'log', not {self.scale!r}.")
        if self.scale == "log" and values[0] <= 0:
            raise ValueError(f"{where}: a log-scale slider needs positive values; got {values[0]}.")
        if self.integer and not np.all(values == np.round(values)):
            raise ValueError(f"{where}: an integer slider needs whole-number values; got {values.tolist()}.")
        initial = values[0] if self.initial is None else float(self.initial)
        if not np.any(np.isclose(values, initial, rtol=1e-12, atol=0)):
            raise ValueError(f"{where}: the initial value {initial} is not on the grid {values.tolist()}.")
        object.__setattr__(self, "values", tuple(values.tolist()))
        object.__setattr__(self, "initial", float(values[np.argmin(np.abs(values - initial))]))

    def format(self, value: float) -> str:
        return format(int(round(value)) if self.integer else value, self.fmt if not self.integer else "d")

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
    """How one named line is drawn, identically on both faces."""

    axes: int = 0
    color: str = "C0"
    width: float = 1.8
    marker: bool = False
    dashed: bool = False
    label: str | None = None


@dataclass(frozen=True)
class FigureSpec:
    """Everything both faces need: the pure ``frame`` function, the sliders,
    how each line looks and a ``setup(fig) -> [axes]`` that draws the part of
    the figure that does not move (limits, contours, labels).

    ``alt`` describes the figure for readers who cannot see it.
    """

    name: str
    frame: Callable[..., Frame]
    controls: Sequence[Control]
    styles: Mapping[str, Style]
    setup: Callable[[Figure], Sequence[Axes]]
    alt: str
    figsize: tuple[float, float] = (6.4, 3.6)
    dpi: int = 100

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise ValueError(f"figure name {self.name!r}: use lower-case letters, digits and '-' (it becomes an HTML id).")
        if not self.controls:
            raise ValueError(f"figure {self.name!r}: an interactive figure needs at least one slider.")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"figure {self.name!r}: two sliders share a name: {names}.")
        if not self.styles:
            raise ValueError(f"figure {self.name!r}: give a Style for each line the frame function returns.")

    def initial_params(self) -> dict[str, float | int]:
        return {c.name: c.cast(c.initial) for c in self.controls}


def checked_frame(spec: FigureSpec, params: Mapping[str, float]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
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
# Drawing shared by both faces
# ----------------------------------------------------------------------------


def _line_kwargs(style: Style) -> dict:
    return dict(
        color=style.color,
        linewidth=style.width,
        linestyle="--" if style.dashed else "-",
        marker="o" if style.marker else None,
        markersize=3.5,
    )


def _new_canvas(spec: FigureSpec) -> tuple[Figure, FigureCanvasAgg, list[Axes]]:
    fig = Figure(figsize=spec.figsize, dpi=spec.dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    axes = list(spec.setup(fig))
    for index in sorted({s.axes for s in spec.styles.values()}):
        if index >= len(axes):
            raise ValueError(f"figure {spec.name!r}: a Style refers to axes {index}, but setup made {len(axes)}.")
        # One legend per axes: what setup labelled, then the moving lines.
        handles, _ = axes[index].get_legend_handles_labels()
        handles += [Line2D([], [], label=s.label, **_line_kwargs(s))
                    for s in spec.styles.values() if s.axes == index and s.label]
        if handles:
            axes[index].legend(handles=handles, loc="upper right", fontsize=8, frameon=True, framealpha=0.85)
    # Freeze the layout: both faces must map data to the same pixels.
    canvas.draw()
    fig.set_layout_engine("none")
    return fig, canvas, axes


def _png(canvas: FigureCanvasAgg, compress_level: int = 6) -> bytes:
    rgba = np.asarray(canvas.buffer_rgba())
    out = io.BytesIO()
    PILImage.fromarray(rgba[..., :3].copy()).save(out, format="png", compress_level=compress_level)
    return out.getvalue()


# ----------------------------------------------------------------------------
# The live face
# ----------------------------------------------------------------------------


class LiveFigure:
    """Sliders and an image; moving a slider calls the frame function and
    redraws only the lines over the cached background."""

    def __init__(self, spec: FigureSpec, note: str):
        import ipywidgets as widgets  # imported here: the static face needs no widgets

        self.spec = spec
        self.fig, self.canvas, self.axes = _new_canvas(spec)
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.lines = {
            name: self.axes[s.axes].plot([], [], animated=True, **_line_kwargs(s))[0] for name, s in spec.styles.items()
        }
        self.note = self.axes[0].text(
            0.02, 0.97, "", transform=self.axes[0].transAxes, va="top", ha="left", fontsize=9,
            color="#b00020", animated=True, bbox=dict(boxstyle="round", fc="white", ec="#b00020", alpha=0.9),
        )
        self.sliders = {c.name: _live_slider(widgets, c) for c in spec.controls}
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([*self.sliders.values(), self.image])
        self._plain = note
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.redraw()

    @property
    def params(self) -> dict[str, float | int]:
        return {c.name: c.cast(self.sliders[c.name].value) for c in self.spec.controls}

    def _on_change(self, _change) -> None:
        self.redraw()

    def redraw(self) -> None:
        try:
            data, note = checked_frame(self.spec, self.params)
        except FrameError as error:  # show the message on the figure, keep the sliders alive
            data, note = {}, f"cannot draw this setting: {error}"
        for name, line in self.lines.items():
            line.set_data(*data.get(name, ([], [])))
        self.note.set_text(note)
        self.note.set_visible(bool(note))
        self.canvas.restore_region(self.background)
        for name, line in self.lines.items():
            self.axes[self.spec.styles[name].axes].draw_artist(line)
        self.axes[0].draw_artist(self.note)
        # Fast PNG: speed matters more than bytes for an image that never leaves the kernel.
        self.image.value = _png(self.canvas, compress_level=1)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A stable text twin: what nbval compares and what the HTML book shows.
        bundle["text/plain"] = self._plain
        bundle["text/html"] = f'<p class="nnbook-live-note">{html.escape(self._plain)}</p>'
        return bundle


def _live_slider(widgets, control: Control):
    lo, hi = control.values[0], control.values[-1]
    common = dict(
        description=control.label,
        value=control.initial,
        continuous_update=True,
        readout_format=control.fmt if not control.integer else "d",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="min(100%, 520px)"),
    )
    if control.integer:
        common.pop("readout_format")
        step = max(1, int(round((hi - lo) / control.live_steps)))
        return widgets.IntSlider(min=int(lo), max=int(hi), step=step, **{**common, "value": int(control.initial)})
    if lo == hi:
        return widgets.FloatSlider(min=lo, max=hi, step=1.0, **common)
    if control.scale == "log":
        return widgets.FloatLogSlider(
            base=10, min=math.log10(lo), max=math.log10(hi), step=(math.log10(hi) - math.log10(lo)) / control.live_steps,
            **common,
        )
    return widgets.FloatSlider(min=lo, max=hi, step=(hi - lo) / control.live_steps, **common)


def live_figure(spec: FigureSpec, note: str | None = None) -> LiveFigure:
    """The live face: display the returned object in a notebook cell.

    ``note`` is the text a reader without a kernel sees in its place (the HTML
    book shows it instead of frozen controls).
    """
    note = note or (
        f"Live figure '{spec.name}': its sliders run Python, so they move in Jupyter or Binder "
        "(launch button at the top of the page). In the HTML book, use the in-page slider version."
    )
    checked_frame(spec, spec.initial_params())  # fail early, with the message, on bad input
    return LiveFigure(spec, note)


# ----------------------------------------------------------------------------
# The static face
# ----------------------------------------------------------------------------


def evaluate_grid(spec: FigureSpec) -> list[tuple[dict[str, float | int], dict, str]]:
    """``(params, lines, note)`` for every point of the slider grid, in
    row-major order (the last slider varies fastest)."""
    grids = [[c.cast(v) for v in c.values] for c in spec.controls]
    out = []
    for point in itertools.product(*grids):
        params = dict(zip([c.name for c in spec.controls], point))
        out.append((params, *checked_frame(spec, params)))
    return out


# Pixel coordinates far outside the image are clamped: browsers draw huge SVG
# coordinates unreliably, and a diverging line only needs to leave the frame.
_PX_LIMIT = 1.0e4


def _svg_points(ax: Axes, x: np.ndarray, y: np.ndarray, height: float) -> str:
    if x.size == 0:
        return ""
    with np.errstate(all="ignore"):  # log axes of non-positive data: masked below
        px = ax.transData.transform(np.column_stack([x, y]))
    keep = np.all(np.isfinite(px), axis=1)
    px = np.clip(px[keep], -_PX_LIMIT, _PX_LIMIT)
    px[:, 1] = height - px[:, 1]  # matplotlib counts pixels from the bottom, SVG from the top
    # Whole pixels: finer is invisible at this size and would make pages ~30% heavier.
    return " ".join(f"{a:.0f},{b:.0f}" for a, b in px)


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
    note.parentNode.style.display = frame.note ? '' : 'none';
    root.dataset.frame = index;
  }
  inputs.forEach(function (input) { input.addEventListener('input', show); });
  show();
})();
"""


class StaticFigure:
    """An HTML/JS slider figure that needs no kernel; display it in a cell."""

    def __init__(self, spec: FigureSpec, caption: str):
        self.spec = spec
        self.caption = caption
        self.frames = evaluate_grid(spec)
        fig, canvas, axes = _new_canvas(spec)
        self.axes = axes
        width, height = canvas.get_width_height()
        self.background_png = _png(canvas)
        names = list(spec.styles)
        self.data = {
            "sizes": [len(c.values) for c in spec.controls],
            "labels": [[c.format(v) for v in c.values] for c in spec.controls],
            "frames": [
                {
                    "lines": [
                        _svg_points(axes[spec.styles[n].axes], *lines.get(n, (np.empty(0), np.empty(0))), height)
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
            index = index * len(c.values) + c.values.index(c.initial)
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
                f' stroke-linejoin="round"{dash}{marker} clip-path="url(#{uid}-clip{s.axes})" points="{first["lines"][k]}"/>'
            )
        controls = []
        for k, c in enumerate(spec.controls):
            start = c.values.index(c.initial)
            controls.append(
                f'<label class="nnbook-control" style="display:inline-flex;align-items:center;gap:0.4em;margin:0 1.5em 0.3em 0">'
                f'<span>{esc(c.label)}</span> '
                f'<input type="range" min="0" max="{len(c.values) - 1}" step="1" value="{start}" '
                f'aria-label="{esc(c.label)}" aria-valuetext="{esc(c.format(c.initial))}"> '
                f'<output style="min-width:3.5em;font-variant-numeric:tabular-nums">{esc(c.format(c.initial))}</output></label>'
            )
        png = base64.b64encode(self.background_png).decode("ascii")
        hidden = "" if first["note"] else "display:none;"
        data = json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")
        return (
            f'<figure class="nnbook-static" id="{uid}" style="max-width:{width}px;margin:0 auto">\n'
            f'<div class="nnbook-controls">{"".join(controls)}</div>\n'
            f'<div style="position:relative">'
            f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{esc(spec.alt)}" '
            f'style="display:block;background:white">'
            f'<title>{esc(spec.alt)}</title><defs>{"".join(marker_defs)}</defs>'
            f'<image href="data:image/png;base64,{png}" x="0" y="0" width="{width}" height="{height}"/>'
            f'{"".join(polylines)}</svg>'
            f'<div class="nnbook-note-box" style="{hidden}position:absolute;left:12%;top:6%;background:white;'
            f'color:#b00020;border:1px solid #b00020;border-radius:4px;padding:1px 6px;font-size:0.85em">'
            f'<span class="nnbook-note">{esc(first["note"])}</span></div></div>\n'
            f"<figcaption>{esc(self.caption)}</figcaption>\n"
            f'<script type="application/json">{data}</script>\n'
            f"<script>{_STATIC_JS % {'id': json.dumps(uid)}}</script>\n"
            f"</figure>"
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        sizes = " x ".join(str(len(c.values)) for c in self.spec.controls)
        return f"<static slider figure '{self.spec.name}': {sizes} settings, {len(self.html) / 1e3:.0f} kB; works in the HTML book>"


def static_figure(spec: FigureSpec, caption: str | None = None) -> StaticFigure:
    """The static face: display the returned object in a notebook cell."""
    caption = caption or (
        "Move the slider: this copy of the figure was computed for every slider position when the book "
        "was built, so it works in the page with no Python running."
    )
    return StaticFigure(spec, caption)
