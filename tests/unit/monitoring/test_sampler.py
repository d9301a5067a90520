"""The sampler reads each second at its end, after the lag, with a fake API and clock."""

from __future__ import annotations

import json
from pathlib import Path

from peakday.monitoring.api import AlertState, QueryError
from peakday.monitoring.sampler import ServerSampler


class FakeApi:
    def __init__(self) -> None:
        self.asked: list[tuple[str, float | None]] = []

    def value(self, query: str, at: float | None = None) -> float | None:
        self.asked.append((query, at))
        if query == "bad":
            raise QueryError("parse error")
        return 1.5

    def alerts(self) -> tuple[AlertState, ...]:
        return (AlertState("A", "pending", 100.0),)

    def alert_holds(self) -> dict[str, float]:
        return {"A": 2.0}


def test_stop_reads_every_second_that_ended_at_its_end_time(tmp_path: Path) -> None:
    api = FakeApi()
    slept: list[float] = []
    now = [100.0 + 3.9 + 2.0]  # 3.9 s into the load, the lag already past
    sampler = ServerSampler(
        api,
        tmp_path / "p.jsonl",
        {"prometheus:ok": "up", "prometheus:bad": "bad"},
        duration_s=10.0,
        read_alerts=True,
        clock=lambda: now[0],
        interval_s=3600.0,  # the thread never ticks in this test
        sleep=slept.append,
    )
    sampler.begin(100.0)
    now[0] = 100.0 + 3.9  # the load ended at 3.9 s; stop() waits out the lag
    sampler.stop()
    assert slept == [2.0]
    assert [at for q, at in api.asked if q == "up"] == [101.0, 102.0, 103.0]
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    samples = [r for r in records if r["kind"] == "sample"]
    assert [(r["t_s"], r["series"], r["value"]) for r in samples if r["series"].endswith("ok")] == [
        (0, "prometheus:ok", 1.5),
        (1, "prometheus:ok", 1.5),
        (2, "prometheus:ok", 1.5),
    ]
    assert all(r["value"] is None and "parse error" in r["error"] for r in samples[1::2])
    assert {"kind": "rules", "for_s": {"A": 2.0}} in records
    assert records[-1]["alerts"] == [{"alert": "A", "state": "pending", "active_at": 100.0}]


def test_a_sampler_that_never_began_writes_nothing(tmp_path: Path) -> None:
    sampler = ServerSampler(FakeApi(), tmp_path / "p.jsonl", {"s": "up"}, 10.0, read_alerts=True)
    sampler.stop()
    assert not (tmp_path / "p.jsonl").exists()
