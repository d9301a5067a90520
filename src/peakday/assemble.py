"""Builds a Result from what a run wrote as it went: events.jsonl, metrics.jsonl (and the
per-proxy traffic counters in traffic.jsonl).

`assemble_result` is pure (typed events and metrics records in, a scored Result out);
`assemble_run` reads a run folder and is what both a finishing run and `peakday assemble` call,
so a run killed with SIGKILL, or cut off by a power cut, still yields a scored result.

The metrics records are read once, as a stream (`MetricsDigest`): a long run's metrics.jsonl is
never held as records, only as the timeline's columns and the few small things scoring needs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from peakday.errors import ResultError
from peakday.experiment.models import Experiment
from peakday.faults.traffic import traffic_from_records
from peakday.integrity.model import IntegrityReport
from peakday.load.health import HealthRecords, health_of
from peakday.load.timeline import TimelineBuilder, step_second_of
from peakday.monitoring.records import alert_timings, server_rows
from peakday.results.columns import CompactTimeline
from peakday.results.encoding import result_json_chunks
from peakday.results.eventlog import read_events, read_jsonl
from peakday.results.events import (
    BaselineChecked,
    Event,
    FaultApplied,
    FaultRemoved,
    FaultsSkipped,
    IntegrityChecked,
    LoadStarted,
    PlatformReady,
    RunEnded,
    RunStarted,
    RunStoppedEarly,
    StopConditionFired,
)
from peakday.results.folder import RunFolder
from peakday.results.model import (
    AppliedFault,
    BaselineCheck,
    Result,
    RunInfo,
    StopRecord,
    TimelineRow,
)
from peakday.results.reference import ReferenceRun, load_reference
from peakday.results.traffic import Traffic
from peakday.scoring.evaluate import score_timeline
from peakday.scoring.phases import compute_phases

log = logging.getLogger(__name__)

# A run whose log has no run_ended: the orchestrator never reached its end (SIGKILL, power cut).
KILLED = (
    "The run ended without writing its end (killed, or the machine stopped); this result was "
    "assembled from what it wrote until then."
)

E = TypeVar("E", bound=Event)


def _first_of(events: Sequence[Event], kind: type[E]) -> E | None:
    return next((event for event in events if isinstance(event, kind)), None)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class MetricsDigest:
    """What a run's metrics records say, read in one pass: the timeline (None when not asked
    for), the first load_started and load_stopped walls, where the per-second records end, and
    the arrivals and generator samples for the load's health."""

    timeline: CompactTimeline | None
    load_started_wall: float | None
    load_stopped_wall: float | None
    last_second_end: float  # the latest metrics record's second + 1; 0 without one
    health: HealthRecords

    @classmethod
    def of(cls, metrics: Iterable[Mapping[str, Any]], timeline: bool = True) -> MetricsDigest:
        builder = TimelineBuilder() if timeline else None
        health = HealthRecords()
        walls: dict[str, float] = {}
        last = 0.0
        for record in metrics:
            kind = record.get("kind")
            if kind == "metrics":
                t_s = _number(record.get("t_s"))
                if t_s is not None:
                    last = max(last, t_s + 1)
                if builder is not None:
                    found = step_second_of(record)
                    if found is not None:
                        builder.add(found)
            elif kind in ("load_started", "load_stopped"):
                wall = _number(record.get("wall"))
                if kind not in walls and wall is not None:
                    walls[kind] = wall
            else:
                health.add(record)
        return cls(
            timeline=builder.finish() if builder is not None else None,
            load_started_wall=walls.get("load_started"),
            load_stopped_wall=walls.get("load_stopped"),
            last_second_end=last,
            health=health,
        )


