"""The two faces of an interactive figure (nnbook.sliders), driven headlessly."""

import json
import re
import warnings

import numpy as np
import pytest
from bs4 import BeautifulSoup

from nnbook.sliders import Control, FigureSpec, Frame, FrameError, Style, live_figure, static_figure


def parabola_frame(a, shift):
    x = np.linspace(-1.0, 1.0, 21)
    y = a * x**2 + shift
    note = "steep" if a > 1.5 else ""
    return Frame({"curve": (x, y), "vertex": ([0.0], [shift])}, note=note)


def setup(fig):
    ax = fig.add_subplot()
    ax.set(xlim=(-1, 1), ylim=(-1, 3))
    return [ax]


def make_spec(frame=parabola_frame, a_values=(0.0, 0.5, 1.0, 1.5, 2.0), shift_values=(-0.5, 0.0, 0.5)):
    return FigureSpec(
        name="parabola",
        frame=frame,
        controls=[Control("a", "curvature a", a_values, initial=1.0), Control("shift", "shift", shift_values, initial=0.0)],
        styles={"curve": Style(label="a x² + shift"), "vertex": Style(color="C1", marker=True)},
        setup=setup,
        alt="A parabola whose curvature and height follow two sliders.",
    )


# --- Control validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ([], "empty"),
        ([0.0, 2.0, 1.0], "strictly increasing"),
        ([0.0, 0.0], "strictly increasing"),
        ([0.0, float("nan")], "NaN"),
        ([0.0, float("inf")], "NaN or infinite"),
    ],
)
def test_bad_grids_are_rejected_with_a_clear_message(values, message):
    with pytest.raises(ValueError, match=message):
        Control("a", "a", values)


def test_initial_value_must_be_on_the_grid():
    with pytest.raises(ValueError, match="not on the grid"):
        Control("a", "a", [0.0, 1.0], initial=0.5)


def test_log_slider_needs_positive_values():
    with pytest.raises(ValueError, match="positive"):
        Control("lr", "lr", [0.0, 0.1], scale="log")


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
    live = live_figure(make_spec())
    assert live.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_live_face_has_a_stable_text_twin():
    bundle = live_figure(make_spec())._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Binder" in bundle["text/plain"]
    assert re.search(r"[0-9a-f]{32}", bundle["text/plain"]) is None  # no model id in compared text


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
    soup = BeautifulSoup(fig.html, "html.parser")
    data = json.loads(soup.find("script", type="application/json").string)
    return soup, data


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
    assert params == [{"a": a, "shift": s} for a in spec.controls[0].values for s in spec.controls[1].values]
    notes = [f["note"] for f in data["frames"]]
    assert notes == ["steep" if a > 1.5 else "" for a in spec.controls[0].values for _ in range(3)]


def test_static_points_are_matplotlib_pixel_coordinates():
    fig = static_figure(make_spec())
    _, data = parse_static(fig)
    ax = fig.axes[0]
    width, height = fig.spec.figsize[0] * fig.spec.dpi, fig.spec.figsize[1] * fig.spec.dpi
    # frame (a=1, shift=0): the vertex (0, 0) in data space
    (px, py), = [tuple(map(float, p.split(","))) for p in data["frames"][7]["lines"][1].split()]
    expected = ax.transData.transform([(0.0, 0.0)])[0]
    assert px == pytest.approx(expected[0], abs=0.5)  # whole pixels
    assert py == pytest.approx(height - expected[1], abs=0.5)
    assert 0 < px < width and 0 < py < height


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
