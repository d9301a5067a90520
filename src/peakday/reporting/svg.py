"""Inline SVG line charts built in Python (pure), so report.html needs no script and no network.

Every piece of text that reaches the markup goes through `markupsafe.escape`; the charts carry
fault and step names, which come from the user's experiment file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from peakday.reporting.downsample import downsample
from peakday.reporting.svglayout import (
    PlacedLabel,
    legend_rows,
    place_labels,
    rows_used,
    text_width,
)

Point = tuple[float, float | None]


@dataclass(frozen=True)
class Series:
    """One line; a None value breaks the line (a second with no data is not drawn as zero)."""

    label: str
    points: tuple[Point, ...]
    color: str
    dash: str = ""


@dataclass(frozen=True)
class Band:
    """A shaded span of the x axis: a fault window."""

    start: float
    end: float
    label: str
    kind: str = "fault"  # css class "<kind>-band": fault, warmup


@dataclass(frozen=True)
class Threshold:
    """A horizontal objective line, drawn over the x spans it applies to (all when empty)."""

    value: float
    label: str
    spans: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Chart:
    title: str
    series: tuple[Series, ...]
    x_max: float
    y_format: Callable[[float], str]
    bands: tuple[Band, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    y_min: float | None = None
    y_max: float | None = None
    width: int = 640
    height: int = 220
    css_class: str = "chart"
    x_label: str = "seconds since load start"
    extra_y: tuple[float, ...] = field(default=())  # values the y axis must include, e.g. 0
    # Lines of small print under the title, e.g. what solid and dashed lines mean.
    notes: tuple[str, ...] = ()


# Plot area margins in SVG units; the top one grows by a line per note and per extra label row.
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 12, 26, 40
_NOTE_LINE, _LABEL_LINE = 13, 12
_BAND_LABEL_PX, _TITLE_PX = 10, 13  # report.css: svg .band-label, svg .chart-title
_NOTE_STYLE = 'font-size="10" fill="#59636e"'  # attributes, not CSS: report.css stays as it was


def band_labels(chart: Chart, sx: Callable[[float], float]) -> tuple[PlacedLabel, ...]:
    """The fault-window labels, each just inside its window's start, in rows that never clash."""
    starts = [(sx(b.start) + 3, b.label) for b in chart.bands if b.kind == "fault"]
    return place_labels(starts, font_px=_BAND_LABEL_PX, right=float(chart.width - _RIGHT))


