"""Alert timing and server-side rows from synthetic prometheus.jsonl records, hand-computed."""

from __future__ import annotations

from typing import Any

import pytest

from peakday.experiment.models import Alerts, ExpectedAlert
from peakday.monitoring.records import alert_timings, server_rows
from peakday.results.model import AppliedFault, PhaseWindow

T0 = 1_000.0


def reading(t_s: float, **alerts: tuple[str, float]) -> dict[str, Any]:
    """A reading at load time t_s; alerts name -> (state, pending since, load time)."""
    return {
        "kind": "alerts",
        "wall": T0 + t_s,
        "alerts": [
            {"alert": name, "state": state, "active_at": T0 + since}
            for name, (state, since) in alerts.items()
        ],
    }


def fault(label: str, at: float, end: float, index: int = 0) -> AppliedFault:
    return AppliedFault(
        index=index,
        label=label,
        service="auth",
        planned_at_s=at,
        planned_end_s=end,
        applied_at_s=at,
        removed_at_s=end,
    )


PHASES = (
    PhaseWindow(name="warmup", kind="warmup", start_s=0, end_s=5),
    PhaseWindow(name="baseline", kind="baseline", start_s=5, end_s=20.5),
    PhaseWindow(name="fault:boom", kind="fault", start_s=20.5, end_s=30.5),
    PhaseWindow(name="recovery", kind="recovery", start_s=30.5, end_s=40),
)
EXPECT = Alerts(expect=(ExpectedAlert(fault="boom", alert="LoginErrorRate"),))

# The fault is applied at 20.5 s. Prometheus has LoginErrorRate pending since 22.0 s and shows it
# firing from the reading at 25.2 s; it is gone from the reading at 33.2 s on.
RECORDS = [
    reading(19.2),
    reading(21.2),
    reading(22.2, LoginErrorRate=("pending", 22.0)),
    reading(23.2, LoginErrorRate=("pending", 22.0)),
    reading(24.2, LoginErrorRate=("pending", 22.0)),
    reading(25.2, LoginErrorRate=("firing", 22.0)),
    reading(32.2, LoginErrorRate=("firing", 22.0)),
    reading(33.2),
    {"kind": "alerts", "wall": T0 + 34.2, "error": "ConnectionError: refused"},
]


def test_without_the_rule_s_for_the_firing_time_is_the_first_reading_that_showed_it() -> None:
    (timing,), readings = alert_timings(EXPECT, RECORDS, T0, [fault("boom", 20.5, 30.5)], PHASES)
    assert readings == 8  # the failed reading is not one
    assert timing.pending_at_s == 22.0
    assert timing.firing_at_s == 25.2
    assert timing.time_to_alert_s == pytest.approx(25.2 - 20.5)
    assert timing.cleared_at_s == 33.2
    assert timing.observed and timing.expected


def test_with_the_rule_s_for_the_firing_time_is_pending_plus_for() -> None:
    records = [{"kind": "rules", "for_s": {"LoginErrorRate": 2.0}}, *RECORDS]
    (timing,), _ = alert_timings(EXPECT, records, T0, [fault("boom", 20.5, 30.5)], PHASES)
    assert timing.firing_at_s == 24.0  # 22.0 + 2.0, seen firing at 25.2
    assert timing.time_to_alert_s == 3.5


def test_an_alert_that_never_fires_has_no_times() -> None:
    records = [reading(21.2), reading(22.2, LoginErrorRate=("pending", 22.0)), reading(30.0)]
    (timing,), _ = alert_timings(EXPECT, records, T0, [fault("boom", 20.5, 30.5)], PHASES)
    assert timing.pending_at_s == 22.0
    assert (timing.firing_at_s, timing.time_to_alert_s, timing.cleared_at_s) == (None, None, None)
    assert timing.observed and "never fired" in timing.detail


def test_an_alert_firing_during_the_baseline_is_a_false_positive() -> None:
    records = [
        reading(8.0, CheckoutErrors=("pending", 7.5)),
        reading(10.0, CheckoutErrors=("firing", 7.5)),
        reading(12.0),
        *RECORDS,
    ]
    timings, _ = alert_timings(EXPECT, records, T0, [fault("boom", 20.5, 30.5)], PHASES)
    (false,) = [t for t in timings if not t.expected]
    assert (false.fault, false.alert) == (None, "CheckoutErrors")
    assert (false.pending_at_s, false.firing_at_s, false.cleared_at_s) == (7.5, 10.0, 12.0)
    # the expected alert is not one: it fired in the fault window
    assert [t.alert for t in timings if t.expected] == ["LoginErrorRate"]


def test_no_readings_or_no_fault_is_unobserved_never_a_miss() -> None:
    (unread,), count = alert_timings(EXPECT, [], T0, [fault("boom", 20.5, 30.5)], PHASES)
    assert count == 0 and not unread.observed
    skipped = fault("boom", 20.5, 30.5).model_copy(
        update={"applied_at_s": None, "skipped": "the steady state did not hold"}
    )
    (never,), _ = alert_timings(EXPECT, RECORDS, T0, [skipped], PHASES)
    assert not never.observed and "steady state" in never.detail


def test_an_alert_is_looked_for_only_until_the_next_fault() -> None:
    expect = Alerts(expect=(ExpectedAlert(fault="first", alert="LoginErrorRate"),))
    faults = [fault("first", 10.0, 15.0), fault("second", 20.0, 30.0, index=1)]
    records = [reading(12.0), reading(21.0, LoginErrorRate=("firing", 20.5))]
    (timing,), _ = alert_timings(expect, records, T0, faults, PHASES)
    assert timing.firing_at_s is None


def test_server_rows_keep_one_value_per_second_and_series() -> None:
    records = [
        {"kind": "sample", "t_s": 0, "series": "prometheus:a", "value": None, "error": "x"},
        {"kind": "sample", "t_s": 0, "series": "prometheus:a", "value": 0.5},
        {"kind": "sample", "t_s": 1, "series": "prometheus:a", "value": float("nan")},
        {"kind": "sample", "t_s": 1, "series": "prometheus:b", "value": 2},
        {"kind": "alerts", "wall": 1.0, "alerts": []},
    ]
    rows = server_rows(records)
    assert [(r.t_s, r.name, r.value, r.requests) for r in rows] == [
        (0, "prometheus:a", 0.5, 0),
        (1, "prometheus:a", None, 0),
        (1, "prometheus:b", 2.0, 0),
    ]
