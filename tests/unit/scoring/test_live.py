"""Stop conditions and the steady-state check, judged on the timeline so far."""

from __future__ import annotations

from typing import Any

import pytest

from peakday.experiment.models import StopCondition
from peakday.results.model import TimelineRow
from peakday.scoring.live import StopConditionMonitor, check_baseline
from unit.scoring.synthetic import experiment, row, rows, slo


def condition(**extra: Any) -> StopCondition:
    data = {
        "name": "checkout-collapse",
        "request": "checkout",
        "metric": "success_rate",
        "when": "< 90%",
        "sustained": "5s",
        **extra,
    }
    return StopCondition.model_validate(data)


def failing(seconds: range, failures: int = 5) -> list[TimelineRow]:
    return [row(t, "checkout", failures=failures) for t in seconds]


def test_a_breach_sustained_long_enough_fires_once_with_its_window() -> None:
    monitor = StopConditionMonitor([condition()], warmup_s=10)
    timeline = [*rows("checkout", range(10, 40)), *failing(range(40, 44))]
    assert monitor.observe(timeline, now_s=46.0).fired == ()
    timeline += failing(range(44, 46))
    decision = monitor.observe(timeline, now_s=47.5)
    (record,) = decision.fired
    assert (record.breach_from_s, record.breach_to_s, record.fired_at_s) == (40.0, 45.0, 47.5)
    assert record.value == pytest.approx(0.5)
    assert record.condition == "checkout success_rate < 90% for 5s"
    assert decision.action == "end_faults"
    assert monitor.observe(timeline, now_s=48.5).fired == ()  # once only


def test_a_healthy_second_resets_the_breach() -> None:
    monitor = StopConditionMonitor([condition()], warmup_s=10)
    timeline = [*failing(range(40, 44)), row(44, "checkout"), *failing(range(45, 49))]
    assert monitor.observe(timeline, now_s=50).fired == ()


def test_seconds_without_requests_neither_extend_nor_break_a_breach() -> None:
    monitor = StopConditionMonitor([condition()], warmup_s=10)
    timeline = [*failing(range(40, 43)), *failing(range(45, 47)), *rows("login", range(40, 50))]
    (record,) = monitor.observe(timeline, now_s=50).fired
    assert (record.breach_from_s, record.breach_to_s) == (40.0, 46.0)  # 40-42, gap, 45


def test_for_rps_an_empty_second_is_zero_requests() -> None:
    rps = condition(
        name="no-checkouts", metric="rps", when="< 1 rps", sustained="3s", action="end_run"
    )
    monitor = StopConditionMonitor([rps], warmup_s=10)
    timeline = [*rows("checkout", range(10, 40)), *rows("login", range(10, 45))]
    decision = monitor.observe(timeline, now_s=46)
    assert [r.breach_from_s for r in decision.fired] == [40.0]
    assert decision.action == "end_run"


def test_the_warmup_is_not_watched() -> None:
    monitor = StopConditionMonitor([condition()], warmup_s=10)
    assert monitor.observe(failing(range(0, 10)), now_s=11).fired == ()


BASELINE_SLOS = [
    slo("login-fast", "login", "p95", "< 100ms", phase="baseline"),
    slo("login-busy", "login", "rps", ">= 10 rps", phase="baseline"),
    slo("later", "login", "p95", "< 1ms", phase="fault"),
]


def test_the_steady_state_holds_on_what_was_measured_so_far() -> None:
    spec = experiment(slos=BASELINE_SLOS)
    # Load time 40.3 s, but the generator has only written seconds up to 37: the window ends at
    # 38, so the missing seconds do not dilute the rps.
    check = check_baseline(spec, rows("login", range(5, 38)), at_s=40.3)
    assert check.met and not check.continued
    assert [r.name for r in check.slos] == ["login-fast", "login-busy"]
    assert check.slos[1].value == pytest.approx(10.0)


def test_a_failing_baseline_slo_means_the_steady_state_does_not_hold() -> None:
    spec = experiment(slos=BASELINE_SLOS)
    check = check_baseline(spec, rows("login", range(10, 38), ms=150), at_s=40)
    assert not check.met
    assert check.detail == "failed: login-fast"


def test_no_data_is_not_a_steady_state() -> None:
    check = check_baseline(experiment(slos=BASELINE_SLOS), [], at_s=40)
    assert not check.met
    assert "no data: login-fast, login-busy" in check.detail


def test_the_spec_may_continue_without_a_steady_state() -> None:
    spec = experiment(slos=BASELINE_SLOS, scoring={"continue_if_baseline_not_met": True})
    check = check_baseline(spec, [], at_s=40)
    assert (check.met, check.continued) == (False, True)


def test_without_baseline_slos_the_steady_state_trivially_holds() -> None:
    check = check_baseline(experiment(), [], at_s=40)
    assert check.met and check.detail == "no baseline SLOs to judge"
