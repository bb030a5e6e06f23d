"""The two faces of an interactive figure (nnbook.sliders), driven headlessly."""

import dataclasses
import io
import math
import re
import time
import warnings

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image as PILImage

from conftest import check_faces_start_at_initial, static_data
from nnbook.budgets import STATIC_FIGURE_BYTES
from nnbook.sliders import (
    NOTE_COLOR,
    Control,
    FigureSpec,
    Frame,
    FrameError,
    Style,
    UpdateTiming,
    interactive_figure,
    live_figure,
    static_figure,
)


def parabola_frame(a, shift):
    x = np.linspace(-1.0, 1.0, 21)
    y = a * x**2 + shift
    note = "steep" if a > 1.5 else ""
    return Frame({"curve": (x, y), "vertex": ([0.0], [shift])}, note=note)


def setup(fig):
    ax = fig.add_subplot()
    ax.set(xlim=(-1, 1), ylim=(-1, 3))
    return [ax]


def make_spec(frame=parabola_frame, a_grid=(0.0, 0.5, 1.0, 1.5, 2.0), shift_grid=(-0.5, 0.0, 0.5)):
    return FigureSpec(
        name="parabola",
        frame=frame,
        controls=[
            Control("a", "curvature a", 1.0, live=(0.0, 2.0, 0.05), grid=a_grid),
            Control("shift", "shift", 0.0, live=(-0.5, 0.5, 0.05), grid=shift_grid),
        ],
        styles={"curve": Style(label="a x² + shift"), "vertex": Style(color="C1", marker=True)},
        setup=setup,
        alt="A parabola whose curvature and height follow two sliders.",
    )


# --- Control validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "grid, message",
    [
        ([], "empty"),
        ([0.0, 2.0, 1.0], "strictly increasing"),
        ([0.0, 0.0], "strictly increasing"),
        ([0.0, float("nan")], "NaN"),
        ([0.0, float("inf")], "NaN or infinite"),
    ],
)
def test_bad_grids_are_rejected_with_a_clear_message(grid, message):
    with pytest.raises(ValueError, match=message):
        Control("a", "a", 0.0, live=(0.0, 1.0, 0.5), grid=grid)


def test_initial_value_must_be_on_the_grid():
    with pytest.raises(ValueError, match="not on the grid"):
        Control("a", "a", 0.5, live=(0.0, 1.0, 0.5), grid=[0.0, 1.0])


@pytest.mark.parametrize(
    "initial, live, scale, message",
    [
        # the example: -4 on a slider -4.5, -4.41, ... would show -3.96
        (-4.0, (-4.5, 4.5, 0.09), "linear", r"not on the live slider's steps .*k = 5\.556"),
        (60, (1, 201, 2), "linear", "not on the live slider's steps"),  # 1, 3, ..., 59, 61
        (0.2, (0.001, 1.0, 0.05), "log", "not on the live slider's steps .*in log10"),
        (1.0, (0.0, 1.0, 0.3), "linear", "hi = 1 is not a whole number of steps"),
        (3.0, (0.0, 2.0, 0.5), "linear", "outside the live range"),
        (1.0, (1.0, 1.0, 0.5), "linear", "lo < hi"),
        (1.0, (0.0, 2.0, 0.0), "linear", "step > 0"),
        (1.0, (0.0, 2.0), "linear", "three numbers"),
    ],
)
def test_initial_value_must_lie_exactly_on_the_live_slider(initial, live, scale, message):
    with pytest.raises(ValueError, match=message):
        Control("a", "a", initial, live=live, grid=[initial], scale=scale)


def test_log_slider_needs_positive_values():
    with pytest.raises(ValueError, match="positive"):
        Control("lr", "lr", 0.1, live=(0.01, 1.0, 0.5), grid=[0.0, 0.1], scale="log")
    with pytest.raises(ValueError, match="positive"):
        Control("lr", "lr", 0.1, live=(0.0, 1.0, 0.5), grid=[0.1], scale="log")


