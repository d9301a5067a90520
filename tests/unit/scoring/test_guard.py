"""LiveGuard's decisions and the events and rollbacks they cause, with fakes at the seam."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peakday.results.events import Event
from peakday.results.model import TimelineRow
from peakday.scoring.guard import LiveGuard
from unit.scoring.synthetic import LOGIN_FAULT, experiment, row, rows, slo

SECOND_FAULT = {**LOGIN_FAULT, "name": "g", "at": "70s"}
STOP = {
    "name": "checkout-collapse",
    "request": "checkout",
    "metric": "success_rate",
    "when": "< 90%",
    "sustained": "3s",
}


@dataclass
class World:
    timeline: list[TimelineRow] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rollbacks: int = 0
    said: list[str] = field(default_factory=list)

    def record(self, event: Event) -> None:
        self.events.append((event.kind, event.model_dump(mode="json")))

    def rollback(self) -> None:
        self.rollbacks += 1

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def guard(world: World, **spec: Any) -> LiveGuard:
    return LiveGuard(
        experiment(faults=[LOGIN_FAULT, SECOND_FAULT], **spec),
        lambda: world.timeline,
        world.record,
        world.rollback,
        world.said.append,
        clock=lambda: 1000.0,
    )


BASELINE = [slo("login-fast", "login", "p95", "< 100ms", phase="baseline")]


def test_a_held_steady_state_lets_every_fault_go_ahead() -> None:
    world = World(rows("login", range(10, 39)))
    live = guard(world, slos=BASELINE)
    assert live.allows("apply", 0, 40.0)
    assert live.allows("remove", 0, 60.0)
    assert live.allows("apply", 1, 70.0)
    assert world.kinds() == ["baseline_checked"]
    assert world.events[0][1]["check"]["met"] is True


def test_a_failed_steady_state_injects_nothing_and_ends_the_run() -> None:
    world = World(rows("login", range(10, 39), ms=500))
    live = guard(world, slos=BASELINE)
    assert not live.allows("apply", 0, 40.0)
    assert live.run_over and live.faults_ended
    assert world.kinds() == ["baseline_checked", "faults_skipped", "run_stopped_early"]
    assert world.events[1][1]["fault_indices"] == [0, 1]
    assert world.events[2][1]["reason"] == "baseline-not-met"
    assert not live.allows("apply", 1, 70.0)
    assert "steady state does not hold" in world.said[0]


def test_continue_if_baseline_not_met_injects_anyway() -> None:
    world = World(rows("login", range(10, 39), ms=500))
    live = guard(world, slos=BASELINE, scoring={"continue_if_baseline_not_met": True})
    assert live.allows("apply", 0, 40.0)
    assert not live.run_over
    assert world.events[0][1]["check"]["continued"] is True


def test_a_stop_condition_rolls_back_all_faults_and_skips_the_rest() -> None:
    world = World(rows("checkout", range(10, 40)))
    live = guard(world, stop_conditions=[STOP])
    assert live.allows("apply", 0, 40.0)
    world.timeline += [row(t, "checkout", failures=5) for t in range(40, 43)]
    live.tick(44.0)
    assert world.rollbacks == 1
    assert world.kinds() == ["baseline_checked", "stop_condition_fired", "faults_skipped"]
    assert world.events[2][1]["fault_indices"] == [1]
    assert live.faults_ended and not live.run_over
    assert not live.allows("remove", 0, 60.0)  # already rolled back
    assert not live.allows("apply", 1, 70.0)
    live.tick(45.0)
    assert world.rollbacks == 1


def test_an_end_run_stop_condition_ends_the_run() -> None:
    world = World(rows("checkout", range(10, 40)))
    live = guard(world, stop_conditions=[{**STOP, "action": "end_run"}])
    world.timeline += [row(t, "checkout", failures=5) for t in range(40, 43)]
    live.tick(44.0)
    assert live.run_over
    assert world.kinds()[-1] == "run_stopped_early"
    assert not live.allows("apply", 0, 40.0)


def test_without_stop_conditions_ticks_read_nothing() -> None:
    world = World()
    live = LiveGuard(experiment(), lambda: 1 / 0, world.record, world.rollback, world.said.append)  # type: ignore[arg-type,return-value]
    live.tick(50.0)
    assert world.events == []


@dataclass
class Forgetful:
    """A timeline that forgets, as load.live_timeline.LiveTimeline does."""

    rows: list[TimelineRow]
    calls: list[int] = field(default_factory=list)

    def read(self) -> list[TimelineRow]:
        return self.rows

    def forget_before(self, t_s: int) -> None:
        self.calls.append(t_s)
        self.rows = [r for r in self.rows if r.t_s >= t_s]


def forgetful_guard(world: World, timeline: Forgetful, **spec: Any) -> LiveGuard:
    return LiveGuard(
        experiment(faults=[LOGIN_FAULT, SECOND_FAULT], **spec),
        timeline.read,
        world.record,
        world.rollback,
        world.said.append,
        clock=lambda: 1000.0,
        forget_before=timeline.forget_before,
    )


def test_the_timeline_is_not_forgotten_before_the_steady_state_check() -> None:
    timeline = Forgetful(rows("login", range(0, 39)))
    live = forgetful_guard(World(), timeline, slos=BASELINE, stop_conditions=[STOP])
    live.tick(400.0)  # long before the first fault in real life: the baseline check needs it all
    assert timeline.calls == []
    assert live.allows("apply", 0, 400.0)
    live.tick(401.0)
    # kept: the longest `sustained` (3 s) + request_timeout (10 s) + 60 s of margin
    assert timeline.calls == [401 - 3 - 10 - 60]


def test_forgotten_seconds_are_not_read_as_seconds_without_requests() -> None:
    world = World()
    rps_floor = {**STOP, "metric": "rps", "when": "< 1", "sustained": "3s"}
    timeline = Forgetful(rows("checkout", range(10, 40)))
    live = forgetful_guard(world, timeline, stop_conditions=[rps_floor])
    assert live.allows("apply", 0, 40.0)
    timeline.rows += rows("checkout", range(40, 300))
    for now in range(100, 300, 50):  # forgets all but the last 73 s each time
        live.tick(float(now))
    assert timeline.calls and min(r.t_s for r in timeline.rows) > 100
    assert "stop_condition_fired" not in world.kinds()  # seconds 10..100 are not 0 req/s


def test_a_breach_inside_the_kept_window_still_fires_after_forgetting() -> None:
    world = World()
    timeline = Forgetful(rows("checkout", range(10, 40)))
    live = forgetful_guard(world, timeline, stop_conditions=[STOP])
    assert live.allows("apply", 0, 40.0)
    timeline.rows += rows("checkout", range(40, 200))
    live.tick(200.0)
    timeline.rows += [row(t, "checkout", failures=5) for t in range(200, 203)]
    live.tick(204.0)
    assert "stop_condition_fired" in world.kinds()
