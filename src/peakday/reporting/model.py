"""What every report shows, computed once from a Result (pure): per-step series, SLO rows, faults.

Renderers (HTML, Markdown, JUnit, terminal) format this; none of them re-derives numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from peakday.experiment.units import (
    LATENCY_METRICS,
    SpecValueError,
    format_measure,
    parse_objective,
)
from peakday.reporting import extras
from peakday.reporting.latency import CorrectionTable, correction_table
from peakday.reporting.server_series import ServerSeriesView, server_series_views
from peakday.reporting.traffic import TrafficView, traffic_view
from peakday.results.model import PhaseWindow, Result, SloResult
from peakday.scoring.phases import (
    fault_window,
    last_second,
    step_floats,
    step_ints,
    step_kinds,
    step_names,
    windows_for,
)
from peakday.scoring.window_text import objective_text


@dataclass(frozen=True)
class FaultView:
    label: str
    what: str  # the toxic (latency, down...) or the service action (kill, pause...)
    target: str  # the proxy or the service
    start_s: float
    end_s: float
    applied: bool
    detail: str  # planned vs applied, in words


@dataclass(frozen=True)
class SloLine:
    """An SLO's objective drawn on its step's chart, over the windows of its phase."""

    metric: str
    value: float  # ms for latency, percent for success rate, req/s for rps
    label: str
    spans: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class StepView:
    name: str
    seconds: tuple[int, ...]
    p50_ms: tuple[float | None, ...]
    p95_ms: tuple[float | None, ...]
    p99_ms: tuple[float | None, ...]
    success_pct: tuple[float | None, ...]
    rps: tuple[float | None, ...]
    requests: int
    failures: int
    failures_by_kind: tuple[tuple[str, int], ...]
    slo_lines: tuple[SloLine, ...]
    # Open model: from the actual send, without the queueing the series above include.
    uncorrected_p95_ms: tuple[float | None, ...] = ()
    uncorrected_p99_ms: tuple[float | None, ...] = ()

    @property
    def success_rate_pct(self) -> float | None:
        return (
            None if not self.requests else 100.0 * (self.requests - self.failures) / self.requests
        )


@dataclass(frozen=True)
class SloRow:
    name: str
    request: str
    metric: str
    phase: str
    objective: str
    measured: str
    verdict: str
    detail: str
    weight: str
    context: str  # interval, baseline/reference value, warning objective


@dataclass(frozen=True)
class ReportView:
    name: str
    description: str
    verdict: str
    outcome: str  # "" unless it says more than the verdict (baseline-not-met, aborted...)
    score: extras.ScoreView | None
    status: str
    error: str | None
    run_id: str
    platform: str
    started_at: str
    ended_at: str | None
    duration_s: float
    warmup_s: float
    phases: tuple[PhaseWindow, ...]
    faults: tuple[FaultView, ...]
    steps: tuple[StepView, ...]
    slos: tuple[SloRow, ...]
    total_requests: int
    total_failures: int
    environment: tuple[tuple[str, str], ...]
    spec_yaml: str
    matrix: extras.MatrixView | None
    recovery: tuple[extras.RecoveryRow, ...]
    budgets: tuple[extras.BudgetRow, ...]
    load_health: extras.LoadHealthView | None
    notes: tuple[str, ...]
    # Open model: p99 per phase from intended start and from actual send; None otherwise.
    correction: CorrectionTable | None = None
    # Bytes per proxy and whether each fault reached traffic; None for older results.
    traffic: TrafficView | None = None
    # One per `source: prometheus` SLO or stop condition (reporting.server_series).
    server_series: tuple[ServerSeriesView, ...] = ()

    @property
    def slos_passed(self) -> int:
        return sum(1 for s in self.slos if s.verdict == "pass")

    @property
    def score_total(self) -> float | None:
        return self.score.total if self.score is not None else None


def load_duration_s(result: Result) -> float:
    if result.run.load_ended_s is not None:
        return result.run.load_ended_s
    return result.experiment.load.duration


def fault_views(result: Result) -> tuple[FaultView, ...]:
    end = load_duration_s(result)
    views = []
    for fault in result.faults:
        start_s, end_s = fault_window(fault, end)
        if fault.applied_at_s is None:
            detail = f"not applied (planned {fault.planned_at_s:g}-{fault.planned_end_s:g} s)"
        elif fault.removed_at_s is None:
            detail = f"applied at {fault.applied_at_s:.2f} s, still on at load end"
        else:
            detail = f"{fault.applied_at_s:.2f}-{fault.removed_at_s:.2f} s"
        views.append(
            FaultView(
                label=fault.label,
                what=fault.toxic or fault.action or "?",
                target=fault.proxy or fault.service or "?",
                start_s=start_s,
                end_s=end_s,
                applied=fault.applied_at_s is not None,
                detail=detail,
            )
        )
    return tuple(views)


def _threshold(slo: SloResult) -> float | None:
    """The limit in the SLO's unit: as scored when the result says, else from the objective."""
    if slo.threshold is not None:
        return slo.threshold
    try:
        return parse_objective(slo.objective, slo.metric).threshold
    except (SpecValueError, ValueError):
        return None  # relative objectives have no fixed limit without the result's threshold


def _chart_value(slo: SloResult, value: float) -> float:
    return value * 100.0 if slo.unit == "ratio" else value


