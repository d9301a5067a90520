"""The scoring parts of a saved result: score, resiliency matrix, error budgets, stops (plain data).

Every figure is in the unit its name says; ratios are 0..1 (success rates, budget shares) unless
called a percentage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

CellStatus = Literal["pass", "degraded", "broken", "no-data"]
# "not-needed": the step never degraded; "interrupted": a later fault began before it recovered.
RecoveryState = Literal["recovered", "not-recovered", "interrupted", "not-needed"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Model):
    """A 95% interval around a measured value (sampling noise of one run)."""

    low: float
    high: float


class BurnAlertResult(_Model):
    factor: float
    long_s: float
    short_s: float
    severity: Literal["fail", "warn"]
    fired_at_s: float | None = None  # end of the first second both windows burned >= factor


class BudgetWindow(_Model):
    """How much of the run's error budget one window consumed, and how fast."""

    phase: str
    start_s: float
    end_s: float
    requests: int
    failures: int
    consumed: float  # failures / allowed failures over the whole run; may exceed 1
    burn_rate: float | None  # failure ratio / (1 - target); None without requests
    alerts: tuple[BurnAlertResult, ...] = ()


class ErrorBudget(_Model):
    target: float  # success-rate target, 0..1
    allowed_failures: float  # (1 - target) x requests over the whole measured run
    windows: tuple[BudgetWindow, ...]  # the judged phase first, then each fault window


class StepFigures(_Model):
    """One step over one window."""

    requests: int
    rps: float | None
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class MatrixCell(_Model):
    """One fault x one step: how the step fared during the fault, against its baseline."""

    fault: str
    step: str
    status: CellStatus
    summary: str  # one line for tables, such as "p95 x4.9, 100.0% ok"
    detail: str  # why the status: the rule or SLO that decided it
    during: StepFigures
    baseline: StepFigures
    p95_ratio: float | None  # during / baseline
    p99_ratio: float | None
    rps_ratio: float | None
    success_drop_pp: float | None  # baseline minus during, in percentage points
    time_to_detect_s: float | None = None
    time_to_recover_s: float | None = None
    recovery: RecoveryState = "not-needed"


class ResiliencyMatrix(_Model):
    faults: tuple[str, ...]
    steps: tuple[str, ...]
    cells: tuple[MatrixCell, ...]  # faults x steps, fault-major

    def cell(self, fault: str, step: str) -> MatrixCell | None:
        for cell in self.cells:
            if cell.fault == fault and cell.step == step:
                return cell
        return None


class FaultImpact(_Model):
    """One fault's reach and timing, summed up from its matrix row."""

    fault: str
    start_s: float
    end_s: float
    blast_radius: tuple[str, ...]  # steps degraded or broken during the fault
    time_to_detect_s: float | None  # the earliest step to show it
    time_to_recover_s: float | None  # the last step to recover; None if one never did
    recovery: RecoveryState
    note: str = ""


class ScoreCard(_Model):
    """The resilience score, 0..100 (see docs/scoring.md); None where nothing was judged."""

    total: float | None
    baseline: float | None
    fault: float | None
    recovery: float | None
    whole_run: float | None  # SLOs judged over phase 'all'
    lowest: float | None  # the total if every inconclusive SLO had failed ...
    highest: float | None  # ... and had passed
    pass_score: float
    warn_score: float
    key_failures: tuple[str, ...] = ()
    inconclusive: tuple[str, ...] = ()
    reason: str = ""  # why the verdict is what it is, one sentence


class StopRecord(_Model):
    name: str
    condition: str  # "checkout success_rate < 90% for 10s"
    action: Literal["end_faults", "end_run"]
    fired_at_s: float  # load time when peakday acted
    breach_from_s: float  # first second of the sustained breach
    breach_to_s: float  # end of its last second
    value: float | None = None  # the metric in the last breached second
    unit: str = ""
    # A stop button pressed on the live dashboard (scoring.manual): who pressed it (the name
    # they gave, their address and browser) and when (UTC, ISO 8601); None for a stop condition.
    manual_by: str | None = None
    manual_at: str | None = None


class ReferenceInfo(_Model):
    """The earlier run that `compare_to` objectives were judged against."""

    path: str
    run_id: str
    experiment: str
    verdict: str
