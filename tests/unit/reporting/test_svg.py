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
