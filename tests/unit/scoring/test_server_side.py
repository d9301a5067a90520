"""Server-side series and alert checks judged like SLOs, on synthetic timelines."""

from __future__ import annotations

from typing import Any

from peakday.results.model import AlertTiming, TimelineRow
from peakday.scoring.alert_checks import alert_slos
from peakday.scoring.evaluate import score_timeline

from .synthetic import LOGIN_FAULT, experiment, fault, phases

QUERY_SLO: dict[str, Any] = {
    "name": "login-errors",
    "source": "prometheus",
    "query": "sum(rate(x[5s]))",
    "objective": "< 5%",
}


def server_row(t: int, value: float | None, name: str = "prometheus:login-errors") -> TimelineRow:
    return TimelineRow(
        t_s=t, name=name, requests=0, failures=0, p50_ms=None, p95_ms=None, p99_ms=None, value=value
    )


# Load 0-100 s, warmup 10 s, fault 40-60 s: 0.01 at baseline; in the fault 0.10 for ten seconds
# and 0.30 for ten (mean 0.20, max 0.30); back to 0.01 afterwards.
SERIES = [server_row(t, 0.01) for t in range(10, 40)]
SERIES += [server_row(t, 0.10 if t < 50 else 0.30) for t in range(40, 60)]
SERIES += [server_row(t, 0.01) for t in range(60, 100)]


def judged(slos: list[dict[str, Any]], server: list[TimelineRow]) -> dict[str, Any]:
    spec = experiment(slos, [LOGIN_FAULT], monitoring="prometheus")
    scored = score_timeline(
        spec, "completed", [], phases(10, 100, fault(40, 60)), 100.0, server_timeline=server
    )
    return {s.name: s for s in scored.slos}


def test_a_query_is_judged_per_phase_by_its_mean_or_max() -> None:
    slos = judged(
        [
            {**QUERY_SLO, "name": "base", "phase": "baseline"},
            {**QUERY_SLO, "name": "login-errors", "phase": "fault"},
            {**QUERY_SLO, "name": "worst", "phase": "fault", "aggregate": "max"},
        ],
        SERIES
        + [server_row(t, v, "prometheus:base") for t, v in [(20, 0.01), (30, 0.03)]]
        + [server_row(t, 0.10 if t < 50 else 0.30, "prometheus:worst") for t in range(40, 60)],
    )
    assert slos["base"].verdict == "pass" and abs(slos["base"].value - 0.02) < 1e-9
    assert slos["login-errors"].verdict == "fail"
    assert abs(slos["login-errors"].value - 0.20) < 1e-9
    assert slos["worst"].value == 0.30
    assert slos["login-errors"].threshold == 0.05


def test_no_value_from_prometheus_is_inconclusive_never_a_pass() -> None:
    slos = judged([{**QUERY_SLO, "phase": "fault"}], [server_row(t, None) for t in range(100)])
    assert slos["login-errors"].verdict == "inconclusive"
    assert "no value" in slos["login-errors"].detail
    gaps = [r for r in SERIES if not 40 <= r.t_s < 60]  # values, but none in the fault
    slos = judged([{**QUERY_SLO, "phase": "fault"}], gaps)
    assert slos["login-errors"].verdict == "inconclusive"


def timing(**extra: Any) -> AlertTiming:
    return AlertTiming(**{"fault": "f", "alert": "LoginErrorRate", **extra})


ALERTS = {"expect": [{"fault": "f", "alert": "LoginErrorRate", "weight": 2}]}


def test_an_expected_alert_passes_when_it_fired_and_fails_when_it_never_did() -> None:
    spec = experiment([], [LOGIN_FAULT], monitoring="prometheus", alerts=ALERTS)
    fired = timing(pending_at_s=42, firing_at_s=44, time_to_alert_s=4, cleared_at_s=63)
    check, baseline = alert_slos(spec, [fired], readings=90)
    assert (check.verdict, check.value, check.weight, check.kind) == ("pass", 4, 2, "alert")
    assert baseline.verdict == "pass" and baseline.value == 0
    (check, _) = alert_slos(spec, [timing(detail="never fired during or after the fault")], 90)
    assert check.verdict == "fail"
    (check, baseline) = alert_slos(spec, [timing(observed=False)], readings=0)
    assert check.verdict == "inconclusive" and baseline.verdict == "inconclusive"


