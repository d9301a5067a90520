"""Server-side series in the resiliency matrix (pure): one column per `source: prometheus` SLO,
judged over each fault window by its own objective, as the client-side steps are by theirs.

A series has no requests, latency or throughput, so its cell's figures are empty and its summary
gives the series' value during the fault and at baseline. The cell is *broken* when the SLO
fails over the fault window, *degraded* when it only meets its warning, *no-data* when the
series has no value there; its seconds are in breach when their value misses the objective, for
the time to detect and recover (scoring.matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from peakday.experiment.models import Experiment, Slo
from peakday.experiment.objectives import compare
from peakday.results.model import (
    CellStatus,
    MatrixCell,
    PhaseWindow,
    SloResult,
    StepFigures,
    TimelineRow,
)
from peakday.results.reference import ReferenceRun
from peakday.scoring.phases import windows_for
from peakday.scoring.server_series import series_value
from peakday.scoring.slo import judge_over

NO_FIGURES = StepFigures(
    requests=0, rps=None, success_rate=None, p50_ms=None, p95_ms=None, p99_ms=None
)
STATUS_OF: dict[str, CellStatus] = {
    "fail": "broken",
    "warn": "degraded",
    "pass": "pass",
    "inconclusive": "no-data",
}


def server_slos(experiment: Experiment, server_rows: Sequence[TimelineRow]) -> tuple[Slo, ...]:
    """The server-side SLOs whose series the run read, in the file's order (one column each)."""
    read = {r.name for r in server_rows}
    return tuple(s for s in experiment.slos if s.source == "prometheus" and s.request in read)


def _number(value: float | None) -> str:
    return "no value" if value is None else f"{value:.4g}"


def server_cell(
    slo: Slo,
    fault: PhaseWindow,
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    reference: ReferenceRun | None,
) -> tuple[MatrixCell, SloResult]:
    """The series' cell for one fault (no timing yet), and the SLO judged over that window."""
    judged = judge_over(slo, rows, [fault], phases, reference)
    baseline, _ = series_value(slo.request, rows, windows_for("baseline", phases), slo.aggregate)
    status = STATUS_OF[judged.verdict]
    if status == "no-data":
        detail = judged.detail or "no value during the fault"
    elif status == "pass":
        detail = f"SLO {slo.name!r} holds over the fault window"
    else:
        met = "fails" if status == "broken" else "only meets its warning"
        detail = f"SLO {slo.name!r} {met} over the fault window ({judged.objective})"
    cell = MatrixCell(
        fault=fault.name.removeprefix("fault:"),
        step=slo.request,
        status=status,
        summary=f"{status}: {slo.aggregate} {_number(judged.value)} (baseline {_number(baseline)})",
        detail=detail,
        during=NO_FIGURES,
        baseline=NO_FIGURES,
        p95_ratio=None,
        p99_ratio=None,
        rps_ratio=None,
        success_drop_pp=None,
    )
    return cell, judged


def server_second_states(
    slo: Slo, judged: SloResult, rows: Sequence[TimelineRow], seconds: Sequence[int]
) -> dict[int, Literal["breach", "ok", "empty"]]:
    """Each second: its value misses the objective (breach), meets it (ok) or is absent."""
    values = {r.t_s: r.value for r in rows if r.name == slo.request}
    threshold = judged.threshold
    states: dict[int, Literal["breach", "ok", "empty"]] = {}
    for t in seconds:
        value = values.get(t)
        if value is None or threshold is None:
            states[t] = "empty"
        else:
            holds = compare(slo.parsed_objective.comparator, value, threshold)
            states[t] = "ok" if holds else "breach"
    return states
