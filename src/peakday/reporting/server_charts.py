"""One chart per server-side series (pure): the PromQL query's value each second, with the
warm-up and fault windows shaded and each objective drawn over the phase it judges, as on the
step charts; the query itself in the chart's small print. report.html and the live dashboard
both draw these.
"""

from __future__ import annotations

import textwrap

from markupsafe import Markup

from peakday.reporting import svg
from peakday.reporting.model import ReportView
from peakday.reporting.server_series import ServerSeriesView
from peakday.reporting.svglayout import CHAR_WIDTH_EM

SERIES_COLOR = "#0072B2"
WIDTH = 640
NOTE_PX = 10  # svg._NOTE_STYLE's font size
MAX_QUERY_LINES = 4


def _bands(view: ReportView) -> tuple[svg.Band, ...]:
    # The same bands as html.py's charts: warm-up, then each fault that was applied.
    bands = [svg.Band(0.0, view.warmup_s, "warmup", kind="warmup")] if view.warmup_s > 0 else []
    bands += [svg.Band(f.start_s, f.end_s, f.label) for f in view.faults if f.applied]
    return tuple(bands)


def query_notes(query: str, width: int = WIDTH) -> tuple[str, ...]:
    """The query as note lines that fit the chart (estimated like svglayout), the last cut
    with an ellipsis when it needs more than MAX_QUERY_LINES."""
    chars = max(20, int((width - 70) / (NOTE_PX * CHAR_WIDTH_EM)))
    # The label as an indent: a first term longer than the rest of the line is cut there
    # rather than leaving "PromQL:" alone on its line.
    lines = textwrap.wrap(query, chars, initial_indent="PromQL: ", break_on_hyphens=False)
    if len(lines) > MAX_QUERY_LINES:
        last = lines[MAX_QUERY_LINES - 1]
        lines = [*lines[: MAX_QUERY_LINES - 1], last[: chars - 1].rstrip() + "…"]
    return tuple(lines)


def format_value_tick(value: float) -> str:
    return f"{value:g}"


def server_chart(view: ReportView, series: ServerSeriesView) -> Markup:
    points = tuple((t + 0.5, v) for t, v in zip(series.seconds, series.values, strict=True))
    present = [v for v in series.values if v is not None]
    levels = [line.value for line in series.lines]
    chart = svg.Chart(
        title=f"{series.name}: server-side (Prometheus)",
        series=(svg.Series("value", points, SERIES_COLOR),),
        x_max=view.duration_s,
        y_format=format_value_tick,
        bands=_bands(view),
        thresholds=tuple(
            svg.Threshold(line.value, line.label, line.spans) for line in series.lines
        ),
        # From 0 for a series that never goes below it (rates, ratios, counts).
        y_min=0.0 if all(v >= 0 for v in [*present, *levels]) else None,
        width=WIDTH,
        css_class="chart server",
        notes=query_notes(series.query),
    )
    return svg.render_chart(chart)


def server_charts(view: ReportView) -> list[Markup]:
    return [server_chart(view, series) for series in view.server_series]
