"""The saved result (result.json): plain data that scoring and reporting can be re-run from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from peakday.spec.models import Experiment

SCHEMA_VERSION = 1

RunStatus = Literal["completed", "interrupted", "error"]
Verdict = Literal["pass", "fail", "inconclusive"]
SloVerdict = Literal["pass", "fail", "inconclusive"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunInfo(_Model):
    id: str
    platform: str
    started_at: str
    ended_at: str | None = None
    status: RunStatus = "completed"
    error: str | None = None
    load_started_wall: float | None = None
    load_ended_s: float | None = None
    peakday_version: str


class PhaseWindow(_Model):
    name: str
    kind: Literal["warmup", "baseline", "fault", "recovery", "all"]
    start_s: float
    end_s: float


class AppliedFault(_Model):
    index: int
    label: str
    proxy: str
    toxic: str
    planned_at_s: float
    planned_end_s: float
    applied_at_s: float | None = None
    removed_at_s: float | None = None


class TimelineRow(_Model):
    """One second of one step: requests starting in [t_s, t_s + 1) after load start."""

    t_s: int
    name: str
    requests: int
    failures: int
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    p50_ms: float | None
    p90_ms: float | None = None
    p95_ms: float | None
    p99_ms: float | None
    p999_ms: float | None = None
    max_ms: float | None = None
    out_of_range: int = 0
    histogram: str = ""  # HdrHistogram, compressed and base64: exact re-scoring from disk


class SloResult(_Model):
    name: str
    request: str
    metric: str
    phase: str
    objective: str
    value: float | None
    unit: str
    verdict: SloVerdict
    detail: str = ""


class Result(_Model):
    schema_version: int = SCHEMA_VERSION
    experiment: Experiment
    run: RunInfo
    phases: tuple[PhaseWindow, ...]
    faults: tuple[AppliedFault, ...]
    timeline: tuple[TimelineRow, ...]
    slos: tuple[SloResult, ...]
    verdict: Verdict
    environment: dict[str, str] = Field(default_factory=dict)
