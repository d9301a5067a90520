"""Builds a Result from what a run wrote as it went (events and metrics records); pure.

`peakday report` uses it too, so a killed run's files still give a readable partial result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from peakday.load.timeline import timeline_from_records
from peakday.results.model import AppliedFault, Result, RunInfo
from peakday.scoring.phases import compute_phases
from peakday.scoring.slo import evaluate_slo, overall_verdict
from peakday.spec.models import Experiment


def _first_wall(events: Sequence[Mapping[str, Any]], kind: str) -> float | None:
    for event in events:
        if event.get("kind") == kind:
            return float(event["wall"])
    return None


def applied_faults(
    experiment: Experiment, events: Sequence[Mapping[str, Any]], t0: float | None
) -> tuple[AppliedFault, ...]:
    applied: dict[int, float] = {}
    removed: dict[int, float] = {}
    for event in events:
        kind = event.get("kind")
        if t0 is None or kind not in ("fault_applied", "fault_removed"):
            continue
        index = int(event["fault_index"])
        at = round(float(event["wall"]) - t0, 3)
        (applied if kind == "fault_applied" else removed).setdefault(index, at)
    return tuple(
        AppliedFault(
            index=i,
            label=f.label,
            proxy=f.proxy,
            toxic=f.toxic,
            planned_at_s=f.at,
            planned_end_s=f.end,
            applied_at_s=applied.get(i),
            removed_at_s=removed.get(i),
        )
        for i, f in enumerate(experiment.faults)
    )


def assemble_result(
    experiment: Experiment,
    run: RunInfo,
    events: Sequence[Mapping[str, Any]],
    metrics: Sequence[Mapping[str, Any]],
    environment: Mapping[str, str],
) -> Result:
    t0 = _first_wall(events, "load_started") or _first_wall(metrics, "load_started")
    stopped = _first_wall(metrics, "load_stopped")
    load_end_s = experiment.load.duration
    if t0 is not None and stopped is not None:
        load_end_s = min(load_end_s, stopped - t0)
    elif t0 is None:
        load_end_s = 0.0
    faults = applied_faults(experiment, events, t0)
    timeline = timeline_from_records(metrics)
    phases = compute_phases(experiment.load.warmup, load_end_s, faults)
    slos = tuple(evaluate_slo(slo, timeline, phases) for slo in experiment.slos)
    return Result(
        experiment=experiment,
        run=run.model_copy(
            update={"load_started_wall": t0, "load_ended_s": round(load_end_s, 3)}
        ),
        phases=phases,
        faults=faults,
        timeline=timeline,
        slos=slos,
        verdict=overall_verdict(slos),
        environment=dict(environment),
    )