def _slo_lines(result: Result, step: str) -> tuple[SloLine, ...]:
    lines = []
    for slo in result.slos:
        threshold = _threshold(slo)
        if slo.request != step or threshold is None:
            continue
        spans = tuple((w.start_s, w.end_s) for w in windows_for(slo.phase, result.phases))
        label = f"{slo.name} {slo.objective}"
        if slo.worst is not None:
            label += f" (worst {slo.worst.start_s:.0f}-{slo.worst.end_s:.0f} s)"
        lines.append(SloLine(slo.metric, _chart_value(slo, threshold), label, spans))
        if slo.warning is not None and slo.warning_threshold is not None:
            lines.append(
                SloLine(
                    slo.metric,
                    _chart_value(slo, slo.warning_threshold),
                    f"{slo.name} warn {slo.warning}",
                    spans,
                )
            )
    return tuple(lines)


def step_views(result: Result) -> tuple[StepView, ...]:
    timeline = result.timeline
    latest = last_second(timeline)
    end = int(load_duration_s(result) + 0.999) - 1
    seconds = tuple(range((end if latest is None else max(end, latest)) + 1))
    steps = []
    # One step at a time, each read as the few columns shown (from a long run's CompactTimeline
    # without building its rows); a second's last row counts, as when rows were keyed by second.
    for name in sorted(step_names(timeline)):
        last = {t: k for k, t in enumerate(step_ints(timeline, name, "t_s"))}
        requests = step_ints(timeline, name, "requests")
        failures = step_ints(timeline, name, "failures")
        kept = last.values()
        kinds: dict[str, int] = {}
        all_kinds = step_kinds(timeline, name)
        for k in kept:
            for kind, count in all_kinds[k].items():
                kinds[kind] = kinds.get(kind, 0) + count
        at = tuple(last.get(t) for t in seconds)  # each second's row, by position
        served = tuple(k if k is not None and requests[k] else None for k in at)

        steps.append(
            StepView(
                name=name,
                seconds=seconds,
                p50_ms=_shown(step_floats(timeline, name, "p50_ms"), served),
                p95_ms=_shown(step_floats(timeline, name, "p95_ms"), served),
                p99_ms=_shown(step_floats(timeline, name, "p99_ms"), served),
                success_pct=_shared(
                    None if k is None else 100.0 * (requests[k] - failures[k]) / requests[k]
                    for k in served
                ),
                rps=_rps(requests, at),
                requests=sum(requests[k] for k in kept),
                failures=sum(failures[k] for k in kept),
                failures_by_kind=tuple(sorted(kinds.items())),
                slo_lines=_slo_lines(result, name),
                uncorrected_p95_ms=_shown(
                    step_floats(timeline, name, "uncorrected_p95_ms"), served
                ),
                uncorrected_p99_ms=_shown(
                    step_floats(timeline, name, "uncorrected_p99_ms"), served
                ),
            )
        )
    return tuple(steps)


def _shown(values: list[float | None], at: tuple[int | None, ...]) -> tuple[float | None, ...]:
    """The values at each second's row position (None where no row served a request)."""
    return _shared(None if k is None else values[k] for k in at)


def _shared(values: Iterable[float | None]) -> tuple[float | None, ...]:
    """`values` with equal numbers as one object: a long run's series repeat few distinct
    values (quantized percentiles, whole requests a second), and a float read from a column
    is a new object each time. Zero is left alone (0.0 and -0.0 are equal, not the same)."""
    one: dict[float, float] = {}
    return tuple(value if not value else one.setdefault(value, value) for value in values)


def _rps(requests: list[int], at: tuple[int | None, ...]) -> tuple[float, ...]:
    as_float = {count: float(count) for count in set(requests)}  # one object per count
    return tuple(0.0 if k is None else as_float[requests[k]] for k in at)


def slo_rows(result: Result) -> tuple[SloRow, ...]:
    weights = extras.slo_weights(result)
    return tuple(
        SloRow(
            name=slo.name,
            request=slo.request,
            metric=slo.metric,
            phase=slo.phase,
            objective=objective_text(slo),
            measured=format_measure(slo.value, slo.unit),
            verdict=slo.verdict,
            detail=slo.detail,
            weight=weights.get(slo.name, ""),
            context=extras.slo_context(slo),
        )
        for slo in result.slos
    )


def spec_yaml(result: Result) -> str:
    """The experiment as the run recorded it (every resolved value result.json holds).

    exclude_unset: fields a later peakday added with defaults are not shown as if this run had
    used them; the result never held them.
    """
    data = result.experiment.model_dump(mode="json", exclude_unset=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def build_view(result: Result) -> ReportView:
    steps = step_views(result)
    notes = []
    if result.run.status == "interrupted":
        notes.append("The run was interrupted; what was measured until then is shown.")
    if result.run.status == "error":
        notes.append("The run stopped on an error; what was measured until then is shown.")
    if result.run.status == "stopped":
        notes.append("The run ended early on purpose; what was measured until then is shown.")
    notes.extend(extras.stop_notes(result))
    return ReportView(
        name=result.experiment.name,
        description=result.experiment.description,
        verdict=result.verdict,
        outcome=extras.outcome(result),
        score=extras.score_view(result),
        status=result.run.status,
        error=result.run.error,
        run_id=result.run.id,
        platform=result.run.platform,
        started_at=result.run.started_at,
        ended_at=result.run.ended_at,
        duration_s=load_duration_s(result),
        warmup_s=result.experiment.load.warmup,
        phases=result.phases,
        faults=fault_views(result),
        steps=steps,
        slos=slo_rows(result),
        total_requests=sum(s.requests for s in steps),
        total_failures=sum(s.failures for s in steps),
        environment=tuple(sorted(result.environment.items())),
        spec_yaml=spec_yaml(result),
        matrix=extras.matrix(result),
        recovery=extras.recovery_rows(result),
        budgets=extras.budget_rows(result),
        load_health=extras.load_health(result),
        notes=tuple(notes),
        correction=correction_table(result),
        traffic=traffic_view(result),
        server_series=server_series_views(result),
    )


def is_latency(metric: str) -> bool:
    return metric in LATENCY_METRICS
