"""report.html: one self-contained page (inline CSS and SVG, no script, no network); pure,
apart from where the compiled template is kept (reporting.template_cache).

Jinja2 autoescapes everything; the only Markup passed in is SVG built by reporting.svg, which
escapes its own text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jinja2
from markupsafe import Markup

from peakday.experiment.units import format_measure
from peakday.reporting import svg
from peakday.reporting.alerts import HEADERS as ALERT_HEADERS
from peakday.reporting.alerts import alert_rows
from peakday.reporting.formatting import (
    format_ms_tick,
    format_percent_tick,
    format_rps_tick,
    format_score,
    format_seconds,
)
from peakday.reporting.latency import CORRECTED, UNCORRECTED, format_pair
from peakday.reporting.model import ReportView, StepView, build_view, is_latency
from peakday.reporting.resources import METRICS, ResourceSeries
from peakday.reporting.server_charts import server_charts
from peakday.reporting.template_cache import template_cache
from peakday.reporting.traffic import format_bytes_tick
from peakday.results.model import Result

# Colour-blind-friendly (Okabe-Ito) palette for lines.
PERCENTILE_COLORS = {"p50": "#0072B2", "p95": "#E69F00", "p99": "#D55E00"}
STEP_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
SUCCESS_COLOR = "#009E73"
UNCORRECTED_DASH = "5 3"
LATENCY_NOTES = (f"solid = corrected: {CORRECTED}", f"dashed = uncorrected: {UNCORRECTED}")


@dataclass(frozen=True)
class StepCharts:
    step: StepView
    latency: Markup
    success: Markup


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("peakday", "reporting/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=template_cache(),
    )
    env.filters["measure"] = format_measure
    env.filters["seconds"] = format_seconds
    env.filters["score"] = format_score
    env.filters["p99_pair"] = format_pair
    return env


def _bands(view: ReportView) -> tuple[svg.Band, ...]:
    bands = [svg.Band(0.0, view.warmup_s, "warmup", kind="warmup")] if view.warmup_s > 0 else []
    bands += [svg.Band(f.start_s, f.end_s, f.label) for f in view.faults if f.applied]
    return tuple(bands)


def _points(seconds: tuple[int, ...], values: tuple[float | None, ...]) -> tuple[svg.Point, ...]:
    # A row covers [t, t+1): plot it at its middle so it lines up with the fault bands.
    return tuple((t + 0.5, v) for t, v in zip(seconds, values, strict=True))


def latency_series(view: ReportView, step: StepView) -> tuple[svg.Series, ...]:
    """p50/p95/p99 solid; in the open model also p95/p99 from the actual send, dashed."""
    series = [
        svg.Series(label, _points(step.seconds, values), PERCENTILE_COLORS[label])
        for label, values in (("p50", step.p50_ms), ("p95", step.p95_ms), ("p99", step.p99_ms))
    ]
    if view.correction is not None:
        series += [
            svg.Series(
                f"{label} uncorrected",
                _points(step.seconds, values),
                PERCENTILE_COLORS[label],
                dash=UNCORRECTED_DASH,
            )
            for label, values in (
                ("p95", step.uncorrected_p95_ms),
                ("p99", step.uncorrected_p99_ms),
            )
        ]
    return tuple(series)


def step_charts(view: ReportView, step: StepView) -> StepCharts:
    bands = _bands(view)
    latency_lines = tuple(
        svg.Threshold(line.value, line.label, line.spans)
        for line in step.slo_lines
        if is_latency(line.metric)
    )
    latency = svg.Chart(
        title=f"{step.name}: latency",
        series=latency_series(view, step),
        notes=LATENCY_NOTES if view.correction is not None else (),
        x_max=view.duration_s,
        y_format=format_ms_tick,
        bands=bands,
        thresholds=latency_lines,
        y_min=0.0,
        css_class="chart latency",
    )
    success_lines = tuple(
        svg.Threshold(line.value, line.label, line.spans)
        for line in step.slo_lines
        if line.metric == "success_rate"
    )
    lowest = min((v for v in step.success_pct if v is not None), default=100.0)
    floor = min([lowest, *(t.value for t in success_lines)])
    success = svg.Chart(
        title=f"{step.name}: success rate",
        series=(svg.Series("success", _points(step.seconds, step.success_pct), SUCCESS_COLOR),),
        x_max=view.duration_s,
        y_format=format_percent_tick,
        bands=bands,
        thresholds=success_lines,
        y_min=max(0.0, svg.nice_ticks(floor - max(1.0, (100 - floor) * 0.1), 100.0)[0]),
        y_max=100.0,
        css_class="chart success",
    )
    return StepCharts(step, svg.render_chart(latency), svg.render_chart(success))


def throughput_chart(view: ReportView) -> Markup:
    thresholds = tuple(
        svg.Threshold(line.value, f"{step.name}: {line.label}", line.spans)
        for step in view.steps
        for line in step.slo_lines
        if line.metric == "rps"
    )
    chart = svg.Chart(
        title="throughput (requests started per second)",
        series=tuple(
            svg.Series(
                step.name, _points(step.seconds, step.rps), STEP_COLORS[i % len(STEP_COLORS)]
            )
            for i, step in enumerate(view.steps)
        ),
        x_max=view.duration_s,
        y_format=format_rps_tick,
        bands=_bands(view),
        thresholds=thresholds,
        y_min=0.0,
        width=1300,
        height=300,
        css_class="chart throughput",
    )
    return svg.render_chart(chart)


def resource_charts(view: ReportView, resources: Sequence[ResourceSeries]) -> list[Markup]:
    """CPU and memory per service, one chart per metric, fault windows shaded."""
    services = sorted({s.service for s in resources})
    colours = {name: STEP_COLORS[i % len(STEP_COLORS)] for i, name in enumerate(services)}
    charts = []
    for metric, title in METRICS:
        series = tuple(
            svg.Series(s.service, s.points, colours[s.service])
            for s in resources
            if s.metric == metric
        )
        if not series:
            continue
        chart = svg.Chart(
            title=f"services: {title}",
            series=series,
            x_max=view.duration_s,
            y_format=lambda v: f"{v:g}",
            bands=_bands(view),
            y_min=0.0,
            css_class="chart resources",
        )
        charts.append(svg.render_chart(chart))
    return charts


def traffic_chart(view: ReportView) -> Markup | None:
    """Bytes per second through each proxy (received, both directions), fault windows shaded:
    a fault on a proxy whose line is flat at 0 reached nothing."""
    traffic = view.traffic
    if traffic is None or not traffic.proxies:
        return None
    chart = svg.Chart(
        title="traffic through each proxy (bytes/s received, both directions)",
        series=tuple(
            svg.Series(proxy.proxy, proxy.points, STEP_COLORS[i % len(STEP_COLORS)])
            for i, proxy in enumerate(traffic.proxies)
        ),
        x_max=view.duration_s,
        y_format=format_bytes_tick,
        bands=_bands(view),
        y_min=0.0,
        width=1300,
        height=260,
        css_class="chart traffic",
    )
    return svg.render_chart(chart)


def load_charts(view: ReportView) -> list[Markup]:
    """The load generator's CPU and event-loop lag, and open-model arrivals when planned."""
    health = view.load_health
    if health is None:
        return []
    charts = []
    colours = STEP_COLORS
    for title, lines, fmt in (
        ("load generator: CPU %", health.cpu, format_percent_tick),
        ("load generator: event-loop lag", health.lag, format_ms_tick),
    ):
        if lines:
            chart = svg.Chart(
                title=title,
                series=tuple(
                    svg.Series(name, points, colours[i % len(colours)])
                    for i, (name, points) in enumerate(lines)
                ),
                x_max=view.duration_s,
                y_format=fmt,
                bands=_bands(view),
                y_min=0.0,
                css_class="chart generator",
            )
            charts.append(svg.render_chart(chart))
    if health.arrivals:
        series = []
        for i, (journey, planned, started) in enumerate(health.arrivals):
            colour = colours[i % len(colours)]
            series.append(svg.Series(f"{journey} planned", planned, colour, dash="4 3"))
            series.append(svg.Series(f"{journey} started", started, colour))
        chart = svg.Chart(
            title="arrivals per second: planned vs started",
            series=tuple(series),
            x_max=view.duration_s,
            y_format=format_rps_tick,
            bands=_bands(view),
            y_min=0.0,
            css_class="chart arrivals",
        )
        charts.append(svg.render_chart(chart))
    return charts


def render_html(
    result: Result, resources: Sequence[ResourceSeries] = (), view: ReportView | None = None
) -> str:
    """The whole report page for one result (and the services' CPU/memory when sampled);
    `view` when the caller already built it from `result`."""
    view = view if view is not None else build_view(result)
    template = environment().get_template("report.html.j2")
    return template.render(
        view=view,
        step_charts=[step_charts(view, step) for step in view.steps],
        throughput=throughput_chart(view),
        resource_charts=resource_charts(view, resources),
        traffic_chart=traffic_chart(view),
        server_charts=server_charts(view),
        load_charts=load_charts(view),
        schema_version=result.schema_version,
        alert_headers=ALERT_HEADERS,
        alerts=alert_rows(result),
    )
