"""A fault that reached no traffic is never scored: the run is inconclusive (exit 4), through
the one outcome rule, whichever command judges it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from peakday.faults.traffic import traffic_from_records
from peakday.results.model import AppliedFault, Result, TimelineRow, Verdict
from peakday.results.traffic import FaultReach, Traffic
from peakday.scoring.evaluate import Scored, judge, rescore, score_timeline
from peakday.scoring.reach import fault_reach
from unit.scoring.synthetic import LOGIN_FAULT, experiment, phases, rows, slo, traffic_records

T0 = 5_000.0
LOAD_S = 100.0


def traffic(rates: Mapping[str, float], seconds: range = range(-1, 101)) -> Traffic:
    return traffic_from_records(traffic_records(T0, seconds, rates), sorted(rates), T0, LOAD_S)


def proxy_fault(toxic: str = "latency", at: float = 40.0, end: float = 60.0) -> AppliedFault:
    return AppliedFault(
        index=0, label="f", proxy="auth_login", toxic=toxic, planned_at_s=at, planned_end_s=end,
        applied_at_s=at, removed_at_s=end,
    )  # fmt: skip


def service_fault(service: str, action: str = "kill") -> AppliedFault:
    return AppliedFault(
        index=0, label=f"{action}@{service}", service=service, action=action, planned_at_s=40,
        planned_end_s=60, applied_at_s=40.0, removed_at_s=60.0,
    )  # fmt: skip


TIMELINE = tuple(rows("login", range(0, 100)))


def reach_of(
    fault: AppliedFault, measured: Traffic | None, timeline: tuple[TimelineRow, ...] = TIMELINE
) -> FaultReach:
    [reach] = fault_reach([fault], timeline, measured, LOAD_S)
    return reach


def test_a_proxy_that_carried_traffic_is_reached() -> None:
    reach = reach_of(proxy_fault(), traffic({"auth_login": 100.0}))
    assert reach.reach == "yes"
    assert (reach.before, reach.during) == pytest.approx((2 * 100 * 40, 2 * 100 * 20))


def test_a_proxy_that_carried_nothing_before_or_during_is_not_reached() -> None:
    reach = reach_of(proxy_fault(), traffic({"auth_login": 0.0, "auth_introspect": 900.0}))
    assert reach.reach == "no"
    assert reach.detail.startswith("Fault 'f' reached no traffic: proxy auth_login received 0")


def test_traffic_only_during_the_fault_is_enough() -> None:
    only_during = traffic_records(T0, range(-1, 41), {"auth_login": 0.0})
    only_during += traffic_records(T0, range(41, 101), {"auth_login": 50.0})
    for record in only_during[42:]:  # counters that start growing at t = 41
        for counters in record["proxies"].values():
            for key in counters:
                counters[key] -= 50.0 * 41
    measured = traffic_from_records(only_during, ["auth_login"], T0, LOAD_S)
    assert reach_of(proxy_fault(), measured).reach == "yes"


def test_a_down_proxy_is_judged_by_the_time_before_it_only() -> None:
    idle = traffic({"auth_login": 0.0})
    assert reach_of(proxy_fault("down"), idle).reach == "no"
    busy = reach_of(proxy_fault("down"), traffic({"auth_login": 100.0}))
    assert (busy.reach, busy.during) == ("yes", None)
    assert "judged by the time before it" in busy.detail


def held(connections_from_s: int) -> Traffic:
    """No byte counted (Toxiproxy counts them at close), one connection open from a second on."""
    records = traffic_records(T0, range(-1, 101), {"auth_login": 0.0})
    for record in records:
        t_s = record["wall"] - T0
        record["proxies"]["auth_login"]["connections"] = 1 if t_s >= connections_from_s else 0
    return traffic_from_records(records, ["auth_login"], T0, LOAD_S)


def test_a_connection_held_open_without_bytes_yet_is_traffic() -> None:
    reach = reach_of(proxy_fault(), held(0))
    assert (reach.reach, reach.before, reach.connections_before) == ("yes", 0.0, 1)
    assert "at most 1 connection(s) open before it and 1 during it" in reach.detail
    assert reach_of(proxy_fault(), held(45)).reach == "yes"  # opened during the fault
    assert reach_of(proxy_fault(), held(70)).reach == "no"  # only after it
    assert reach_of(proxy_fault("down"), held(45)).reach == "no"  # down: before only
    assert reach_of(proxy_fault("down"), held(0)).reach == "yes"


def test_traffic_not_measured_is_not_a_reach_but_not_measured() -> None:
    unmeasured = Traffic(measured=False, detail="Toxiproxy answered 404 at '/metrics'.")
    reach = reach_of(proxy_fault(), unmeasured)
    assert reach.reach == "not-measured"
    assert "404" in reach.detail
    # a proxy the sampler did not know about is just as unknown
    assert reach_of(proxy_fault(), traffic({"auth_introspect": 10.0})).reach == "not-measured"


@pytest.mark.parametrize(
    ("service", "step", "reached"),
    [
        pytest.param("checkout", "pos_checkout", "yes", id="checkout-answers-pos"),
        pytest.param("labels", "label", "yes", id="labels-answers-label"),
        pytest.param("labels", "checkout", "no", id="labels-sent-nothing"),
        pytest.param("auth", "checkout", "no", id="auth-without-logins-or-proxy-bytes"),
    ],
)
def test_a_service_fault_reaches_traffic_when_its_steps_sent_it_requests(
    service: str, step: str, reached: str
) -> None:
    timeline = tuple(rows(step, range(0, 100)))
    idle = traffic({"auth_login": 0.0, "auth_introspect": 0.0})
    assert reach_of(service_fault(service), idle, timeline).reach == reached


def test_bytes_through_a_proxy_in_front_of_a_service_count_for_it() -> None:
    no_steps = tuple(rows("checkout", range(0, 100)))
    introspection = traffic({"auth_login": 0.0, "auth_introspect": 300.0})
    assert reach_of(service_fault("auth", "pause"), introspection, no_steps).reach == "yes"


@pytest.mark.parametrize(
    ("rate", "reached"),
    [pytest.param(300.0, "yes", id="carried"), pytest.param(0.0, "no", id="idle")],
)
def test_a_service_outside_the_topology_is_judged_by_the_proxy_named_after_it(
    rate: float, reached: str
) -> None:
    """The compose platform names each proxy after the service it intercepts."""
    timeline = tuple(rows("call", range(0, 100)))
    assert reach_of(service_fault("dep"), traffic({"dep": rate}), timeline).reach == reached
    unknown = reach_of(service_fault("web"), traffic({"dep": rate}), timeline)
    assert unknown.reach == "not-measured"


def test_a_fault_never_applied_is_not_judged_and_old_results_are_not_judged_at_all() -> None:
    skipped = proxy_fault().model_copy(update={"applied_at_s": None, "removed_at_s": None})
    assert reach_of(skipped, traffic({"auth_login": 0.0})).reach == "not-judged"
    assert fault_reach([proxy_fault()], TIMELINE, None, LOAD_S) == ()


@pytest.mark.parametrize(
    ("reach", "expected"),
    [
        pytest.param("yes", ("pass", "pass"), id="reached-unchanged"),
        pytest.param("not-judged", ("fail", "fail"), id="skipped-unchanged"),
        pytest.param("no", ("inconclusive", "inconclusive"), id="no-traffic"),
        pytest.param("not-measured", ("inconclusive", "inconclusive"), id="not-measured"),
    ],
)
def test_judge_makes_a_fault_without_traffic_inconclusive(
    reach: str, expected: tuple[str, str]
) -> None:
    judged = reach_of(proxy_fault(), traffic({"auth_login": 1.0})).model_copy(
        update={"reach": reach}
    )
    verdict: Verdict = "fail" if reach == "not-judged" else "pass"
    assert judge("completed", verdict, None, (), None, (judged,)) == expected


def test_judge_keeps_the_earlier_outcomes_first() -> None:
    unreached = reach_of(proxy_fault(), traffic({"auth_login": 0.0}))
    assert judge("interrupted", "pass", None, (), None, (unreached,)) == ("pass", "interrupted")


SPEC = experiment(faults=[LOGIN_FAULT], slos=[slo("login-fast", "login", "p95", "< 800ms")])


def scored(measured: Traffic | None) -> Scored:
    fault = proxy_fault()
    return score_timeline(
        SPEC, "completed", TIMELINE, phases(10, LOAD_S, fault), LOAD_S, faults=(fault,),
        traffic=measured,
    )  # fmt: skip


def test_score_timeline_puts_the_reason_on_the_score_card() -> None:
    reached = scored(traffic({"auth_login": 100.0}))
    assert (reached.verdict, reached.outcome) == ("pass", "pass")
    unreached = scored(traffic({"auth_login": 0.0}))
    assert (unreached.verdict, unreached.outcome) == ("inconclusive", "inconclusive")
    assert unreached.score.reason.startswith("Fault 'f' reached no traffic")
    assert "Without that fault: Score 100" in unreached.score.reason


def result_with(measured: Traffic | None, schema_version: int = 3) -> Result:
    fault = proxy_fault()
    data = {
        "schema_version": schema_version,
        "experiment": SPEC.model_dump(mode="json"),
        "run": {"id": "r", "platform": "local", "started_at": "now", "peakday_version": "0",
                "load_ended_s": LOAD_S},
        "phases": [p.model_dump() for p in phases(10, LOAD_S, fault)],
        "faults": [fault.model_dump()],
        "timeline": [dataclasses.asdict(r) for r in TIMELINE],
        "slos": [],
        "verdict": "pass",
        "traffic": measured.model_dump() if measured is not None else None,
    }  # fmt: skip
    return Result.model_validate(data)


def test_rescoring_judges_reach_and_an_older_result_keeps_its_verdict() -> None:
    assert rescore(result_with(traffic({"auth_login": 0.0}))).outcome == "inconclusive"
    assert rescore(result_with(traffic({"auth_login": 9.0}))).outcome == "pass"
    older = result_with(None, schema_version=2)
    assert older.traffic is None
    again = rescore(older)
    assert (again.outcome, again.fault_reach) == ("pass", ())


def test_a_schema_2_result_never_gets_traffic_judged_even_if_a_field_slipped_in() -> None:
    assert result_with(traffic({"auth_login": 0.0}), schema_version=2).traffic is None