def nice_step(span: float, count: int) -> float:
    """A 1-2-5 step that cuts `span` into about `count` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, count)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    step = nice_step(high - low, count)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _y_range(chart: Chart) -> tuple[float, float]:
    values = [v for s in chart.series for _, v in s.points if v is not None]
    values += [t.value for t in chart.thresholds]
    values += list(chart.extra_y)
    low = chart.y_min if chart.y_min is not None else min(values, default=0.0)
    high = chart.y_max if chart.y_max is not None else max(values, default=1.0)
    if chart.y_max is None and high > low:
        high += (high - low) * 0.08  # headroom so the top line is not glued to the frame
    if high <= low:
        high = low + 1.0
    ticks = nice_ticks(low, high)
    low = low if chart.y_min is not None else ticks[0]
    high = high if chart.y_max is not None else ticks[-1]
    return low, high


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _segments(points: Sequence[Point]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((x, y))
    return [s for s in segments if s]


def render_chart(chart: Chart) -> Markup:
    """The chart as an <svg> element that scales to its container."""
    width = chart.width
    plot_w = width - _LEFT - _RIGHT
    plot_h = chart.height - _TOP - _BOTTOM
    x_max = chart.x_max if chart.x_max > 0 else 1.0
    y_low, y_high = _y_range(chart)

    def sx(x: float) -> float:
        return _LEFT + max(0.0, min(x, x_max)) / x_max * plot_w

    legend = _legend_layout(chart)
    notes_y = 16 + _NOTE_LINE * len(legend)  # the line under the legend's last row
    labels = band_labels(chart, sx)
    # Label rows past the first sit above the plot, in fault bands drawn taller to hold them.
    label_rise = _LABEL_LINE * (rows_used(labels) - 1)
    top = _TOP + _NOTE_LINE * (len(legend) - 1 + len(chart.notes)) + label_rise
    height = top + plot_h + _BOTTOM

    def sy(y: float) -> float:
        clamped = max(y_low, min(y, y_high))
        return top + plot_h - (clamped - y_low) / (y_high - y_low) * plot_h

    parts: list[str] = [
        f'<svg class="{escape(chart.css_class)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(chart.title)}</title>",
        f'<text class="chart-title" x="{_LEFT}" y="16">{escape(chart.title)}</text>',
    ]
    for i, note in enumerate(chart.notes):
        parts.append(
            f'<text class="chart-note" x="{_LEFT}" y="{notes_y + _NOTE_LINE * i}" '
            f"{_NOTE_STYLE}>{escape(note)}</text>"
        )
    placed = iter(labels)
    for band in chart.bands:
        x0, x1 = sx(band.start), sx(band.end)
        rise = label_rise if band.kind == "fault" else 0
        parts.append(
            f'<rect class="{escape(band.kind)}-band" x="{_fmt(x0)}" y="{top - rise}" '
            f'width="{_fmt(max(1.0, x1 - x0))}" height="{plot_h + rise}">'
            f"<title>{escape(band.label)}</title></rect>"
        )
        label = next(placed) if band.kind == "fault" else None
        if label is not None and label.text:  # no room at all: the band's tooltip names it
            parts.append(_band_label(label, top))
    for tick in nice_ticks(y_low, y_high):
        if tick < y_low - 1e-9 or tick > y_high + 1e-9:
            continue
        y = sy(tick)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{width - _RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
        )
        parts.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">'
            f"{escape(chart.y_format(tick))}</text>"
        )
    for tick in nice_ticks(0.0, x_max, 8):
        if tick > x_max + 1e-9:
            continue
        x = sx(tick)
        parts.append(
            f'<text class="tick" x="{_fmt(x)}" y="{height - _BOTTOM + 16}" '
            f'text-anchor="middle">{_fmt(tick)}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="{_LEFT + plot_w / 2:.0f}" y="{height - 6}" '
        f'text-anchor="middle">{escape(chart.x_label)}</text>'
    )
    parts.append(f'<rect class="frame" x="{_LEFT}" y="{top}" width="{plot_w}" height="{plot_h}"/>')
    for threshold in chart.thresholds:
        y = sy(threshold.value)
        for start, end in threshold.spans or ((0.0, x_max),):
            parts.append(
                f'<line class="slo-line" x1="{_fmt(sx(start))}" x2="{_fmt(sx(end))}" '
                f'y1="{_fmt(y)}" y2="{_fmt(y)}"><title>{escape(threshold.label)}</title></line>'
            )
        first_start = (threshold.spans or ((0.0, x_max),))[0][0]
        parts.append(
            f'<text class="slo-label" x="{_fmt(sx(first_start) + 3)}" y="{_fmt(y - 3)}">'
            f"{escape(threshold.label)}</text>"
        )
    for series in chart.series:
        dash = f' stroke-dasharray="{escape(series.dash)}"' if series.dash else ""
        for segment in _segments(downsample(series.points)):  # long runs: peaks kept
            if len(segment) == 1:
                x, y = segment[0]
                parts.append(
                    f'<circle cx="{_fmt(sx(x))}" cy="{_fmt(sy(y))}" r="1.8" '
                    f'fill="{escape(series.color)}"/>'
                )
                continue
            coords = " ".join(f"{_fmt(sx(x))},{_fmt(sy(y))}" for x, y in segment)
            parts.append(
                f'<polyline class="series" points="{coords}" stroke="{escape(series.color)}"'
                f"{dash}><title>{escape(series.label)}</title></polyline>"
            )
    parts.append(_legend(chart, legend))
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _band_label(label: PlacedLabel, top: int) -> str:
    tooltip = f"<title>{escape(label.full_text)}</title>" if label.truncated else ""
    return (
        f'<text class="band-label" x="{_fmt(label.x)}" y="{top + 11 - _LABEL_LINE * label.row}">'
        f"{tooltip}{escape(label.text)}</text>"
    )


def _legend_width(series: Series) -> float:
    return 6.5 * len(series.label) + 22  # about 6.5 units per character at 11px, plus the swatch


def _legend_layout(chart: Chart) -> tuple[tuple[int, ...], ...]:
    """Series (by index) per legend row: the first row right of the title, then under it."""
    if not chart.series:
        return ((),)
    return legend_rows(
        [_legend_width(s) for s in chart.series],
        right=float(chart.width - _RIGHT),
        first_row_left=_LEFT + text_width(chart.title, _TITLE_PX) + 12,
        left=float(_LEFT),
    )


def _legend(chart: Chart, rows: tuple[tuple[int, ...], ...]) -> str:
    items: list[str] = []
    for row_index, row in enumerate(rows):
        line_y, text_y = 12 + _NOTE_LINE * row_index, 16 + _NOTE_LINE * row_index
        x = float(chart.width - _RIGHT)
        # Right-aligned, laid out from the right edge.
        row_items = []
        for series in (chart.series[i] for i in reversed(row)):
            x -= _legend_width(series)
            dash = f' stroke-dasharray="{escape(series.dash)}"' if series.dash else ""
            row_items.append(
                f'<line x1="{_fmt(x)}" x2="{_fmt(x + 14)}" y1="{line_y}" y2="{line_y}" '
                f'stroke="{escape(series.color)}" stroke-width="2.5"{dash}/>'
                f'<text class="legend" x="{_fmt(x + 18)}" y="{text_y}">'
                f"{escape(series.label)}</text>"
            )
        items.extend(reversed(row_items))
    return '<g class="legend">' + "".join(items) + "</g>"
