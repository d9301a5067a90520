"""summary.md: a compact Markdown summary for a PR comment or a CI job summary; pure.

It must read well where images from the run directory cannot be shown (GitHub job summaries),
so trends are Unicode sparklines; summary.svg beside it is the same picture for artifact viewers.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from peakday.reporting import svg
from peakday.reporting.alerts import HEADERS as ALERT_HEADERS
from peakday.reporting.alerts import alert_rows
from peakday.reporting.formatting import (
    downsample,
    format_ms_tick,
    format_score,
    format_seconds,
    sparkline,
)
from peakday.reporting.html import STEP_COLORS
from peakday.reporting.latency import MEANING, format_pair
from peakday.reporting.model import ReportView, build_view
from peakday.reporting.traffic import format_bytes
from peakday.results.model import Result

_ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "inconclusive": "❔"}
# Brackets are escaped, so no link or image can form and parentheses may stay as they are.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&])")
_LINE_START = re.compile(r"^(?:([#+\-=])|(\d+)\.)")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
SPARK_WIDTH = 30


def md(text: str, starts_line: bool = False) -> str:
    """User text made inert in Markdown (and in the HTML GitHub allows inside it)."""
    one_line = " ".join(str(text).split())
    escaped = _SPECIAL.sub(lambda m: _ENTITIES.get(m[1], "\\" + m[1]), one_line)
    if not starts_line:
        return escaped
    # No heading or list where the text starts a line: "# x" -> "\# x", "1. x" -> "1\. x".
    return _LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\.", escaped)


def _code(text: str) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def _headline(view: ReportView) -> str:
    score = f" · score {format_score(view.score_total)}" if view.score_total is not None else ""
    outcome = f" ({md(view.outcome)})" if view.outcome else ""
    return (
        f"## {_ICON.get(view.verdict, '')} {md(view.name)}: {view.verdict.upper()}{outcome}{score}"
    )


def _slo_table(view: ReportView) -> list[str]:
    if not view.slos:
        return ["_This experiment declares no SLOs._"]
    lines = ["| | SLO | step | phase | objective | measured |", "|---|---|---|---|---|---|"]
    for slo in view.slos:
        measured = md(slo.measured) + (f" ({md(slo.detail)})" if slo.detail else "")
        name = f"**{md(slo.name)}**" if slo.verdict == "fail" else md(slo.name)
        lines.append(
            f"| {_ICON.get(slo.verdict, slo.verdict)} | {name} | {md(slo.request)} "
            f"| {md(slo.phase)} | {md(slo.metric)} {md(slo.objective)} | {measured} |"
        )
    return lines


_CELL_ICON = {"pass": "🟢", "degraded": "🟡", "broken": "🔴", "no-data": "⚪"}


def _matrix_table(view: ReportView) -> list[str]:
    if view.matrix is None:
        return []
    lines = [
        "| fault | " + " | ".join(md(c) for c in view.matrix.columns) + " |",
        "|---|" + "---|" * len(view.matrix.columns),
    ]
    for fault, cells in view.matrix.rows:
        shown = " | ".join(f"{_CELL_ICON.get(c.status, '')} {md(c.text)}" for c in cells)
        lines.append(f"| {md(fault)} | {shown} |")
    return [
        "**Resiliency matrix** (each step during each fault, against its baseline)",
        "",
        *lines,
        "",
    ]


def _step_table(view: ReportView) -> list[str]:
    if not view.steps:
        return ["_No requests were recorded._"]
    lines = [
        "| step | requests | failed | p95 over time | failures over time |",
        "|---|--:|--:|---|---|",
    ]
    for step in view.steps:
        p95 = sparkline(downsample(list(step.p95_ms), SPARK_WIDTH))
        failed_per_s: list[float | None] = [
            (100.0 - s) if s is not None else None for s in step.success_pct
        ]
        failures = sparkline(downsample(failed_per_s, SPARK_WIDTH)) if step.failures else "none"
        peak = max((v for v in step.p95_ms if v is not None), default=None)
        peak_text = f" (peak {format_ms_tick(round(peak))})" if peak is not None else ""
        lines.append(
            f"| {md(step.name)} | {step.requests:,} | {step.failures:,} "
            f"| {_code(p95)}{peak_text} | {_code(failures) if step.failures else failures} |"
        )
    return lines


def _correction_table(view: ReportView) -> list[str]:
    """Open model: p99 per phase from the intended start and from the actual send."""
    table = view.correction
    if table is None:
        return []
    lines = [
        "| phase | " + " | ".join(md(step) for step in table.steps) + " |",
        "|---|" + "--:|" * len(table.steps),
    ]
    for row in table.phases:
        cells = " | ".join(md(format_pair(cell)) for cell in row.cells)
        lines.append(f"| {md(row.phase)} | {cells} |")
    return [
        "",
        "**p99 by phase, corrected / uncorrected** (open model)",
        "",
        *lines,
        "",
        md(MEANING, starts_line=True),
    ]


def _traffic_table(view: ReportView) -> list[str]:
    """Bytes per proxy over time, and whether each fault reached traffic."""
    traffic = view.traffic
    if traffic is None:
        return []
    if not traffic.measured:
        lines = [f"**Traffic through the proxies:** not measured ({md(traffic.detail)})"]
    else:
        lines = [
            "**Traffic through the proxies** (bytes received, both directions)",
            "",
            "| proxy | bytes | bytes/s over time | peak | most open connections | faults on it |",
            "|---|--:|---|--:|--:|---|",
        ]
        for proxy in traffic.proxies:
            spark = sparkline(downsample([v for _, v in proxy.points], SPARK_WIDTH))
            lines.append(
                f"| {md(proxy.proxy)} | {md(format_bytes(proxy.total_bytes))} | {_code(spark)} "
                f"| {md(format_bytes(proxy.peak_bytes_per_s))}/s "
                f"| {'-' if proxy.max_connections is None else proxy.max_connections} "
                f"| {md(', '.join(proxy.faults)) or '-'} |"
            )
    if traffic.reach:
        lines += [
            "",
            "| fault | on | reached? | before it | during it |",
            "|---|---|---|--:|--:|",
        ]
        icons = {"yes": "✅", "no": "❌", "not-measured": "❔", "not-judged": "-"}
        for row in traffic.reach:
            lines.append(
                f"| {md(row.fault)} | {md(row.target)} | {icons.get(row.reach, '')} "
                f"{md(row.text)} | {md(row.before)} | {md(row.during)} |"
            )
    return [*lines, ""]


def _server_table(view: ReportView) -> list[str]:
    """Each server-side series: min / max / last per phase, then its query."""
    if not view.server_series:
        return []
    phases = [figures.phase for figures in view.server_series[0].phases]
    lines = [
        "**Server-side series (Prometheus), min / max / last per phase:**",
        "",
        "| series | " + " | ".join(md(p) for p in phases) + " |",
        "|---|" + "--:|" * len(phases),
    ]
    for series in view.server_series:
        judged = f", {series.judged}: {series.measured} {series.verdict}" if series.verdict else ""
        lines.append(
            f"| {md(series.name)} ({md(series.kind + judged)}) | "
            + " | ".join(md(f.text) for f in series.phases)
            + " |"
        )
    lines.append("")
    lines += [f"- {md(series.name)}: {_code(series.query)}" for series in view.server_series]
    return [*lines, ""]


def _alerts_table(result: Result) -> list[str]:
    rows = alert_rows(result)
    if not rows:
        return []
    lines = [
        "**Alerts (Prometheus):**",
        "",
        "| " + " | ".join(ALERT_HEADERS) + " |",
        "|" + "---|" * len(ALERT_HEADERS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(md(cell) for cell in row.cells) + " |")
    return [*lines, ""]


def render_markdown(result: Result, view: ReportView | None = None) -> str:
    """summary.md; `view` when the caller already built it from `result` (render it once)."""
    view = view if view is not None else build_view(result)
    out = [_headline(view), ""]
    if view.score is not None and view.score.reason:
        out += [f"**{md(view.score.reason)}**", ""]
    if view.description:
        out += [md(view.description, starts_line=True), ""]
    failed = f"{view.total_failures:,} failed"
    out.append(
        f"{view.slos_passed} of {len(view.slos)} SLOs passed · {view.total_requests:,} requests, "
        f"{failed} · {format_seconds(view.duration_s)} of load · {md(view.platform)} platform · "
        f"run {_code(view.run_id)} ({md(view.status)})"
    )
    out.append("")
    for note in view.notes:
        out += [f"> {md(note)}", ""]
    if view.error:
        out += [f"> **Error:** {md(view.error)}", ""]
    out += _slo_table(view)
    out.append("")
    if view.faults:
        faults = "; ".join(
            f"{md(f.label)} ({md(f.what)} on {_code(f.target)}, {md(f.detail)})"
            for f in view.faults
        )
        out += [f"**Faults:** {faults}", ""]
    out += _matrix_table(view)
    out += _traffic_table(view)
    if view.recovery:
        recovery = "; ".join(
            f"{md(r.fault)}: detected after {format_seconds(r.time_to_detect_s)}, "
            f"{md(r.recovery)}"
            + (
                f" after {format_seconds(r.time_to_recover_s)}"
                if r.time_to_recover_s is not None
                else ""
            )
            for r in view.recovery
        )
        out += [f"**Detection and recovery:** {recovery}", ""]
    out += _alerts_table(result)
    out += _server_table(view)
    out += _step_table(view)
    out += _correction_table(view)
    out.append("")
    out.append(
        "<sub>Charts, resiliency matrix and environment: report.html in the run directory.</sub>"
    )
    return "\n".join(out) + "\n"


def render_summary_svg(result: Result, view: ReportView | None = None) -> str:
    """A small p95-per-step chart with fault windows shaded, to sit beside summary.md."""
    view = view if view is not None else build_view(result)
    chart = svg.Chart(
        title=f"{view.name}: p95 latency per step",
        series=tuple(
            svg.Series(
                step.name,
                tuple((t + 0.5, v) for t, v in zip(step.seconds, step.p95_ms, strict=True)),
                STEP_COLORS[i % len(STEP_COLORS)],
            )
            for i, step in enumerate(view.steps)
        ),
        x_max=view.duration_s,
        y_format=format_ms_tick,
        bands=tuple(svg.Band(f.start_s, f.end_s, f.label) for f in view.faults if f.applied),
        y_min=0.0,
        css_class="chart summary",
    )
    style = Markup(
        "<style>text{font:11px sans-serif;fill:#1f2328}.chart-title{font-size:13px;"
        "font-weight:600}.grid{stroke:#eaeef2}.frame{fill:none;stroke:#d1d9e0}"
        ".series{fill:none;stroke-width:1.8}.fault-band{fill:#cf222e;fill-opacity:.12}"
        ".band-label{fill:#a40e26;font-size:10px}</style>"
    )
    rendered = str(svg.render_chart(chart))
    head, _, rest = rendered.partition(">")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{head}>{style}{rest}\n'
