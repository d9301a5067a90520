"""Server-side series (`source: prometheus`) on the live dashboard: the reader tails
prometheus.jsonl, the SLO on the query is judged live, its chart is in the snapshot with the
objective line, a server-side stop condition counts its time in breach, and replay cuts the
series at the moment shown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from peakday.dashboard.reader import FolderReader
from peakday.dashboard.server_live import ServerRecords
from peakday.dashboard.state import LiveRecords, SnapshotBuilder, build_snapshot
from peakday.results.events import Event, FaultApplied, LoadStarted, RunStarted
from peakday.results.folder import RunFolder
from unit.scoring.synthetic import LOGIN_FAULT, experiment, row
from unit.scoring.test_assemble import T0, record

SPEC = experiment(
    faults=[LOGIN_FAULT],  # 40-60 s
    slos=[
        {
            "name": "login-errors",
            "source": "prometheus",
            "query": "sum(rate(errors[3s])) / sum(rate(requests[3s]))",
            "objective": "< 5%",
            "phase": "fault",
        }
    ],
    stop_conditions=[
        {
            "name": "auth-down",
            "source": "prometheus",
            "query": 'sum(up{job="auth"})',
            "metric": "value",
            "when": "< 1",
            "sustained": "10s",
        }
    ],
    monitoring="prometheus",
)


def started() -> list[Event]:
    return [
        RunStarted(wall=T0 - 5, run_id="r1", experiment=SPEC, platform="local"),
        LoadStarted(wall=T0),
    ]


def client(first: int, last: int) -> list[dict[str, Any]]:
    return [record(row(t, "login")) for t in range(first, last)]


def sample(t: int, series: str, value: float | None) -> dict[str, Any]:
    return {"kind": "sample", "t_s": t, "series": f"prometheus:{series}", "value": value}


def server(first: int, last: int, errors: float, up: float = 1.0) -> list[dict[str, Any]]:
    return [
        record
        for t in range(first, last)
        for record in (sample(t, "login-errors", errors), sample(t, "auth-down", up))
    ]


def in_fault(now_s: int, *, errors: float = 0.3, up_from: int = 1000) -> LiveRecords:
    """40 s of baseline (0.01 errors), then the fault (`errors`) up to `now_s`; auth's `up`
    reads 0 from `up_from` on."""
    events = [*started(), FaultApplied(wall=T0 + 40.1, fault_index=0)]
    samples = server(0, 40, 0.01)
    samples += [
        record
        for t in range(40, now_s)
        for record in (
            sample(t, "login-errors", errors),
            sample(t, "auth-down", 0.0 if t >= up_from else 1.0),
        )
    ]
    return LiveRecords.of(events, client(0, now_s), [], samples)


def test_a_server_side_slo_is_judged_live_from_the_query_s_values() -> None:
    snap = build_snapshot(in_fault(50), T0 + 50.5)
    (slo,) = [s for s in snap.slos if s.name == "login-errors"]
    assert (slo.measured, slo.verdict) == ("0.3", "fail")
    calm = build_snapshot(in_fault(50, errors=0.02), T0 + 50.5)
    (slo,) = [s for s in calm.slos if s.name == "login-errors"]
    assert (slo.measured, slo.verdict) == ("0.02", "pass")


def test_the_snapshot_carries_one_chart_per_series_with_its_objective_and_newest_value() -> None:
    snap = build_snapshot(in_fault(50), T0 + 50.5)
    errors, down = snap.server_series
    assert (errors.name, errors.kind, errors.last_value, errors.verdict) == (
        "login-errors",
        "SLO",
        0.3,
        "fail",
    )
    assert errors.chart_svg.startswith('<svg class="chart server"')
    assert "login-errors: server-side (Prometheus)" in errors.chart_svg
    assert "login-errors &lt; 5%" in errors.chart_svg and 'class="slo-line"' in errors.chart_svg
    assert "PromQL: sum(rate(errors[3s]))" in errors.chart_svg
    assert (down.name, down.kind, down.last_value) == ("auth-down", "stop condition", 1.0)
    assert "stop auth-down &lt; 1 for 10s" in down.chart_svg
    # The JSON the page receives holds them too.
    sent = json.loads(snap.model_dump_json())
    assert [s["name"] for s in sent["server_series"]] == ["login-errors", "auth-down"]


def test_no_server_series_no_charts() -> None:
    plain = experiment(faults=[LOGIN_FAULT])
    events: list[Event] = [
        RunStarted(wall=T0 - 5, run_id="r1", experiment=plain, platform="local"),
        LoadStarted(wall=T0),
    ]
    assert build_snapshot(LiveRecords.of(events, client(0, 10)), T0 + 10).server_series == ()


def test_a_server_side_stop_condition_counts_its_time_in_breach() -> None:
    snap = build_snapshot(in_fault(50, up_from=44), T0 + 50.5)
    (stop,) = snap.stops
    assert (stop.name, stop.in_breach_s, stop.fired) == ("auth-down", 6.0, False)


def test_between_scorings_the_server_chart_uses_the_newest_samples() -> None:
    builder = SnapshotBuilder(score_every_s=100.0)
    records = in_fault(45)
    first = builder.build(records, T0 + 45.5)
    records.add([], client(45, 48), [], server(45, 48, 0.6))
    second = builder.build(records, T0 + 48.5)
    assert (first.server_series[0].last_value, second.server_series[0].last_value) == (0.3, 0.6)
    points = re.findall(
        r'<polyline class="series" points="([^"]*)"', second.server_series[0].chart_svg
    )
    assert len(points[0].split()) == 48  # seconds 0-47
    assert second.slos == first.slos  # the SLO is scored again only when due


def test_replay_cuts_the_series_at_the_moment_shown() -> None:
    records = in_fault(60)
    at_45 = build_snapshot(records, T0 + 100, until_s=45)
    assert at_45.server_series[0].last_value == 0.3
    points = re.findall(
        r'<polyline class="series" points="([^"]*)"', at_45.server_series[0].chart_svg
    )
    assert len(points[0].split()) == 45  # seconds 0-44: the samples of seconds that had ended


def test_replay_keeps_the_samples_and_alert_readings_made_by_the_moment_shown() -> None:
    records = ServerRecords()
    records.add(
        [
            {"kind": "rules", "for_s": {"A": 2.0}},
            sample(44, "x", 0.1),
            sample(45, "x", 0.2),  # second 45 ends at 46 s: not yet read at 45 s
            {"kind": "alerts", "wall": T0 + 44.9, "alerts": []},
            {"kind": "alerts", "wall": T0 + 45.1, "alerts": []},
        ]
    )
    kept = records.until(T0, 45.0)
    assert [(r["kind"], r.get("t_s"), r.get("wall")) for r in kept] == [
        ("rules", None, None),
        ("sample", 44, None),
        ("alerts", None, T0 + 44.9),
    ]


def test_a_later_reading_of_a_second_without_a_value_keeps_the_earlier_one() -> None:
    records = ServerRecords()
    assert records.add([sample(3, "x", 0.5)]) is True
    records.add([sample(3, "x", None), sample(4, "x", None)])
    assert [(r.t_s, r.value) for r in records.rows()] == [(3, 0.5), (4, None)]
    records.add([sample(4, "x", 0.7)])
    assert [(r.t_s, r.value) for r in records.rows()] == [(3, 0.5), (4, 0.7)]
    assert records.add([]) is False


def _append(path: Path, *records: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps(r) + "\n")


def test_the_reader_tails_the_server_series_file(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    reader = FolderReader(folder)
    for event in started():
        _append(folder.events, json.loads(event.model_dump_json()))
    _append(folder.metrics, *client(0, 5))
    _append(folder.server_series, *server(0, 3, 0.01))
    assert reader.poll() is True
    assert len(reader.records.server.rows()) == 6
    assert reader.poll() is False
    _append(folder.server_series, *server(3, 5, 0.02), {"kind": "alerts", "wall": T0 + 5})
    assert reader.poll() is True  # only the new server lines arrived
    assert len(reader.records.server.rows()) == 10
    assert len(reader.records.server.records) == 11
    snap = build_snapshot(reader.records, T0 + 5.5)
    assert snap.server_series[0].last_value == 0.02
