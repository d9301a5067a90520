"""Builds a Result from what a run wrote as it went (events and metrics records); pure.

`peakday report` uses it too, so a killed run's files still give a readable partial result.

Events this module reads, besides the load and fault events:
    baseline_checked      {"check": BaselineCheck}            the steady-state check
    stop_condition_fired  {"record": StopRecord}              a stop condition acted
    faults_skipped        {"fault_indices": [...], "reason"}  faults never injected, and why
    run_stopped_early     {"reason"}                          the run ended before its duration
    integrity_checked     {"report": IntegrityReport}         orders/labels reconciled
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from peakday.experiment.models import Experiment
from peakday.integrity.model import IntegrityReport
from peakday.load.health import load_health
from peakday.load.timeline import timeline_from_records
from peakday.results.model import AppliedFault, BaselineCheck, Result, RunInfo, StopRecord
from peakday.results.reference import ReferenceRun
from peakday.scoring.evaluate import score_timeline
from peakday.scoring.phases import compute_phases


def _first_wall(events: Sequence[Mapping[str, Any]], kind: str) -> float | None:
    for event in events:
        if event.get("kind") == kind:
            return float(event["wall"])
    return None


def _skip_reasons(events: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for event in events:
        if event.get("kind") == "faults_skipped":
            for index in event.get("fault_indices", []):
                reasons.setdefault(int(index), str(event.get("reason", "skipped")))
    return reasons


def applied_faults(
    experiment: Experiment,
    events: Sequence[Mapping[str, Any]],
    t0: float | None,
    load_end_s: float | None = None,
) -> tuple[AppliedFault, ...]:
    """What happened to each planned fault. With `load_end_s` (a finished run), a fault that was
    never applied is marked skipped, so it gets no phase of its own."""
    applied: dict[int, float] = {}
    removed: dict[int, float] = {}
    for event in events:
        kind = event.get("kind")
        if t0 is None or kind not in ("fault_applied", "fault_removed"):
            continue
        index = int(event["fault_index"])
        at = round(float(event["wall"]) - t0, 3)
        (applied if kind == "fault_applied" else removed).setdefault(index, at)
    reasons = _skip_reasons(events)
    faults = []
    for i, f in enumerate(experiment.faults):
        skipped = None
        if i not in applied and load_end_s is not None:
            if i in reasons:
                skipped = reasons[i]
            elif t0 is None:
                skipped = "the load never started"
            elif f.at >= load_end_s:
                skipped = "the run ended before it was due"
            else:
                skipped = "it was never applied"
        faults.append(
            AppliedFault(
                index=i,
                label=f.label,
                proxy=f.proxy,
                toxic=f.toxic,
                service=f.service,
                action=f.action,
                planned_at_s=f.at,
                planned_end_s=f.end,
                applied_at_s=applied.get(i),
                removed_at_s=removed.get(i),
                skipped=skipped,
            )
        )
    return tuple(faults)


def baseline_check_of(events: Sequence[Mapping[str, Any]]) -> BaselineCheck | None:
    for event in events:
        if event.get("kind") == "baseline_checked":
            try:
                return BaselineCheck.model_validate(event.get("check"))
            except ValidationError:
                return None
    return None


def integrity_of(events: Sequence[Mapping[str, Any]]) -> IntegrityReport | None:
    for event in events:
        if event.get("kind") == "integrity_checked":
            try:
                return IntegrityReport.model_validate(event.get("report"))
            except ValidationError:
                return None
    return None


def stops_of(events: Sequence[Mapping[str, Any]]) -> tuple[StopRecord, ...]:
    stops = []
    for event in events:
        if event.get("kind") == "stop_condition_fired":
            try:
                stops.append(StopRecord.model_validate(event.get("record")))
            except ValidationError:
                continue
    return tuple(stops)


def assemble_result(
    experiment: Experiment,
    run: RunInfo,
    events: Sequence[Mapping[str, Any]],
    metrics: Sequence[Mapping[str, Any]],
    environment: Mapping[str, str],
    reference: ReferenceRun | None = None,
) -> Result:
    t0 = _first_wall(events, "load_started") or _first_wall(metrics, "load_started")
    stopped = _first_wall(metrics, "load_stopped")
    ended_early = _first_wall(events, "run_stopped_early")
    load_end_s = experiment.load.duration
    if t0 is not None:
        for wall in (stopped, ended_early):
            if wall is not None:
                load_end_s = min(load_end_s, wall - t0)
    else:
        load_end_s = 0.0
    faults = applied_faults(experiment, events, t0, load_end_s)
    timeline = timeline_from_records(metrics)
    phases = compute_phases(min(experiment.load.warmup, load_end_s), load_end_s, faults)
    baseline_check = baseline_check_of(events)
    stops = stops_of(events)
    integrity = integrity_of(events)
    scored = score_timeline(
        experiment,
        run.status,
        timeline,
        phases,
        load_end_s,
        baseline_check,
        stops,
        reference,
        integrity,
    )
    # a saturated load generator's numbers are no evidence: the run is inconclusive.
    health = load_health(experiment.load.model, metrics, t0)
    verdict, outcome = scored.verdict, scored.outcome
    if not health.trusted and outcome in ("pass", "warn", "fail"):
        verdict, outcome = "inconclusive", "inconclusive"
    return Result(
        experiment=experiment,
        run=run.model_copy(update={"load_started_wall": t0, "load_ended_s": round(load_end_s, 3)}),
        phases=phases,
        faults=faults,
        timeline=timeline,
        slos=scored.slos,
        verdict=verdict,
        environment=dict(environment),
        outcome=outcome,
        score=scored.score,
        matrix=scored.matrix,
        fault_impacts=scored.fault_impacts,
        baseline_check=baseline_check,
        stops=stops,
        reference=reference.info if reference is not None else None,
        load_health=health,
        integrity=integrity,
    )