def test_integer_slider_needs_whole_numbers():
    with pytest.raises(ValueError, match="whole-number lo, hi and step"):
        Control("n", "n", 2, live=(0, 10, 0.5), grid=[2], integer=True)


@pytest.mark.parametrize(
    "initial, live, scale, integer, positions",
    [
        (-4.0, (-4.5, 4.5, 0.1), "linear", False, 91),
        (60, (1, 200, 1), "linear", True, 200),
        (0.2, (0.002, 0.2 * 10**0.4, 0.02), "log", False, 121),
        (2.0, (0.0, 50.0, 0.125), "linear", False, 401),
    ],
)
def test_the_live_slider_is_the_declared_lattice_and_starts_at_the_initial_value(
    initial, live, scale, integer, positions
):
    import ipywidgets

    control = Control("x", "x", initial, live=live, grid=[initial], scale=scale, integer=integer)
    assert control.live_positions == positions
    spec = make_spec()
    spec = FigureSpec("one", lambda x: parabola_frame(1.0, 0.0), [control], spec.styles, setup, alt="x")
    slider = live_figure(spec).sliders["x"]
    assert slider.value == initial  # exactly: no snapping
    lo, hi, step = live
    if scale == "log":
        assert isinstance(slider, ipywidgets.FloatLogSlider)
        assert (slider.min, slider.max, slider.step) == (math.log10(lo), math.log10(hi), step)
        k = (math.log10(slider.value) - slider.min) / slider.step
    else:
        assert (slider.min, slider.max, slider.step) == (lo, hi, step)
        assert isinstance(slider, ipywidgets.IntSlider if integer else ipywidgets.FloatSlider)
        k = (slider.value - slider.min) / slider.step
    assert abs(k - round(k)) < 1e-9  # the front end keeps the value: it is a step of the slider


# --- The live face ----------------------------------------------------------------------------


def test_live_slider_redraws_the_lines_from_the_frame_function():
    live = live_figure(make_spec())
    y_before = live.lines["curve"].get_ydata().copy()
    image_before = live.image.value
    np.testing.assert_allclose(y_before, parabola_frame(1.0, 0.0).lines["curve"][1])

    live.sliders["a"].value = 2.0
    np.testing.assert_allclose(live.lines["curve"].get_ydata(), parabola_frame(2.0, 0.0).lines["curve"][1])
    assert live.image.value != image_before
    assert live.note.get_text() == "steep" and live.note.get_visible()

    live.sliders["shift"].value = 0.5
    np.testing.assert_allclose(live.lines["vertex"].get_ydata(), [0.5])

    live.sliders["a"].value = 0.5
    assert not live.note.get_visible()


def test_live_image_is_a_png_of_the_figure():
    """The live face writes its PNG by hand (nnbook.sliders._fast_png): an
    independent decoder (Pillow) must read back exactly the canvas's pixels."""
    live = live_figure(make_spec())
    live.update(a=2.0)
    assert live.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = np.asarray(PILImage.open(io.BytesIO(live.image.value)))
    canvas = np.asarray(live.canvas.buffer_rgba())
    assert decoded.shape == canvas.shape == (360, 640, 4)
    np.testing.assert_array_equal(decoded, canvas)


def test_live_face_has_a_stable_text_twin():
    bundle = live_figure(make_spec())._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "<interactive figure 'parabola': a = 1, shift = 0>"
    assert re.search(r"[0-9a-f]{32}", bundle["text/plain"]) is None  # no model id in compared text


