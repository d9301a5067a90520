"""What the dashboard page receives: one snapshot of the run (frozen models, sent as JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

RunState = Literal["waiting", "starting", "running", "ended"]
FaultState = Literal["past", "current", "next", "later", "skipped"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class FaultLine(_Model):
    label: str
    target: str
    planned_start_s: float
    planned_end_s: float
    state: FaultState
    countdown_s: float | None  # to its end (current) or its start (next, later)
    detail: str


class StepLine(_Model):
    name: str
    last_second: int | None
    rps: float | None
    success_pct: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    latency_svg: str
    success_svg: str


class ServerSeriesLine(_Model):
    """A server-side series (`source: prometheus`): its newest value and its chart."""

    name: str
    kind: str  # "SLO" or "stop condition"
    last_value: float | None
    measured: str  # the SLO's value so far, as scored ("" for a stop condition)
    verdict: str
    chart_svg: str


class SloLine(_Model):
    name: str
    request: str
    metric: str
    phase: str
    objective: str
    measured: str
    verdict: str


class StopLine(_Model):
    name: str
    condition: str
    action: str
    in_breach_s: float  # the current run of breached seconds
    sustained_s: float
    fired: bool
    manual_by: str | None = None
    manual_at: str | None = None


class MatrixLine(_Model):
    fault: str
    cells: tuple[tuple[str, str, str], ...]  # (step, pass/warn/fail/inconclusive, summary)


class Snapshot(_Model):
    state: RunState
    run_id: str = ""
    name: str = ""
    phase: str = "waiting for the run to start"
    elapsed_s: float = 0.0
    duration_s: float = 0.0
    faults: tuple[FaultLine, ...] = ()
    steps: tuple[StepLine, ...] = ()
    throughput_svg: str = ""
    server_series: tuple[ServerSeriesLine, ...] = ()
    baseline: str = ""
    slos: tuple[SloLine, ...] = ()
    stops: tuple[StopLine, ...] = ()
    matrix_columns: tuple[str, ...] = ()
    matrix: tuple[MatrixLine, ...] = ()
    generator: str = ""
    generator_trusted: bool = True
    outcome: str = ""  # once the run has ended and its result is written
    score: float | None = None
    final: bool = False  # from the written result.json (the report is ready)
