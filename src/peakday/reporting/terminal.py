"""The end-of-run summary for the terminal, as rich renderables (pure: nothing printed here)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from peakday.results.model import Result, SloResult

_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "inconclusive": "bold yellow"}


def format_value(slo: SloResult) -> str:
    if slo.value is None:
        return "—"
    if slo.unit == "ratio":
        return f"{slo.value * 100:.2f}%"
    if slo.unit == "ms":
        return f"{slo.value:.1f} ms"
    return f"{slo.value:.1f} req/s"


def slo_table(result: Result) -> Table:
    table = Table(title="SLOs", title_justify="left")
    for column in ("SLO", "step", "metric", "phase", "objective", "measured", "verdict"):
        table.add_column(column)
    for slo in result.slos:
        verdict = Text(slo.verdict, style=_VERDICT_STYLE[slo.verdict])
        measured = format_value(slo) + (f" ({slo.detail})" if slo.detail else "")
        table.add_row(
            slo.name, slo.request, slo.metric, slo.phase, slo.objective, measured, verdict
        )
    return table


def phase_table(result: Result) -> Table:
    table = Table(title="Phases and faults", title_justify="left")
    for column in ("phase", "from (s)", "to (s)"):
        table.add_column(column)
    for phase in result.phases:
        table.add_row(phase.name, f"{phase.start_s:.2f}", f"{phase.end_s:.2f}")
    return table


def format_summary(result: Result, run_dir: str) -> RenderableType:
    steps: dict[str, tuple[int, int]] = {}
    for row in result.timeline:
        requests, failures = steps.get(row.name, (0, 0))
        steps[row.name] = (requests + row.requests, failures + row.failures)
    totals = ", ".join(f"{name} {req} req / {fail} failed" for name, (req, fail) in steps.items())
    headline = Text.assemble(
        (f"{result.experiment.name}: ", "bold"),
        (result.verdict.upper(), _VERDICT_STYLE[result.verdict]),
        f"  (run {result.run.status}, {result.run.platform} platform)",
    )
    return Group(
        headline,
        Text(f"Requests: {totals or 'none recorded'}"),
        phase_table(result),
        slo_table(result),
        Text(f"Results: {run_dir}/result.json"),
    )