def test_update_sets_the_sliders_and_redraws_once():
    calls = []

    def counting_frame(a, shift):
        calls.append((a, shift))
        return parabola_frame(a, shift)

    live = live_figure(make_spec(frame=counting_frame))
    calls.clear()
    started = time.perf_counter()
    timing = live.update(a=2.0, shift=0.5)
    elapsed = time.perf_counter() - started
    assert calls == [(2.0, 0.5)]  # one frame for two sliders, at the new values
    assert isinstance(timing, UpdateTiming)
    assert 0 < timing.frame_seconds <= timing.total_seconds <= elapsed
    assert (live.sliders["a"].value, live.sliders["shift"].value) == (2.0, 0.5)
    np.testing.assert_allclose(live.lines["curve"].get_ydata(), parabola_frame(2.0, 0.5).lines["curve"][1])
    with pytest.raises(ValueError, match="no slider 'b'"):
        live.update(b=1.0)
    with pytest.raises(ValueError, match=r"outside the slider's range \[0, 2\]"):
        live.update(a=3.0)
    # a reader's move still redraws once per change
    calls.clear()
    live.sliders["a"].value = 0.5
    assert calls == [(0.5, 0.5)]


# --- Both faces in one cell -------------------------------------------------------------------


def test_one_output_carries_both_faces():
    figure = interactive_figure(make_spec())
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"}
    # the widget view is the live face's widget (what JupyterLab renders)...
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == figure.live.widget.model_id
    # ...the HTML is the static face (what the book renders), and the text is stable
    assert bundle["text/html"] == figure.static.html
    assert 'class="nnbook-static"' in bundle["text/html"]
    assert bundle["text/plain"] == "<interactive figure 'parabola': a = 1, shift = 0>"
    assert "Binder" not in bundle["text/html"] and "nnbook-live-note" not in bundle["text/html"]


def test_both_faces_share_one_drawn_background():
    """interactive_figure runs ``setup`` once (it is the slow part of a figure),
    and each face comes out exactly as if it had drawn its own."""
    calls = []

    def counted_setup(fig):
        calls.append(fig)
        return setup(fig)

    spec = dataclasses.replace(make_spec(), setup=counted_setup)
    figure = interactive_figure(spec)
    assert len(calls) == 1
    assert figure.static.html == static_figure(spec).html  # no live line in the page's background
    assert figure.live.image.value == live_figure(spec).image.value
    assert len(calls) == 3


def test_both_faces_start_at_the_initial_values():
    check_faces_start_at_initial(make_spec())


def test_the_note_is_at_the_same_pixel_on_both_faces():
    spec = make_spec(frame=lambda a, shift: Frame(parabola_frame(a, shift).lines, note="a note"))
    figure = interactive_figure(spec)
    live, static = figure.live, figure.static
    _, height = live.canvas.get_width_height()
    x, y = live.note.get_position()  # pixels from the bottom left (transform=None)
    soup = BeautifulSoup(static.html, "html.parser")
    text = soup.find("text", class_="nnbook-note")
    assert float(text["x"]) == pytest.approx(x, abs=0.05) and float(text["y"]) == pytest.approx(height - y, abs=0.05)
    assert text.get_text() == live.note.get_text() == "a note"
    # above the axes, in the band kept free for it
    assert height - y < height - live.axes[0].bbox.y1


def test_the_live_note_is_painted_in_its_band_and_nowhere_else():
    """The live face paints its note with Pillow (nnbook.sliders.LiveFigure._paint_note):
    the pixels it changes are in the band above the axes, from the note's x on,
    in the note's colour; without a note the band is the bare background."""
    fixed_lines = parabola_frame(1.0, 0.0).lines
    spec = make_spec(frame=lambda a, shift: Frame(fixed_lines, note="a note" if a > 1 else ""))
    live = live_figure(spec)
    pixels = lambda: np.asarray(PILImage.open(io.BytesIO(live.image.value)))[..., :3].astype(int)
    live.update(a=0.5)
    bare = pixels()
    live.update(a=2.0)
    noted = pixels()
    rows, cols = np.nonzero((noted != bare).any(axis=-1))
    assert rows.size > 50  # the text's pixels
    assert rows.max() < live._band_rows < live.canvas.get_width_height()[1] - live.axes[0].bbox.y1
    assert cols.min() >= live.note.get_position()[0] - 1
    ink = np.abs(noted[rows, cols] - np.array(PILImage.new("RGB", (1, 1), NOTE_COLOR).getpixel((0, 0)))).sum(axis=1)
    assert ink.min() < 40  # some pixels are the note's red (the rest are its anti-aliased edges)
    live.update(a=0.5)
    np.testing.assert_array_equal(pixels(), bare)


