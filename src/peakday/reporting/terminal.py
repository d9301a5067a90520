"""The end-of-run summary for the terminal, as rich renderables (pure: nothing printed here)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from peakday.experiment.units import format_measure
from peakday.reporting import extras
from peakday.reporting.alerts import HEADERS as ALERT_HEADERS
from peakday.reporting.alerts import alert_rows
from peakday.reporting.formatting import format_score, format_seconds
from peakday.reporting.latency import MEANING, correction_table, format_pair
from peakday.results.model import Result
from peakday.scoring.window_text import objective_text

VERDICT_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "warn": "bold yellow",
    "inconclusive": "bold yellow",
}


def slo_table(result: Result) -> Table:
    table = Table(title="SLOs", title_justify="left")
    for column in ("SLO", "step", "metric", "phase", "objective", "measured", "verdict"):
        table.add_column(column)
    for slo in result.slos:
        verdict = Text(slo.verdict, style=VERDICT_STYLE.get(slo.verdict, "bold"))
        measured = format_measure(slo.value, slo.unit) + (f" ({slo.detail})" if slo.detail else "")
        cells = (slo.name, slo.request, slo.metric, slo.phase, objective_text(slo), measured)
        table.add_row(*(escape(c) for c in cells), verdict)
    return table


def phase_table(result: Result) -> Table:
    table = Table(title="Phases and faults", title_justify="left")
    noted = any(phase.note for phase in result.phases)
    for column in ("phase", "from (s)", "to (s)", *(("note",) if noted else ())):
        table.add_column(column)
    for phase in result.phases:
        cells = [escape(phase.name), f"{phase.start_s:.2f}", f"{phase.end_s:.2f}"]
        table.add_row(*cells, *((escape(phase.note),) if noted else ()))
    return table


def correction_p99_table(result: Result) -> RenderableType | None:
    """Open model: p99 per phase and step, corrected / uncorrected; None for the closed model."""
    correction = correction_table(result)
    if correction is None:
        return None
    table = Table(title="p99 by phase, corrected / uncorrected", title_justify="left")
    table.add_column("phase")
    for step in correction.steps:
        table.add_column(escape(step), justify="right")
    for row in correction.phases:
        table.add_row(escape(row.phase), *(format_pair(cell) for cell in row.cells))
    return Group(table, Text(MEANING))


def recovery_table(result: Result) -> Table | None:
    rows = extras.recovery_rows(result)
    if not rows:
        return None
    table = Table(title="Detection and recovery", title_justify="left")
    for column in ("fault", "time to detect", "time to recover"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row.fault),
            format_seconds(row.time_to_detect_s),
            format_seconds(row.time_to_recover_s),
        )
    return table


def alerts_table(result: Result) -> Table | None:
    rows = alert_rows(result)
    if not rows:
        return None
    table = Table(title="Alerts (Prometheus)", title_justify="left")
    for column in ALERT_HEADERS:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row.cells))
    return table


def format_summary(result: Result, run_dir: str) -> RenderableType:
    steps: dict[str, tuple[int, int]] = {}
    for row in result.timeline:
        requests, failures = steps.get(row.name, (0, 0))
        steps[row.name] = (requests + row.requests, failures + row.failures)
    totals = ", ".join(f"{name} {req} req / {fail} failed" for name, (req, fail) in steps.items())
    score = extras.score(result)
    headline = Text.assemble(
        (f"{result.experiment.name}: ", "bold"),
        (result.verdict.upper(), VERDICT_STYLE.get(result.verdict, "bold")),
        (f"  score {format_score(score)}" if score is not None else "", "bold"),
        f"  (run {result.run.status}, {result.run.platform} platform)",
    )
    parts: list[RenderableType] = [
        headline,
        Text(f"Requests: {totals or 'none recorded'}"),  # Text: never parsed as markup
        phase_table(result),
    ]
    correction = correction_p99_table(result)
    if correction is not None:
        parts.append(correction)
    parts.append(slo_table(result))
    recovery = recovery_table(result)
    if recovery is not None:
        parts.append(recovery)
    alerts = alerts_table(result)
    if alerts is not None:
        parts.append(alerts)
    for note in extras.stop_notes(result):
        parts.append(Text(note, style="yellow"))
    parts.append(Text(f"Results: {run_dir}/result.json; report: {run_dir}/report.html"))
    return Group(*parts)
