"""A whole run (fakes, virtual time) whose steady-state check waits for a Prometheus that lags:
the check waits its bound, the faults move by the wait, one moved past the load's end is
skipped, and everything is in the events and the result."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from peakday.monitoring.api import AlertState
from peakday.monitoring.sampler import ServerSampler
from peakday.results.eventlog import read_jsonl
from peakday.scoring.phases import in_flight_cutoff
from unit.orchestrator.test_run import DURATION_S, T0, World, run
from unit.scoring.synthetic import LOGIN_FAULT, experiment

SERVER_BASELINE = {
    "name": "server-errors",
    "source": "prometheus",
    "query": "sum(rate(errors[3s]))",
    "objective": "< 5%",
    "phase": "baseline",
}


class LaggingPrometheus:
    """Answers the query check at once, but a second of the run only once the load is over
    (virtual time): while the run goes, the poller writes nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def value(self, query: str, at: float | None = None) -> float | None:
        while at is not None and self.world.now < T0 + DURATION_S:
            time.sleep(0.005)
        return 0.0

    def alerts(self) -> tuple[AlertState, ...]:
        return ()

    def alert_holds(self) -> dict[str, float]:
        return {}


def bound_s() -> float:
    return ServerSampler(LaggingPrometheus(World()), Path("-"), {}, 1.0, False).cover_bound_s


def test_the_check_waits_its_bound_and_the_faults_move_by_the_wait(tmp_path: Path) -> None:
    world = World()
    spec = experiment(
        faults=[
            {**LOGIN_FAULT, "at": "10s", "duration": "5s"},
            {**LOGIN_FAULT, "name": "late", "at": "26s", "duration": "2s"},
        ],
        slos=[SERVER_BASELINE],
        duration=f"{DURATION_S}s",
        warmup="2s",
        storefront={"integrity": False},
        monitoring={"prometheus": "http://127.0.0.1:9"},
        scoring={"continue_if_baseline_not_met": True},  # so the moved fault still goes in
    )
    result = run(tmp_path, world, spec=spec, prometheus=LaggingPrometheus(world))()
    wait_s = bound_s()
    check = result.baseline_check
    assert check is not None
    assert check.at_s == pytest.approx(10.0, abs=0.05)  # the baseline ends where the fault was due
    assert check.waited_s == pytest.approx(wait_s, abs=0.3)
    assert not check.met and "no data: server-errors" in check.detail  # never a pass
    assert "Prometheus had not read second 9" in check.detail
    first, late = result.faults
    assert first.planned_at_s == 10.0
    assert first.applied_at_s == pytest.approx(10.0 + wait_s, abs=0.3)
    assert first.removed_at_s == pytest.approx(15.0 + wait_s, abs=0.3)  # it keeps its length
    assert late.applied_at_s is None
    assert late.skipped is not None and "moved it past the load's end" in late.skipped
    baseline = next(p for p in result.phases if p.kind == "baseline")
    # Phases follow what really happened: the baseline ends at the moved fault (or before the
    # seconds whose requests it reached in flight, docs/scoring.md).
    assert first.applied_at_s is not None
    assert baseline.end_s == in_flight_cutoff(result.timeline, baseline.start_s, first.applied_at_s)
    assert first.applied_at_s - 1.5 < baseline.end_s <= first.applied_at_s
    kinds = [record["kind"] for record in read_jsonl(tmp_path / "run" / "events.jsonl")]
    assert kinds.index("baseline_checked") < kinds.index("fault_applied")
    assert "faults_skipped" in kinds