def test_one_figure_legend_outside_the_axes_with_every_label_once():
    live = live_figure(make_spec())
    assert all(ax.get_legend() is None for ax in live.axes)
    (legend,) = live.fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["a x² + shift"]


def test_live_face_rejects_a_nan_frame_at_construction():
    def nan_frame(a, shift):
        return Frame({"curve": ([0.0, 1.0], [0.0, np.nan])})

    with pytest.raises(FrameError, match="NaN or infinite"):
        live_figure(make_spec(frame=nan_frame))


def test_live_face_shows_a_message_when_one_setting_cannot_be_drawn():
    def nan_when_steep(a, shift):
        frame = parabola_frame(a, shift)
        return Frame({"curve": ([0.0, 1.0], [0.0, np.nan])}) if a > 1.5 else frame

    live = live_figure(make_spec(frame=nan_when_steep))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning escapes
        live.sliders["a"].value = 2.0
    assert "cannot draw" in live.note.get_text() and "NaN" in live.note.get_text()
    assert len(live.lines["curve"].get_xdata()) == 0


def test_live_face_rejects_mismatched_line_lengths():
    def ragged(a, shift):
        return Frame({"curve": ([0.0, 1.0, 2.0], [0.0, 1.0])})

    with pytest.raises(FrameError, match="3 points but y has 2"):
        live_figure(make_spec(frame=ragged))


def test_unknown_line_names_are_reported():
    def typo(a, shift):
        return Frame({"curv": ([0.0], [0.0])})

    with pytest.raises(FrameError, match="no Style"):
        live_figure(make_spec(frame=typo))


# --- The static face --------------------------------------------------------------------------


def parse_static(fig):
    return BeautifulSoup(fig.html, "html.parser"), static_data(fig.spec)[1]


def test_static_face_holds_every_grid_point():
    spec = make_spec()
    fig = static_figure(spec)
    soup, data = parse_static(fig)
    assert data["sizes"] == [5, 3]
    assert len(data["frames"]) == 15
    assert data["labels"] == [["0", "0.5", "1", "1.5", "2"], ["-0.5", "0", "0.5"]]
    inputs = soup.find_all("input", type="range")
    assert [int(i["max"]) for i in inputs] == [4, 2]
    # starts at the initial values, and the markup already shows that frame
    assert [int(i["value"]) for i in inputs] == [2, 1]
    polyline = soup.find("polyline", attrs={"data-line": "curve"})
    assert polyline["points"] == data["frames"][2 * 3 + 1]["lines"][0]
    # every grid point was evaluated by the frame function, in row-major order
    params = [p for p, _, _ in fig.frames]
    assert params == [{"a": a, "shift": s} for a in spec.controls[0].grid for s in spec.controls[1].grid]
    notes = [f["note"] for f in data["frames"]]
    assert notes == ["steep" if a > 1.5 else "" for a in spec.controls[0].grid for _ in range(3)]


def test_a_one_value_grid_is_held_fixed_on_the_page():
    fig = static_figure(make_spec(shift_grid=(0.0,)))
    soup, data = parse_static(fig)
    assert data["sizes"] == [5] and len(data["frames"]) == 5
    assert [i["aria-label"] for i in soup.find_all("input", type="range")] == ["curvature a"]
    assert [p["shift"] for p, _, _ in fig.frames] == [0.0] * 5
    with pytest.raises(ValueError, match="no slider"):
        static_figure(make_spec(a_grid=(1.0,), shift_grid=(0.0,)))


