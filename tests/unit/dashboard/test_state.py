"""The dashboard's state from a run's records: phase, fault timeline with countdowns, per-step
figures, SLOs so far, time in breach of each stop condition, manual stops; and the reader tails
a folder's files incrementally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from peakday.dashboard.reader import FolderReader
from peakday.dashboard.state import WAITING_CELL, LiveRecords, SnapshotBuilder, build_snapshot
from peakday.results.events import (
    Event,
    FaultApplied,
    FaultRemoved,
    LoadStarted,
    RunStarted,
    StopConditionFired,
)
from peakday.results.folder import RunFolder
from peakday.scoring.manual import ManualStop, manual_stop_record
from unit.scoring.synthetic import LOGIN_FAULT, experiment, row, slo
from unit.scoring.test_assemble import T0, record

SPEC = experiment(
    faults=[LOGIN_FAULT, {**LOGIN_FAULT, "name": "g", "at": "70s"}],  # 40-60 s and 70-90 s
    slos=[slo("login-fast", "login", "p95", "< 100ms", phase="baseline")],
    stop_conditions=[
        {"name": "login-slow", "request": "login", "metric": "p95", "when": "> 100ms",
         "sustained": "10s"}
    ],
)  # fmt: skip


def started() -> list[Event]:
    return [
        RunStarted(wall=T0 - 5, run_id="r1", experiment=SPEC, platform="local"),
        LoadStarted(wall=T0),
    ]


def seconds(first: int, last: int, ms: float = 20.0) -> list[dict[str, Any]]:
    return [record(row(t, "login", ms=ms)) for t in range(first, last)]


def test_before_the_run_starts_the_page_waits() -> None:
    assert build_snapshot(LiveRecords(), T0).state == "waiting"


def test_at_baseline_the_next_fault_counts_down_to_its_start() -> None:
    records = LiveRecords.of(started(), seconds(0, 30))
    snap = build_snapshot(records, T0 + 30.4)
    assert (snap.state, snap.phase, snap.elapsed_s) == ("running", "baseline", 30.4)
    assert [(f.state, f.countdown_s) for f in snap.faults] == [("next", 9.6), ("later", 39.6)]
    (login,) = snap.steps
    assert login.name == "login" and login.last_second == 29 and login.rps == 10
    assert login.p95_ms is not None and 19 < login.p95_ms < 21
    assert "<svg" in login.latency_svg and "<svg" in snap.throughput_svg
    assert [(s.name, s.verdict) for s in snap.slos] == [("login-fast", "pass")]


def test_in_warmup_the_phase_says_so() -> None:
    snap = build_snapshot(LiveRecords.of(started(), seconds(0, 3)), T0 + 3)
    assert snap.phase == "warmup"


def test_under_a_fault_it_counts_down_to_the_fault_end_and_shows_time_in_breach() -> None:
    events = [*started(), FaultApplied(wall=T0 + 40.1, fault_index=0)]
    records = LiveRecords.of(events, seconds(0, 40) + seconds(40, 46, ms=300))
    snap = build_snapshot(records, T0 + 46.5)
    assert snap.phase == "fault: f"
    assert [(f.state, f.countdown_s) for f in snap.faults] == [("current", 13.5), ("next", 23.5)]
    (stop,) = snap.stops
    assert (stop.name, stop.in_breach_s, stop.sustained_s, stop.fired) == (
        "login-slow",
        6.0,
        10.0,
        False,
    )
    assert snap.faults and snap.matrix  # the cell of the fault in progress is shown


def test_a_fault_just_applied_waits_for_its_first_second_rather_than_reading_broken() -> None:
    events = [*started(), FaultApplied(wall=T0 + 40.1, fault_index=0)]
    snap = build_snapshot(LiveRecords.of(events, seconds(0, 40)), T0 + 41.0)
    (line,) = [m for m in snap.matrix if m.fault == "f"]
    assert line.cells and {cell[1:] for cell in line.cells} == {("inconclusive", WAITING_CELL)}
    # Once the fault's first second is written, the cell is judged.
    snap = build_snapshot(LiveRecords.of(events, seconds(0, 41)), T0 + 42.0)
    (line,) = [m for m in snap.matrix if m.fault == "f"]
    assert dict((c[0], c[2]) for c in line.cells)["login"] != WAITING_CELL


def test_after_a_fault_it_is_past_and_the_phase_is_recovery() -> None:
    events = [
        *started(),
        FaultApplied(wall=T0 + 40.1, fault_index=0),
        FaultRemoved(wall=T0 + 50.0, fault_index=0),
    ]
    records = LiveRecords.of(events, seconds(0, 40) + seconds(40, 52, ms=300))
    snap = build_snapshot(records, T0 + 52)
    assert snap.phase == "recovery"
    assert [f.state for f in snap.faults] == ["past", "next"]
    assert snap.stops[0].in_breach_s == 12.0  # still breached in 50, 51


def test_a_manual_stop_is_listed_with_who_and_when() -> None:
    stop = ManualStop("end_faults", "alice (127.0.0.1)", T0 + 45)
    events = [
        *started(),
        FaultApplied(wall=T0 + 40.1, fault_index=0),
        StopConditionFired(wall=T0 + 45, record=manual_stop_record(stop, 45.0)),
        FaultRemoved(wall=T0 + 45.02, fault_index=0),
    ]
    snap = build_snapshot(LiveRecords.of(events, seconds(0, 45)), T0 + 46)
    manual = [s for s in snap.stops if s.manual_by is not None]
    assert [(s.manual_by, s.action, s.fired) for s in manual] == [
        ("alice (127.0.0.1)", "end_faults", True)
    ]
    assert manual[0].manual_at is not None and manual[0].manual_at.startswith("1970-01-12T")


def test_replay_shows_the_run_as_it_stood_at_a_moment() -> None:
    events = [
        *started(),
        FaultApplied(wall=T0 + 40.1, fault_index=0),
        FaultRemoved(wall=T0 + 50.0, fault_index=0),
    ]
    records = LiveRecords.of(events, seconds(0, 60))
    at_20 = build_snapshot(records, T0 + 100, until_s=20)
    assert (at_20.phase, at_20.elapsed_s, at_20.steps[0].last_second) == ("baseline", 20.0, 19)
    assert build_snapshot(records, T0 + 100, until_s=45).phase == "fault: f"


def _append(path: Path, *records: dict[str, Any], torn: str = "") -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps(r) + "\n")
        handle.write(torn)


def test_the_reader_reads_only_what_was_appended_and_waits_for_whole_lines(
    tmp_path: Path,
) -> None:
    folder = RunFolder(tmp_path)
    reader = FolderReader(folder)
    assert reader.poll() is False
    first, load = started()
    _append(folder.events, json.loads(first.model_dump_json()))
    _append(folder.metrics, *seconds(0, 3), torn='{"kind": "metr')
    assert reader.poll() is True
    assert (len(reader.records.events), len(reader.records.metrics)) == (1, 3)
    assert reader.poll() is False  # nothing new; the torn line is not read yet
    _append(folder.events, json.loads(load.model_dump_json()))
    assert reader.poll() is True
    assert (len(reader.records.events), len(reader.records.metrics)) == (2, 3)
    assert reader.final_result() is None


def test_between_scorings_the_charts_and_step_figures_use_the_newest_rows() -> None:
    builder = SnapshotBuilder(score_every_s=100.0)
    records = LiveRecords.of(started(), seconds(0, 20))
    first = builder.build(records, T0 + 20)
    records.add([], seconds(20, 25, ms=300), [])
    second = builder.build(records, T0 + 25)
    assert (first.steps[0].last_second, second.steps[0].last_second) == (19, 24)
    assert second.steps[0].p95_ms is not None and second.steps[0].p95_ms > 250
    assert second.slos == first.slos  # scored again only when due (or on a new event)
    records.add([FaultApplied(wall=T0 + 25.1, fault_index=0)], [], [])
    assert builder.build(records, T0 + 25.2).phase == "fault: f"