def test_an_alert_at_baseline_fails_the_false_positive_check_and_lowers_the_score() -> None:
    spec = experiment([], [LOGIN_FAULT], monitoring="prometheus", alerts=ALERTS)
    fired = timing(pending_at_s=42, firing_at_s=44, time_to_alert_s=4)
    false = AlertTiming(fault=None, alert="CheckoutErrors", expected=False, firing_at_s=20)
    _, baseline = alert_slos(spec, [fired, false], readings=90)
    assert baseline.verdict == "fail" and baseline.value == 1
    assert "CheckoutErrors at 20s" in baseline.detail
    window = phases(10, 100, fault(40, 60))
    clean = score_timeline(spec, "completed", [], window, 100.0, alerts=[fired], alert_readings=90)
    noisy = score_timeline(
        spec, "completed", [], window, 100.0, alerts=[fired, false], alert_readings=90
    )
    assert clean.verdict == "pass" and noisy.verdict != "pass"
    assert noisy.score.total is not None and clean.score.total is not None
    assert noisy.score.total < clean.score.total


def test_a_server_side_stop_condition_fires_on_the_query_s_values() -> None:
    from peakday.experiment.models import StopCondition
    from peakday.scoring.live import sustained_breach

    condition = StopCondition.model_validate(
        {"name": "s", "source": "prometheus", "query": "q", "when": ">= 0.2", "sustained": "3s"}
    )
    # 0.1 until 49 s, 0.3 from 50 s; a second without a value (52) does not break the run
    values = [server_row(t, 0.10 if t < 50 else 0.30, "prometheus:s") for t in range(40, 60)]
    values[12] = server_row(52, None, "prometheus:s")
    # 50, 51 breached, 52 unknown, 53 breached: 50..53 spans 4 s >= 3 s, found at 53
    assert sustained_breach(condition, values, 40, 59) == (50, 54, 0.30)
    assert sustained_breach(condition, values[:12], 40, 51) is None


def matrix_of(slos: list[dict[str, Any]], server: list[TimelineRow]) -> Any:
    spec = experiment(slos, [LOGIN_FAULT], monitoring="prometheus")
    return score_timeline(
        spec, "completed", [], phases(10, 100, fault(40, 60)), 100.0, server_timeline=server
    )


def test_a_server_side_series_is_a_matrix_column_broken_in_the_fault_and_timed() -> None:
    calm = [server_row(t, 0.01, "prometheus:calm") for t in range(10, 100)]
    scored = matrix_of(
        [{**QUERY_SLO, "phase": "fault"}, {**QUERY_SLO, "name": "calm", "phase": "all"}],
        SERIES + calm,
    )
    grid = scored.matrix
    assert grid is not None
    assert grid.steps[-2:] == ("prometheus:login-errors", "prometheus:calm")
    cell = grid.cell("f", "prometheus:login-errors")
    assert cell is not None and cell.status == "broken"
    assert "'login-errors' fails over the fault window" in cell.detail
    assert cell.summary == "broken: mean 0.2 (baseline 0.01)"
    # first breached second 40 (known at 41); ok again from 60, held 5 s: back at 61
    assert (cell.time_to_detect_s, cell.time_to_recover_s, cell.recovery) == (
        1.0,
        1.0,
        "recovered",
    )
    calm_cell = grid.cell("f", "prometheus:calm")
    assert calm_cell is not None and calm_cell.status == "pass"
    assert calm_cell.time_to_detect_s is None
    # the fault's blast radius stays the load generator's view
    (impact,) = scored.fault_impacts
    assert not any(step.startswith("prometheus:") for step in impact.blast_radius)


def test_a_series_without_values_in_the_fault_is_no_data_in_the_matrix() -> None:
    before = [r for r in SERIES if r.t_s < 40]
    grid = matrix_of([{**QUERY_SLO, "phase": "baseline"}], before).matrix
    assert grid is not None
    cell = grid.cell("f", "prometheus:login-errors")
    assert cell is not None and cell.status == "no-data"
    assert cell.summary == "no-data: mean no value (baseline 0.01)"


def test_a_series_warning_only_is_degraded_in_the_matrix() -> None:
    grid = matrix_of([{**QUERY_SLO, "objective": "< 5%", "warning": "< 50%"}], SERIES).matrix
    assert grid is not None
    cell = grid.cell("f", "prometheus:login-errors")
    assert cell is not None and cell.status == "degraded"
    assert "only meets its warning" in cell.detail