def test_the_page_budget_is_checked_with_a_clear_error():
    fig = static_figure(make_spec())
    size = len(fig.html.encode())
    assert size < STATIC_FIGURE_BYTES
    with pytest.raises(
        ValueError, match=r"weighs \d+ kB, over the budget of 1 kB per figure.*5 a x 3 shift = 15 frames"
    ):
        static_figure(make_spec(), budget=1_000)
    with pytest.raises(ValueError, match="over the budget"):
        interactive_figure(
            make_spec(a_grid=tuple(np.linspace(0, 2, 101)), shift_grid=tuple(np.linspace(-0.5, 0.5, 41)))
        )


def test_static_points_are_matplotlib_pixel_coordinates():
    fig = static_figure(make_spec())
    _, data = parse_static(fig)
    ax = fig.axes[0]
    width, height = fig.spec.figsize[0] * fig.spec.dpi, fig.spec.figsize[1] * fig.spec.dpi
    # frame (a=1, shift=0): the vertex (0, 0) in data space
    ((px, py),) = [tuple(map(float, p.split(","))) for p in data["frames"][7]["lines"][1].split()]
    expected = ax.transData.transform([(0.0, 0.0)])[0]
    assert px == pytest.approx(expected[0], abs=0.5)  # whole pixels
    assert py == pytest.approx(height - expected[1], abs=0.5)
    assert 0 < px < width and 0 < py < height


def _on_path(point, path) -> bool:
    """Whether ``point`` lies on the polyline ``path`` (integer pixels: exact)."""
    (x, y) = point
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
        if cross == 0 and min(ax, bx) <= x <= max(ax, bx) and min(ay, by) <= y <= max(ay, by):
            return True
    return False


def test_static_lines_keep_only_points_that_change_the_path():
    from nnbook.sliders import _drawn_points

    # rests flat, jumps up, comes back down the same line, then a straight ramp
    xy = np.array([(0, 5), (1, 5), (2, 5), (2, 5), (3, 5), (3, 1), (3, 3), (4, 4), (5, 5), (6, 6), (8, 6)])
    kept = _drawn_points(xy, markers=False)
    assert kept.tolist() == [[0, 5], [3, 5], [3, 1], [3, 3], [6, 6], [8, 6]]  # ends, corners, the turn back
    assert all(_on_path(p, kept.tolist()) for p in xy.tolist())  # the same path is drawn
    # a line drawn with markers shows every point (one repeat dropped: it draws the same dot)
    assert len(_drawn_points(xy, markers=True)) == len(xy) - 1


def test_static_frames_differ_when_the_slider_moves():
    _, data = parse_static(static_figure(make_spec()))
    curves = [f["lines"][0] for f in data["frames"]]
    assert len(set(curves)) == len(curves)


def test_static_face_needs_no_network():
    fig = static_figure(make_spec())
    assert "http://" not in fig.html and "https://" not in fig.html
    assert 'src="' not in fig.html  # scripts are inline, the background is a data: URI


def test_static_face_rejects_nan_with_the_setting_that_produced_it():
    def nan_at_two(a, shift):
        return Frame({"curve": ([0.0, 1.0], [0.0, np.nan if a == 2.0 else 1.0])})

    with pytest.raises(FrameError, match=r"a=2\.0, shift=-0\.5.*NaN"):
        static_figure(make_spec(frame=nan_at_two))


def test_huge_values_are_clamped_in_pixels_not_rejected():
    def runaway(a, shift):
        return Frame({"curve": ([0.0, 1.0], [0.0, 1e300])})

    _, data = parse_static(static_figure(make_spec(frame=runaway)))
    ys = [float(p.split(",")[1]) for p in data["frames"][0]["lines"][0].split()]
    assert min(ys) >= -1e4


def test_figure_names_become_safe_html_ids():
    with pytest.raises(ValueError, match="HTML id"):
        FigureSpec("Bad Name!", parabola_frame, make_spec().controls, make_spec().styles, setup, alt="x")