def _skip_reasons(events: Sequence[Event]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for event in events:
        if isinstance(event, FaultsSkipped):
            for index in event.fault_indices:
                reasons.setdefault(index, event.reason)
    return reasons


def applied_faults(
    experiment: Experiment,
    events: Sequence[Event],
    t0: float | None,
    load_end_s: float | None = None,
) -> tuple[AppliedFault, ...]:
    """What happened to each planned fault. With `load_end_s` (a finished run), a fault that was
    never applied is marked skipped, so it gets no phase of its own."""
    applied: dict[int, float] = {}
    removed: dict[int, float] = {}
    for event in events:
        if t0 is None or not isinstance(event, FaultApplied | FaultRemoved):
            continue
        at = round(event.wall - t0, 3)
        (applied if isinstance(event, FaultApplied) else removed).setdefault(event.fault_index, at)
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


def baseline_check_of(events: Sequence[Event]) -> BaselineCheck | None:
    checked = _first_of(events, BaselineChecked)
    return checked.check if checked is not None else None


def integrity_of(events: Sequence[Event]) -> IntegrityReport | None:
    checked = _first_of(events, IntegrityChecked)
    return checked.report if checked is not None else None


def stops_of(events: Sequence[Event]) -> tuple[StopRecord, ...]:
    return tuple(e.record for e in events if isinstance(e, StopConditionFired))


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat()


def was_killed(events: Sequence[Event]) -> bool:
    """A run that wrote its start but never its end: SIGKILL, a power cut, an OOM kill."""
    return _first_of(events, RunStarted) is not None and _first_of(events, RunEnded) is None


def run_info_of(events: Sequence[Event]) -> RunInfo:
    """Who ran, when, and how it ended; a log without its end is a killed run (interrupted)."""
    started = _first_of(events, RunStarted)
    if started is None:
        raise ResultError(
            "The event log has no run_started event, so it is not a peakday run (or its first "
            "line was lost). Hint: pass the folder a 'peakday run' wrote."
        )
    ended = _first_of(events, RunEnded)
    return RunInfo(
        id=started.run_id,
        platform=started.platform or started.experiment.platform,
        started_at=_iso(started.wall),
        ended_at=_iso(ended.wall) if ended is not None else None,
        status=ended.status if ended is not None else "interrupted",
        error=(ended.error if ended is not None else KILLED),
        peakday_version=started.peakday_version or started.environment.get("peakday", ""),
    )


def environment_of(events: Sequence[Event]) -> dict[str, str]:
    started = _first_of(events, RunStarted)
    environment = dict(started.environment) if started is not None else {}
    ready = _first_of(events, PlatformReady)
    if ready is not None and ready.toxiproxy_version:
        environment["toxiproxy"] = ready.toxiproxy_version
    return environment


def assemble_result(
    experiment: Experiment,
    run: RunInfo,
    events: Sequence[Event],
    metrics: Iterable[Mapping[str, Any]] | MetricsDigest,
    environment: Mapping[str, str],
    reference: ReferenceRun | None = None,
    traffic_records: Iterable[Mapping[str, Any]] = (),
    server_records: Sequence[Mapping[str, Any]] = (),
    timeline: Sequence[TimelineRow] | None = None,
) -> Result:
    """`metrics`: the metrics records (read once, in order), or their digest. `timeline`: the
    rows of `metrics` when the caller has them already (the live dashboard keeps them
    incrementally); otherwise they are built from `metrics`."""
    digest = (
        metrics
        if isinstance(metrics, MetricsDigest)
        else MetricsDigest.of(metrics, timeline=timeline is None)
    )
    load_started = _first_of(events, LoadStarted)
    t0 = load_started.wall if load_started is not None else None
    if t0 is None:
        t0 = digest.load_started_wall
    stopped = digest.load_stopped_wall
    ended_early = _first_of(events, RunStoppedEarly)
    load_end_s = experiment.load.duration
    if t0 is not None:
        for wall in (stopped, ended_early.wall if ended_early is not None else None):
            if wall is not None:
                load_end_s = min(load_end_s, wall - t0)
        if was_killed(events):  # the load ran as long as its per-second records go
            load_end_s = min(load_end_s, digest.last_second_end)
    else:
        load_end_s = 0.0
    faults = applied_faults(experiment, events, t0, load_end_s)
    rows: Sequence[TimelineRow] = ()
    if timeline is not None:
        rows = tuple(timeline)
    elif digest.timeline is not None:
        rows = digest.timeline
    phases = compute_phases(min(experiment.load.warmup, load_end_s), load_end_s, faults, rows)
    baseline_check = baseline_check_of(events)
    stops = stops_of(events)
    integrity = integrity_of(events)
    health = health_of(experiment.load.model, digest.health, t0)
    traffic = traffic_of(events, traffic_records, t0, load_end_s)
    server_timeline = tuple(r for r in server_rows(server_records) if r.t_s < load_end_s)
    alerts, alert_readings = alert_timings(experiment.alerts, server_records, t0, faults, phases)
    scored = score_timeline(
        experiment,
        run.status,
        rows,
        phases,
        load_end_s,
        baseline_check,
        stops,
        reference,
        integrity,
        health,
        faults,
        traffic,
        server_timeline,
        alerts,
        alert_readings,
    )
    result = Result(
        experiment=experiment,
        run=run.model_copy(update={"load_started_wall": t0, "load_ended_s": round(load_end_s, 3)}),
        phases=phases,
        faults=faults,
        # validated as a tuple of rows; columns are put in as they are (as a read result's)
        timeline=() if isinstance(rows, CompactTimeline) else rows,
        slos=scored.slos,
        verdict=scored.verdict,
        environment=dict(environment),
        outcome=scored.outcome,
        score=scored.score,
        matrix=scored.matrix,
        fault_impacts=scored.fault_impacts,
        baseline_check=baseline_check,
        stops=stops,
        reference=reference.info if reference is not None else None,
        load_health=health,
        integrity=integrity,
        traffic=traffic,
        fault_reach=scored.fault_reach,
        server_timeline=server_timeline,
        alerts=alerts,
        alert_readings=alert_readings,
    )
    if isinstance(rows, CompactTimeline) and rows:
        return result.model_copy(update={"timeline": rows})
    return result


def traffic_of(
    events: Sequence[Event],
    records: Iterable[Mapping[str, Any]],
    t0: float | None,
    load_end_s: float,
) -> Traffic:
    """Bytes per proxy per second, for the proxies the platform reported ready."""
    ready = _first_of(events, PlatformReady)
    proxies = sorted(ready.proxies) if ready is not None else []
    return traffic_from_records(records, proxies, t0, load_end_s)


def experiment_of(folder: RunFolder) -> tuple[Experiment, tuple[Event, ...]]:
    """The experiment a run folder's event log says ran, and the log's events."""
    events = read_events(folder.events)
    started = _first_of(events, RunStarted)
    if started is None:
        raise ResultError(
            f"{str(folder.events)!r} is missing or holds no run_started event, so there is "
            "nothing to assemble. Hint: pass the folder a 'peakday run' wrote."
        )
    return started.experiment, events


def assemble_run(folder: RunFolder, reference: ReferenceRun | None = None) -> Result:
    """The scored result of a run folder, from its events.jsonl and metrics.jsonl alone."""
    experiment, events = experiment_of(folder)
    return assemble_result(
        experiment,
        run_info_of(events),
        events,
        MetricsDigest.of(read_jsonl(folder.metrics)),  # a stream: one record at a time
        environment_of(events),
        reference,
        read_jsonl(folder.traffic),  # read once, as a stream
        list(read_jsonl(folder.server_series)),
    )


def write_assembled(folder: RunFolder, reference: ReferenceRun | None = None) -> Result:
    """The run folder's result, assembled and written (atomically) as its result.json."""
    result = assemble_run(folder, reference)
    folder.write_result(result_json_chunks(result))
    return result


def assemble_folder(folder: RunFolder) -> Result:
    """`peakday assemble` (and `report` without a result): the run folder's result, written as
    its result.json, judged against the run its experiment's compare_to names where that can
    still be read (otherwise those SLOs are inconclusive)."""
    experiment, _ = experiment_of(folder)
    reference = None
    if experiment.scoring.compare_to is not None:
        try:
            reference = load_reference(experiment.scoring.compare_to)
        except ResultError as error:
            log.warning("judging without the reference run: %s", error)
    return write_assembled(folder, reference)
