"""A Result from the logs a run wrote: live decisions become skipped faults, a baseline check,
stop records and the outcome; the live timeline reader merges partial records exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from peakday.assemble import assemble_result
from peakday.load import StepSecond
from peakday.load.live_timeline import LiveTimeline
from peakday.results.events import events_from_records
from peakday.results.model import BaselineCheck, RunInfo, StopRecord, TimelineRow
from unit.scoring.synthetic import LOGIN_FAULT, experiment, row, slo

T0 = 1_000_000.0
SPEC = experiment(
    faults=[LOGIN_FAULT, {**LOGIN_FAULT, "name": "g", "at": "70s"}],
    slos=[slo("login-fast", "login", "p95", "< 100ms", phase="baseline")],
)
RUN = RunInfo(id="r", platform="local", started_at="now", peakday_version="0")


def record(r: TimelineRow) -> dict[str, object]:
    return StepSecond(
        r.t_s, r.name, r.requests, {"http_5xx": r.failures}, r.histogram
    ).to_json_dict()


def metrics(seconds: range, ms: float = 20.0) -> list[dict[str, Any]]:
    return [
        {"kind": "load_started", "wall": T0},
        *(record(row(t, "login", ms=ms)) for t in seconds),
    ]


def test_a_run_stopped_at_the_steady_state_check_is_baseline_not_met() -> None:
    check = BaselineCheck(at_s=40, met=False, continued=False, slos=(), detail="failed: login-fast")
    events = [
        {"kind": "load_started", "wall": T0},
        {"kind": "baseline_checked", "wall": T0 + 40, "check": check.model_dump(mode="json")},
        {
            "kind": "faults_skipped",
            "wall": T0 + 40,
            "fault_indices": [0, 1],
            "reason": "the steady state did not hold before the first fault",
        },
        {"kind": "run_stopped_early", "wall": T0 + 40.2, "reason": "baseline-not-met"},
    ]
    result = assemble_result(
        SPEC,
        RUN.model_copy(update={"status": "stopped"}),
        events_from_records(events),
        metrics(range(0, 40), ms=150),
        {},
    )
    assert result.outcome == "baseline-not-met"
    assert result.baseline_check == check
    assert result.run.load_ended_s == 40.2
    assert [f.skipped for f in result.faults] == [
        "the steady state did not hold before the first fault"
    ] * 2
    assert [p.name for p in result.phases] == ["warmup", "baseline", "all"]
    assert result.matrix is None
    assert result.slos[0].verdict == "fail"


def test_a_fired_stop_condition_makes_the_run_aborted_and_is_kept() -> None:
    stop = StopRecord(
        name="c",
        condition="checkout success_rate < 90% for 10s",
        action="end_faults",
        fired_at_s=52.1,
        breach_from_s=41,
        breach_to_s=51,
    )
    events = [
        {"kind": "load_started", "wall": T0},
        {"kind": "fault_applied", "wall": T0 + 40.01, "fault_index": 0},
        {"kind": "stop_condition_fired", "wall": T0 + 52.1, "record": stop.model_dump(mode="json")},
        {"kind": "fault_removed", "wall": T0 + 52.2, "fault_index": 0},
        {
            "kind": "faults_skipped",
            "wall": T0 + 52.2,
            "fault_indices": [1],
            "reason": "stop condition 'c' fired",
        },
    ]
    result = assemble_result(SPEC, RUN, events_from_records(events), metrics(range(0, 100)), {})
    assert result.outcome == "aborted"
    assert result.stops == (stop,)
    assert result.stopped_by == stop
    first, second = result.faults
    assert (first.applied_at_s, first.removed_at_s, first.skipped) == (40.01, 52.2, None)
    assert second.skipped == "stop condition 'c' fired"
    assert [p.name for p in result.phases if p.kind == "fault"] == ["fault:f"]


def test_a_fault_never_applied_in_a_finished_run_is_skipped() -> None:
    events = [{"kind": "load_started", "wall": T0}]
    logged = [*metrics(range(0, 30)), {"kind": "load_stopped", "wall": T0 + 30}]
    result = assemble_result(SPEC, RUN, events_from_records(events), logged, {})
    assert [f.skipped for f in result.faults] == ["the run ended before it was due"] * 2
    assert result.score is not None


def test_the_live_timeline_reads_only_new_lines_and_merges_a_second_exactly(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    live = LiveTimeline(path)
    assert live.rows() == ()
    a, b = row(5, "login", n=3, ms=10), row(5, "login", n=2, ms=1000, failures=2)
    with path.open("w") as handle:
        handle.write(json.dumps(record(a)) + "\n" + json.dumps(record(b))[:20])  # torn last line
    (first,) = live.rows()
    assert (first.requests, first.failures) == (3, 0)
    with path.open("a") as handle:
        handle.write(json.dumps(record(b))[20:] + "\n")
    (merged,) = live.rows()
    assert (merged.requests, merged.failures) == (5, 2)
    assert merged.max_ms is not None and merged.max_ms >= 1000


def test_the_live_timeline_forgets_old_seconds_and_their_late_parts(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    live = LiveTimeline(path)
    with path.open("w") as handle:
        for t in range(0, 100):
            handle.write(json.dumps(record(row(t, "login", n=3))) + "\n")
    assert len(live.rows()) == 100
    live.forget_before(90)
    assert [r.t_s for r in live.rows()] == list(range(90, 100))
    with path.open("a") as handle:  # a late part of a forgotten second, and of a kept one
        handle.write(json.dumps(record(row(5, "login", n=2))) + "\n")
        handle.write(json.dumps(record(row(95, "login", n=2))) + "\n")
    kept = {r.t_s: r.requests for r in live.rows()}
    assert 5 not in kept
    assert kept[95] == 5
    live.forget_before(10)  # never backwards
    assert live.first_s == 90
