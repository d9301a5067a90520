from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from peakday.reporting.svg import Band, Chart, Series, Threshold, nice_ticks, render_chart

SVG = "{http://www.w3.org/2000/svg}"


def chart(**changes: object) -> Chart:
    base: dict[str, object] = {
        "title": "login: latency",
        "series": (Series("p95", ((0.5, 10.0), (1.5, 20.0), (2.5, 30.0)), "#E69F00"),),
        "x_max": 3.0,
        "y_format": lambda v: f"{v:g} ms",
    }
    base.update(changes)
    return Chart(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 10, [0, 2, 4, 6, 8, 10]),
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 2300, [0, 500, 1000, 1500, 2000, 2500]),
        (98.0, 100.0, [98.0, 98.5, 99.0, 99.5, 100.0]),
    ],
    ids=["units", "fractions", "thousands", "percent-zoom"],
)
def test_ticks_are_round_and_cover_the_range(
    low: float, high: float, expected: list[float]
) -> None:
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_chart_is_well_formed_svg_with_one_polyline_per_series() -> None:
    root = ET.fromstring(str(render_chart(chart())))
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f".//{SVG}polyline")) == 1


def test_missing_seconds_break_the_line_instead_of_dropping_to_zero() -> None:
    points = ((0.5, 10.0), (1.5, None), (2.5, 30.0), (3.5, 31.0))
    root = ET.fromstring(str(render_chart(chart(series=(Series("p95", points, "#000"),), x_max=4))))
    assert len(root.findall(f".//{SVG}polyline")) == 1  # 2.5..3.5
    assert len(root.findall(f".//{SVG}circle")) == 1  # the lone 0.5 point


def test_bands_and_thresholds_are_drawn_with_their_labels() -> None:
    svg = str(
        render_chart(
            chart(
                bands=(Band(1.0, 2.0, "login-latency"),),
                thresholds=(Threshold(25.0, "p95 < 25ms", ((1.0, 2.0),)),),
            )
        )
    )
    root = ET.fromstring(svg)
    band = root.find(f".//{SVG}rect[@class='fault-band']")
    assert band is not None and band.findtext(f"{SVG}title") == "login-latency"
    line = root.find(f".//{SVG}line[@class='slo-line']")
    assert line is not None and line.get("x1") != line.get("x2")
    assert "p95 &lt; 25ms" in svg


def test_text_is_escaped() -> None:
    svg = str(render_chart(chart(title="<script>x</script>", bands=(Band(0, 1, '"><b>'),))))
    ET.fromstring(svg)  # still well-formed
    assert "<script>" not in svg and "<b>" not in svg


def test_empty_chart_renders() -> None:
    ET.fromstring(str(render_chart(chart(series=(), x_max=0))))


def _labels(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}text[@class='band-label']")


def test_a_single_fault_window_is_laid_out_as_before() -> None:
    rendered = str(render_chart(chart(bands=(Band(1.0, 2.0, "login-latency"),))))
    root = ET.fromstring(rendered)

    assert root.get("viewBox") == "0 0 640 220"
    (label,) = _labels(root)
    assert (label.get("y"), label.text) == ("37", "login-latency")  # just inside the frame
    assert label.find(f"{SVG}title") is None
    band = root.find(f".//{SVG}rect[@class='fault-band']")
    frame = root.find(f".//{SVG}rect[@class='frame']")
    assert band is not None and frame is not None
    assert (band.get("y"), band.get("height")) == ("26", "154")
    assert (frame.get("y"), frame.get("height")) == ("26", "154")


def test_adjacent_fault_labels_get_their_own_rows_and_the_chart_grows_to_hold_them() -> None:
    bands = (
        Band(40.0, 55.0, "login-slow"),
        Band(55.0, 75.0, "token-issuance-fails"),
        Band(75.0, 100.0, "login-hangs"),
    )
    root = ET.fromstring(str(render_chart(chart(bands=bands, x_max=150.0))))

    labels = _labels(root)
    assert [label.text for label in labels] == [band.label for band in bands]
    assert [label.get("y") for label in labels] == ["49", "37", "49"]
    assert root.get("viewBox") == "0 0 640 232"  # one more row; the plot keeps its size
    frame = root.find(f".//{SVG}rect[@class='frame']")
    assert frame is not None and (frame.get("y"), frame.get("height")) == ("38", "154")
    drawn = root.findall(f".//{SVG}rect[@class='fault-band']")
    # One band per window, each taller, to hold row 2.
    assert [(band.get("y"), band.get("height")) for band in drawn] == [("26", "166")] * len(bands)


def test_a_cut_label_keeps_its_full_name_as_a_tooltip() -> None:
    root = ET.fromstring(str(render_chart(chart(bands=(Band(2.9, 3.0, "token-issuance-fails"),)))))

    (label,) = _labels(root)
    assert label.findtext(f"{SVG}title") == "token-issuance-fails"
    assert "".join(label.itertext()).endswith("…")


def test_notes_sit_under_the_title_and_push_the_plot_down() -> None:
    root = ET.fromstring(str(render_chart(chart(notes=("solid = a", "dashed = b")))))

    notes = root.findall(f".//{SVG}text[@class='chart-note']")
    assert [n.text for n in notes] == ["solid = a", "dashed = b"]
    frame = root.find(f".//{SVG}rect[@class='frame']")
    assert frame is not None and frame.get("y") == str(26 + 2 * 13)
    assert root.get("viewBox") == f"0 0 640 {220 + 2 * 13}"


def test_the_legend_draws_a_dashed_series_dashed() -> None:
    series = (
        Series("p99", ((0.5, 1.0), (1.5, 2.0)), "#D55E00"),
        Series("p99 uncorrected", ((0.5, 1.0), (1.5, 1.5)), "#D55E00", dash="5 3"),
    )
    root = ET.fromstring(str(render_chart(chart(series=series))))

    legend = root.findall(f".//{SVG}g[@class='legend']/{SVG}line")
    assert [line.get("stroke-dasharray") for line in legend] == [None, "5 3"]


def test_a_long_legend_wraps_under_the_title_instead_of_running_off_the_chart() -> None:
    series = tuple(
        Series(f"{journey} {what}", ((0.5, 1.0), (1.5, 2.0)), "#0072B2")
        for journey in ("merchant", "pos", "shopper")
        for what in ("planned", "started")
    )
    root = ET.fromstring(
        str(render_chart(chart(title="arrivals per second: planned vs started", series=series)))
    )

    texts = root.findall(f".//{SVG}g[@class='legend']/{SVG}text")
    assert [t.text for t in texts] == [s.label for s in series]  # every one, in order
    assert {t.get("y") for t in texts} == {"16", "29"}  # two rows
    assert min(float(t.get("x") or 0) for t in texts) >= 58  # none off the left edge
    first_row = [float(t.get("x") or 0) for t in texts if t.get("y") == "16"]
    assert min(first_row) > 58 + 39 * 0.6 * 13  # clear of the title
    frame = root.find(f".//{SVG}rect[@class='frame']")
    assert frame is not None and frame.get("y") == str(26 + 13)
