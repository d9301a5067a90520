"""The steady-state check waits, a bounded time, for Prometheus to read the baseline's last
second: the pure rule, then LiveGuard waiting on a poller that writes its rows late."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from peakday.results.events import Event
from peakday.results.model import TimelineRow
from peakday.scoring.guard import LiveGuard
from peakday.scoring.server_wait import (
    baseline_server_series,
    last_second_before,
    uncovered_series,
    wait_state,
)
from unit.scoring.synthetic import LOGIN_FAULT, experiment, rows, slo

SERIES = "prometheus:server-errors"
SERVER_BASELINE = {
    "name": "server-errors",
    "source": "prometheus",
    "query": "sum(rate(errors[3s]))",
    "objective": "< 5%",
    "phase": "baseline",
}


def server_row(t: int, value: float | None = 0.0, name: str = SERIES) -> TimelineRow:
    return TimelineRow(
        t_s=t, name=name, requests=0, failures=0, p50_ms=None, p95_ms=None, p99_ms=None, value=value
    )


@pytest.mark.parametrize(
    ("end_s", "last"), [(40.0, 39), (40.02, 39), (40.49, 39), (40.5, 39), (40.51, 40)]
)
def test_the_last_second_is_the_last_whose_middle_is_before_the_end(
    end_s: float, last: int
) -> None:
    assert last_second_before(end_s) == last


def test_only_server_side_baseline_slos_are_waited_for() -> None:
    spec = experiment(
        slos=[
            SERVER_BASELINE,
            {**SERVER_BASELINE, "name": "in-the-fault", "phase": "fault"},
            slo("login-fast", "login", "p95", "< 100ms", phase="baseline"),
        ]
    )
    assert baseline_server_series(spec) == (SERIES,)


@pytest.mark.parametrize(
    ("written", "uncovered"),
    [
        pytest.param(range(10, 40), (), id="covers-to-the-last-second"),
        pytest.param(range(10, 45), (), id="covers-beyond"),
        pytest.param(range(10, 39), (SERIES,), id="one-second-short"),
        pytest.param(range(0), (SERIES,), id="nothing-written"),
    ],
)
def test_a_series_covers_the_baseline_once_its_last_second_is_written(
    written: range, uncovered: tuple[str, ...]
) -> None:
    assert uncovered_series((SERIES,), [server_row(t) for t in written], 10.0, 40.0) == uncovered


def test_a_row_without_a_value_still_covers_its_second() -> None:
    # read, and Prometheus had nothing: genuinely no data, not a reason to wait
    assert uncovered_series((SERIES,), [server_row(39, None)], 10.0, 40.0) == ()


def test_each_series_must_cover_the_baseline_and_other_steps_do_not_count() -> None:
    written = [server_row(39), server_row(39, name="login"), server_row(20, name="prometheus:b")]
    assert uncovered_series((SERIES, "prometheus:b"), written, 10.0, 40.0) == ("prometheus:b",)
    assert uncovered_series(("prometheus:b",), [server_row(39, name="login")], 10, 40) == (
        "prometheus:b",
    )


def test_a_baseline_without_a_whole_second_needs_nothing() -> None:
    assert uncovered_series((SERIES,), [], 10.0, 10.4) == ()


@pytest.mark.parametrize(
    ("uncovered", "waited_s", "state"),
    [
        pytest.param((), 0.0, "covered", id="covered-at-once"),
        pytest.param((), 5.9, "covered", id="covered-after-a-wait"),
        pytest.param((SERIES,), 0.0, "waiting", id="not-yet"),
        pytest.param((SERIES,), 5.99, "waiting", id="just-inside-the-bound"),
        pytest.param((SERIES,), 6.0, "bound_reached", id="bound-reached"),
        pytest.param((SERIES,), 9.0, "bound_reached", id="past-the-bound"),
    ],
)
def test_the_waiting_rule(uncovered: tuple[str, ...], waited_s: float, state: str) -> None:
    assert wait_state(uncovered, waited_s, bound_s=6.0) == state


@dataclass
class Poller:
    """Prometheus rows written `lag_s` after each second ends, as the sampler writes them."""

    lag_s: float
    now_s: float = 0.0
    client: list[TimelineRow] = field(default_factory=lambda: rows("login", range(10, 60)))
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def read_rows(self) -> list[TimelineRow]:
        written = [server_row(t) for t in range(10, 60) if t + 1 + self.lag_s <= self.now_s]
        return [*self.client, *written]

    def record(self, event: Event) -> None:
        self.events.append((event.kind, event.model_dump(mode="json")))

    def check(self) -> dict[str, Any]:
        (check,) = [e["check"] for kind, e in self.events if kind == "baseline_checked"]
        return check


def guard(poller: Poller, bound_s: float = 6.0) -> LiveGuard:
    return LiveGuard(
        experiment(faults=[LOGIN_FAULT], slos=[SERVER_BASELINE]),
        poller.read_rows,
        poller.record,
        lambda: None,
        poller.said.append,
        clock=lambda: 1000.0,
        server_wait_s=bound_s,
    )


def wait(live: LiveGuard, poller: Poller, at_s: float, step_s: float = 0.25) -> float:
    """Drive the guard as the orchestrator does: look again every `step_s` until it is done."""
    poller.now_s = at_s
    while live.baseline_pending(poller.now_s):
        poller.now_s += step_s
    return poller.now_s - at_s


def test_the_check_waits_for_the_poller_then_judges_the_baseline_as_it_ended() -> None:
    poller = Poller(lag_s=2.0)
    live = guard(poller)
    waited_s = wait(live, poller, 40.0)
    assert waited_s == 2.0  # second 39 is written at 39 + 1 + 2
    assert live.allows("apply", 0, poller.now_s)
    check = poller.check()
    assert check["met"] is True and check["at_s"] == 40.0  # the baseline ended at the fault's time
    assert check["waited_s"] == 2.0
    assert "waited 2.0 s for Prometheus" in check["detail"]
    assert poller.said[0].startswith("waiting up to 6 s for Prometheus to cover the baseline")
    assert "Prometheus covers the baseline after 2.0 s" in poller.said


def test_no_wait_when_the_poller_is_already_there() -> None:
    poller = Poller(lag_s=0.0)
    live = guard(poller)
    assert wait(live, poller, 40.0) == 0.0
    assert live.allows("apply", 0, 40.0)
    assert poller.check()["waited_s"] == 0.0 and poller.said == [
        "steady state holds (1 baseline SLOs); injecting faults"
    ]


def test_past_the_bound_the_missing_series_is_no_data_and_no_fault_goes_in() -> None:
    poller = Poller(lag_s=1000.0)  # Prometheus never answers in time
    live = guard(poller)
    assert wait(live, poller, 40.0) == 6.0
    assert not live.allows("apply", 0, poller.now_s)
    check = poller.check()
    assert check["met"] is False and check["waited_s"] == 6.0
    assert f"no data: {SERIES.removeprefix('prometheus:')}" in check["detail"]
    assert f"Prometheus had not read second 39 of {SERIES} after 6.0 s" in check["detail"]
    assert live.run_over
    assert any("did not cover the baseline within 6 s" in line for line in poller.said)


def test_without_a_poller_bound_the_check_never_waits() -> None:
    poller = Poller(lag_s=1000.0, now_s=40.0)
    live = guard(poller, bound_s=0.0)
    assert not live.baseline_pending(40.0)
    assert not live.allows("apply", 0, 40.0)  # judged at once on what there was: no data
    assert poller.check()["waited_s"] == 0.0
    assert poller.said == [
        "steady state does not hold (no data: server-errors): no fault is injected; stopping"
    ]
