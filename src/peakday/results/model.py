"""The saved result (result.json): plain data that scoring and reporting can be re-run from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

from peakday.experiment.models import Experiment
from peakday.integrity.model import IntegrityReport
from peakday.results.loadhealth import LoadHealth
from peakday.results.outcome import Outcome, RunStatus
from peakday.results.scorecard import (
    BudgetWindow,
    BurnAlertResult,
    CellStatus,
    ErrorBudget,
    FaultImpact,
    Interval,
    MatrixCell,
    RecoveryState,
    ReferenceInfo,
    ResiliencyMatrix,
    ScoreCard,
    StepFigures,
    StopRecord,
)
from peakday.results.traffic import FaultReach, ProxyTraffic, Traffic, TrafficSecond

__all__ = [
    "SCHEMA_VERSION",
    "AppliedFault",
    "BaselineCheck",
    "BudgetWindow",
    "BurnAlertResult",
    "CellStatus",
    "ErrorBudget",
    "FaultImpact",
    "FaultReach",
    "Interval",
    "MatrixCell",
    "ObjectiveKind",
    "PhaseWindow",
    "ProxyTraffic",
    "RecoveryState",
    "ReferenceInfo",
    "ResiliencyMatrix",
    "Result",
    "RunInfo",
    "ScoreCard",
    "SloResult",
    "SloVerdict",
    "StepFigures",
    "StopRecord",
    "TimelineRow",
    "Traffic",
    "TrafficSecond",
    "Verdict",
]

# 3: per-proxy `traffic` and each fault's `fault_reach` (a fault that reached nothing makes the
# run inconclusive); results of schema 1 and 2 load with `traffic: null`, so they keep their
# verdict when re-scored (see _older_results below and docs/result-schema.md).
SCHEMA_VERSION = 3

Verdict = Literal["pass", "warn", "fail", "inconclusive"]
SloVerdict = Literal["pass", "warn", "fail", "inconclusive"]
# "integrity" = reconciliation of orders and labels (peakday/scoring/integrity_slos.py).
# "alert" = an expected Prometheus alert fired, or none fired at baseline (scoring/alert_checks.py).
ObjectiveKind = Literal["absolute", "baseline", "reference", "error_budget", "integrity", "alert"]


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
    # Why the window ends where it does when that is not a fault's edge (the baseline stops
    # before the seconds whose requests were still running when the first fault began).
    note: str = ""


class AppliedFault(_Model):
    """A scheduled fault and when it really happened: a toxic on a proxy (`proxy`, `toxic`) or
    an action on a service (`service`, `action`: kill, stop, pause, restart)."""

    index: int
    label: str
    proxy: str | None = None
    toxic: str | None = None
    service: str | None = None
    action: str | None = None
    planned_at_s: float
    planned_end_s: float
    applied_at_s: float | None = None
    removed_at_s: float | None = None
    skipped: str | None = None  # why it was never applied (baseline not met, stop condition)


@dataclass(frozen=True, slots=True, kw_only=True, config=ConfigDict(extra="forbid"))
class TimelineRow:
    """One second of one step: requests starting in [t_s, t_s + 1) after load start.

    A slotted dataclass, not a model: an 8-hour run holds hundreds of thousands of rows, and a
    model's per-instance dict and fields-set cost several times the row's own data.
    """

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
    # latency above is from each request's intended start (corrected for
    # coordinated omission in the open model). The uncorrected series is latency from the actual
    # start, set only when it differs (open model); throughput counts requests started per second.
    throughput_rps: float | None = None
    uncorrected_p50_ms: float | None = None
    uncorrected_p90_ms: float | None = None
    uncorrected_p95_ms: float | None = None
    uncorrected_p99_ms: float | None = None
    uncorrected_p999_ms: float | None = None
    uncorrected_max_ms: float | None = None
    uncorrected_histogram: str = ""
    # A server-side series (name `prometheus:<SLO>`): its PromQL value at the end of the second;
    # such rows count no requests.
    value: float | None = None


class AlertTiming(_Model):
    """When a Prometheus alert went pending, fired and cleared, in seconds after load start.

    `fault` is None for an alert that fired during the baseline (a false positive).
    """

    fault: str | None
    alert: str
    expected: bool = True
    pending_at_s: float | None = None
    firing_at_s: float | None = None
    time_to_alert_s: float | None = None  # firing_at_s - the fault's applied time
    cleared_at_s: float | None = None
    observed: bool = True  # False: the alert states or the fault's time are unknown
    detail: str = ""


class WindowValue(_Model):
    """An SLO's value over one window: a fault window (`phase: each-fault`), a rolling window
    (`window:`) or one second (`within:` without a window). `met` is None without data."""

    phase: str  # the phase window it lies in, such as 'fault:login-slow' or 'fault'
    start_s: float
    end_s: float
    value: float | None
    met: bool | None
    met_share: float | None = None  # `within`: share of this fault window's windows that met
    worst_start_s: float | None = None  # each-fault with `window`: the worst rolling window here
    worst_end_s: float | None = None


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
    kind: ObjectiveKind = "absolute"
    threshold: float | None = None  # the limit the value was held to, in `unit`
    warning: str | None = None
    warning_threshold: float | None = None
    weight: float = 1.0
    key: bool = False
    baseline_value: float | None = None  # the same metric over this run's baseline phase
    reference_value: float | None = None  # ... over the reference run's same phase
    interval: Interval | None = None  # 95% interval of `value` (reference comparisons)
    reference_interval: Interval | None = None
    error_budget: ErrorBudget | None = None
    # Judged window by window (phase each-fault, window, within; docs/scoring.md): `value` is the
    # worst window's, `worst` says where it was, `windows` lists every fault window (each-fault).
    window_s: float | None = None
    within: float | None = None  # share of windows (or seconds) that must meet the objective
    met_share: float | None = None  # share that did (the worst fault window's, with each-fault)
    judged_windows: int | None = None  # windows (or seconds) with a value
    worst: WindowValue | None = None
    windows: tuple[WindowValue, ...] = ()


class BaselineCheck(_Model):
    """The steady-state hypothesis, judged live just before the first fault."""

    at_s: float
    met: bool
    continued: bool  # not met, but scoring.continue_if_baseline_not_met let the faults go ahead
    slos: tuple[SloResult, ...]
    detail: str = ""
    # How long the check waited for Prometheus to read the baseline's last second (the faults
    # that follow moved by as much: their applied times say when they really began).
    waited_s: float = 0.0


class Result(_Model):
    schema_version: int = SCHEMA_VERSION
    experiment: Experiment
    run: RunInfo
    phases: tuple[PhaseWindow, ...]
    faults: tuple[AppliedFault, ...]
    # A tuple when built; read from disk, a CompactTimeline (results/columns.py): long runs
    timeline: Sequence[TimelineRow]
    slos: tuple[SloResult, ...]
    verdict: Verdict
    environment: dict[str, str] = Field(default_factory=dict)
    outcome: Outcome = "inconclusive"
    score: ScoreCard | None = None
    matrix: ResiliencyMatrix | None = None
    fault_impacts: tuple[FaultImpact, ...] = ()
    baseline_check: BaselineCheck | None = None
    stops: tuple[StopRecord, ...] = ()
    reference: ReferenceInfo | None = None
    load_health: LoadHealth | None = None  # arrivals and the load generator's health
    integrity: IntegrityReport | None = None  # orders/labels reconciled after the load
    # bytes per proxy per second (schema 3); null: not recorded (older results)
    traffic: Traffic | None = None
    fault_reach: tuple[FaultReach, ...] = ()  # did each fault reach traffic (scoring/reach.py)
    # Server-side series (`source: prometheus`), one row per second each, beside `timeline`:
    # SLOs and stop conditions read both; views of the load generator's steps read `timeline`.
    server_timeline: tuple[TimelineRow, ...] = ()
    # Prometheus alerts per fault (expected ones) and any fired during the baseline.
    alerts: tuple[AlertTiming, ...] = ()
    alert_readings: int = 0  # times Prometheus's alert states were read during the run

    @field_validator("timeline", mode="after")
    @classmethod
    def _rows_as_tuple(cls, rows: Sequence[TimelineRow]) -> Sequence[TimelineRow]:
        """Validated rows are a tuple, as before (a Sequence field would validate to a list)."""
        return rows if isinstance(rows, tuple) else tuple(rows)

    @model_validator(mode="after")
    def _older_results(self) -> Result:
        """Results of older schemas: derive `outcome` (schema 1) from the status and verdict;
        before schema 3 no traffic was recorded, so `traffic` stays null and no fault's reach
        is judged (a re-score keeps the verdict the run had).

        An after-validator, not a before-validator: a before-validator would make pydantic turn
        the whole JSON document into Python objects first (the timeline of a long run is
        hundreds of megabytes that way); after, the JSON is validated straight into the models.
        """
        update: dict[str, Any] = {}
        if self.schema_version < 3:
            update.update(traffic=None, fault_reach=())
        if "outcome" not in self.model_fields_set:
            if self.run.status in ("interrupted", "error"):
                update["outcome"] = self.run.status
            else:
                update["outcome"] = self.verdict
        return self.model_copy(update=update) if update else self

    @property
    def stopped_by(self) -> StopRecord | None:
        """The first stop condition that fired, if any."""
        return self.stops[0] if self.stops else None
