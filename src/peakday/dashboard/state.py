"""What the dashboard shows, built from what the run writes (pure: records in, a snapshot out).

`LiveRecords` holds the events, metrics, traffic and server-side (Prometheus) records read so far
(dashboard.reader tails the run folder's files into it); `build_snapshot` turns them into a
`Snapshot` at a wall-clock moment. The numbers come from the same code as the result: the
records are assembled as a (partial) Result (`assemble.assemble_result`) and viewed as the report
views it (`reporting.model.build_view`), so the page and the final report never disagree.
`build_snapshot(..., until_s=T)` replays a finished run as it stood T seconds into the load.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from peakday.assemble import assemble_result, environment_of, run_info_of
from peakday.experiment.models import Experiment
from peakday.load import StepSecond, merge_step_seconds
from peakday.load.timeline import row_from_step_second, step_seconds
from peakday.reporting.html import step_charts, throughput_chart
from peakday.reporting.model import ReportView, build_view, fault_views, step_views
from peakday.reporting.server_series import server_series_views
from peakday.results.events import (
    Event,
    FaultApplied,
    FaultFailed,
    FaultRemoved,
    FaultsSkipped,
    LoadStarted,
    RunEnded,
    RunStarted,
    RunStoppedEarly,
)
from peakday.results.model import Result, TimelineRow

from .server_live import ServerRecords, server_series_lines
from .snapshot import FaultLine, FaultState, MatrixLine, SloLine, Snapshot, StepLine
from .stops import stop_lines


class LiveRecords:
    """Everything read from the run folder so far, and the timeline rows they make (kept
    incrementally: a row is summarised again only when a record for its second arrives)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.metrics: list[dict[str, Any]] = []
        self.traffic: list[dict[str, Any]] = []
        self.server = ServerRecords()  # prometheus.jsonl: server-side series, alert states
        self._merged: dict[tuple[int, str], StepSecond] = {}
        self._rows: dict[tuple[int, str], TimelineRow] = {}

    @classmethod
    def of(
        cls,
        events: Sequence[Event] = (),
        metrics: Sequence[dict[str, Any]] = (),
        traffic: Sequence[dict[str, Any]] = (),
        server: Sequence[dict[str, Any]] = (),
    ) -> LiveRecords:
        records = cls()
        records.add(events, metrics, traffic, server)
        return records

    def add(
        self,
        events: Sequence[Event],
        metrics: Sequence[dict[str, Any]],
        traffic: Sequence[dict[str, Any]],
        server: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """Appends what was read; True when anything was new."""
        self.events.extend(events)
        self.metrics.extend(metrics)
        self.traffic.extend(traffic)
        server_changed = self.server.add(server)
        changed: set[tuple[int, str]] = set()
        for record in step_seconds(metrics):
            previous = self._merged.get(record.key)
            self._merged[record.key] = (
                record if previous is None else merge_step_seconds([previous, record])
            )
            changed.add(record.key)
        for key in changed:
            self._rows[key] = row_from_step_second(self._merged[key])
        return bool(events or metrics or traffic or server_changed)

    def timeline(self) -> tuple[TimelineRow, ...]:
        return tuple(self._rows[key] for key in sorted(self._rows))

    def first(self, kind: type[Event]) -> Any:
        return next((e for e in self.events if isinstance(e, kind)), None)


def _until(records: LiveRecords, t0: float | None, until_s: float) -> LiveRecords:
    """The records as they stood `until_s` seconds into the load (replay)."""
    if t0 is None:
        return records
    wall = t0 + until_s
    return LiveRecords.of(
        [e for e in records.events if e.wall <= wall],
        [
            r
            for r in records.metrics
            if r.get("kind") != "metrics" or float(r.get("t_s", 0)) + 1 <= until_s
        ],
        [r for r in records.traffic if float(r.get("wall", 0.0)) <= wall],
        records.server.until(t0, until_s),
    )


def build_snapshot(
    records: LiveRecords,
    now_wall: float,
    final: Result | None = None,
    until_s: float | None = None,
) -> Snapshot:
    """The dashboard at `now_wall`; `final`: the written result once the run is over;
    `until_s`: replay the run as it stood that many seconds into the load."""
    return SnapshotBuilder(score_every_s=0.0).build(records, now_wall, final, until_s)


class SnapshotBuilder:
    """Builds snapshots, scoring the run (SLOs, matrix, stops, generator health: the costly
    part) again only every `score_every_s` or when a new event arrives; in between, the charts
    and step figures use the newest rows with the last scoring."""

    def __init__(self, score_every_s: float = 5.0) -> None:
        self.score_every_s = score_every_s
        self._scored: tuple[Result, ReportView] | None = None
        self._scored_wall = -math.inf
        self._scored_events = -1

    def result_at(
        self, experiment: Experiment, records: LiveRecords, now_wall: float
    ) -> tuple[Result, ReportView]:
        """The live result and its view: scored afresh when due, else the last scoring with
        the newest rows (charts and step figures; the view's other parts are kept)."""
        ended = records.first(RunEnded) is not None
        fresh = (
            self._scored is None
            or len(records.events) != self._scored_events
            or now_wall - self._scored_wall >= self.score_every_s
        )
        if fresh:
            result = _live_result(experiment, records, ended)
            self._scored = result, build_view(result)
            self._scored_wall, self._scored_events = now_wall, len(records.events)
            return self._scored
        assert self._scored is not None
        scored, view = self._scored
        rows = records.timeline()
        last_s = max((r.t_s + 1.0 for r in rows), default=0.0)
        run = scored.run.model_copy(update={"load_ended_s": last_s})
        server = records.server.rows()
        result = scored.model_copy(update={"timeline": rows, "run": run, "server_timeline": server})
        steps = step_views(result)
        return result, dataclasses.replace(
            view, steps=steps, faults=fault_views(result), server_series=server_series_views(result)
        )

    def build(
        self,
        records: LiveRecords,
        now_wall: float,
        final: Result | None = None,
        until_s: float | None = None,
    ) -> Snapshot:
        return _build(self, records, now_wall, final, until_s)


def _build(
    builder: SnapshotBuilder,
    records: LiveRecords,
    now_wall: float,
    final: Result | None,
    until_s: float | None,
) -> Snapshot:
    started: RunStarted | None = records.first(RunStarted)
    if started is None:
        return Snapshot(state="waiting")
    loaded: LoadStarted | None = records.first(LoadStarted)
    t0 = loaded.wall if loaded is not None else None
    replaying = until_s is not None and t0 is not None
    if until_s is not None and t0 is not None:
        records = _until(records, t0, until_s)
        now_wall = t0 + until_s
        final = None
    experiment = started.experiment
    ended: RunEnded | None = records.first(RunEnded)
    if final is not None or until_s is not None:
        result = (
            final if final is not None else _live_result(experiment, records, ended is not None)
        )
        view = build_view(result)
    else:
        result, view = builder.result_at(experiment, records, now_wall)
    duration_s = experiment.load.duration
    view = dataclasses.replace(view, duration_s=duration_s)
    if t0 is None:
        return Snapshot(
            state="starting",
            run_id=started.run_id,
            name=experiment.name,
            phase="starting the platform and the load",
            duration_s=duration_s,
            faults=_fault_lines(experiment, records, None, 0.0),
        )
    stopped: RunStoppedEarly | None = records.first(RunStoppedEarly)
    end_wall = min(w for w in (now_wall, _wall(ended), _wall(stopped)) if w is not None)
    elapsed_s = max(0.0, min(duration_s, end_wall - t0))
    over = ended is not None or (replaying and until_s is not None and until_s >= duration_s)
    return Snapshot(
        state="ended" if over else "running",
        run_id=started.run_id,
        name=experiment.name,
        phase=_phase(experiment, records, elapsed_s, ended, stopped),
        elapsed_s=round(elapsed_s, 1),
        duration_s=duration_s,
        faults=_fault_lines(experiment, records, t0, elapsed_s),
        steps=_step_lines(view),
        throughput_svg=str(throughput_chart(view)),
        server_series=server_series_lines(view),
        baseline=_baseline(result),
        slos=tuple(
            SloLine(
                name=s.name,
                request=s.request,
                metric=s.metric,
                phase=s.phase,
                objective=s.objective,
                measured=s.measured,
                verdict=s.verdict,
            )
            for s in view.slos
        ),
        stops=stop_lines(experiment, result),
        matrix_columns=view.matrix.columns if view.matrix is not None else (),
        matrix=_matrix_lines(view, _faults_without_data(result) if final is None else set()),
        generator=view.load_health.summary if view.load_health is not None else "",
        generator_trusted=view.load_health.trusted if view.load_health is not None else True,
        outcome=result.outcome if final is not None else "",
        score=result.score.total if final is not None and result.score is not None else None,
        final=final is not None,
    )


WAITING_CELL = "waiting for the fault's first settled second"


def _faults_without_data(result: Result) -> set[str]:
    """Live: faults whose window holds no settled second yet. Their cells would read "broken:
    no requests" until the rows arrive (a second is written once its requests settle)."""
    settled_end = max((r.t_s + 1.0 for r in result.timeline if r.requests), default=0.0)
    return {
        phase.name.removeprefix("fault:")
        for phase in result.phases
        if phase.kind == "fault" and settled_end - 0.5 < phase.start_s
    }


def _matrix_lines(view: ReportView, waiting: set[str]) -> tuple[MatrixLine, ...]:
    if view.matrix is None:
        return ()
    columns = view.matrix.columns
    return tuple(
        MatrixLine(
            fault=fault,
            cells=tuple(
                (column, "inconclusive", WAITING_CELL)
                if fault in waiting
                else (column, cell.css, cell.text)
                for column, cell in zip(columns, cells, strict=False)
            ),
        )
        for fault, cells in view.matrix.rows
    )


def _wall(event: Event | None) -> float | None:
    return event.wall if event is not None else None


def _live_result(experiment: Experiment, records: LiveRecords, ended: bool) -> Result:
    run = run_info_of(records.events)
    if not ended:  # still going: not a killed run, whatever assemble would otherwise assume
        run = run.model_copy(update={"status": "completed", "error": None})
    return assemble_result(
        experiment,
        run,
        records.events,
        records.metrics,
        environment_of(records.events),
        None,
        records.traffic,
        records.server.records,
        timeline=records.timeline(),
    )


def active_faults(records: LiveRecords) -> list[int]:
    """Indices of the faults applied and not yet removed, in the order they were applied."""
    active: list[int] = []
    for event in records.events:
        if isinstance(event, FaultApplied):
            active.append(event.fault_index)
        elif isinstance(event, FaultRemoved | FaultFailed) and event.fault_index in active:
            active.remove(event.fault_index)
    return active


def _phase(
    experiment: Experiment,
    records: LiveRecords,
    elapsed_s: float,
    ended: RunEnded | None,
    stopped: RunStoppedEarly | None,
) -> str:
    if ended is not None:
        return f"ended ({ended.status})"
    if stopped is not None:
        return f"stopping: {stopped.reason}"
    active = active_faults(records)
    if active:
        return "fault: " + ", ".join(experiment.faults[i].label for i in active)
    if elapsed_s < experiment.load.warmup:
        return "warmup"
    if any(isinstance(e, FaultRemoved | FaultFailed) for e in records.events):
        return "recovery"
    return "baseline"


def _fault_lines(
    experiment: Experiment, records: LiveRecords, t0: float | None, elapsed_s: float
) -> tuple[FaultLine, ...]:
    applied: dict[int, float] = {}
    removed: dict[int, float] = {}
    skipped: set[int] = set()
    for event in records.events:
        if isinstance(event, FaultApplied) and t0 is not None:
            applied.setdefault(event.fault_index, event.wall - t0)
        elif isinstance(event, FaultRemoved | FaultFailed) and t0 is not None:
            removed.setdefault(event.fault_index, event.wall - t0)
        elif isinstance(event, FaultsSkipped):
            skipped.update(event.fault_indices)
    upcoming = sorted(
        (f.at, i)
        for i, f in enumerate(experiment.faults)
        if i not in applied and i not in skipped and f.at >= elapsed_s
    )
    next_index = upcoming[0][1] if upcoming else None
    lines = []
    for i, fault in enumerate(experiment.faults):
        state: FaultState
        countdown: float | None = None
        if i in removed:
            state, detail = "past", f"{applied.get(i, 0.0):.1f}-{removed[i]:.1f} s"
        elif i in applied:
            state, detail = "current", f"on since {applied[i]:.1f} s"
            countdown = max(0.0, fault.end - elapsed_s)
        elif i in skipped:
            state, detail = "skipped", "not applied (the faults were ended)"
        else:
            state = "next" if i == next_index else "later"
            countdown = max(0.0, fault.at - elapsed_s)
            detail = f"planned {fault.at:g}-{fault.end:g} s"
        lines.append(
            FaultLine(
                label=fault.label,
                target=fault.proxy or fault.service or "",
                planned_start_s=fault.at,
                planned_end_s=fault.end,
                state=state,
                countdown_s=round(countdown, 1) if countdown is not None else None,
                detail=detail,
            )
        )
    return tuple(lines)


def _last(values: Sequence[float | None]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def _step_lines(view: ReportView) -> tuple[StepLine, ...]:
    lines = []
    for step in view.steps:
        charts = step_charts(view, step)
        lines.append(
            StepLine(
                name=step.name,
                last_second=step.seconds[-1] if step.seconds else None,
                rps=_last(step.rps),
                success_pct=_last(step.success_pct),
                p50_ms=_last(step.p50_ms),
                p95_ms=_last(step.p95_ms),
                p99_ms=_last(step.p99_ms),
                latency_svg=str(charts.latency),
                success_svg=str(charts.success),
            )
        )
    return tuple(lines)


def _baseline(result: Result) -> str:
    check = result.baseline_check
    if check is None:
        return "not checked yet (at the first fault)"
    if check.met:
        return f"steady state holds (checked at {check.at_s:.1f} s)"
    if check.continued:
        return f"steady state does NOT hold ({check.detail}); faults injected anyway"
    return f"steady state does NOT hold ({check.detail}); no fault injected"
