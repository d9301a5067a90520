"""The baseline ends before the seconds whose requests were still running when the fault began."""

from __future__ import annotations

from peakday.results.model import TimelineRow
from peakday.scoring.phases import compute_phases, in_flight_cutoff, windows_for
from peakday.scoring.slo import measure
from unit.scoring.synthetic import fault, row, rows


def steady(until: int, ms: float = 20.0) -> list[TimelineRow]:
    return rows("login", range(0, until), ms=ms)


def test_fast_requests_leave_the_baseline_ending_at_the_fault() -> None:
    # Second 14's slowest request ends by 15.02 s at the latest, before the fault at 15.11 s.
    assert in_flight_cutoff(steady(30), 5.0, 15.11) == 15.11


def test_requests_the_fault_reached_in_flight_end_the_baseline_a_second_early() -> None:
    timeline = [r for r in steady(30) if r.t_s != 14] + [row(14, "login", n=10, ms=4000.0)]
    assert in_flight_cutoff(timeline, 5.0, 15.11) == 14.0


def test_a_second_straddling_the_fault_onset_is_cut_by_its_slowest_request() -> None:
    # Fault at 15.6 s: second 15 (middle 15.5) is a baseline second by its middle, but a 0.4 s
    # request started late in it ends after 15.6 s; second 14's end by 15.4 s.
    assert in_flight_cutoff(steady(30, ms=400.0), 5.0, 15.6) == 15.0


def test_only_the_run_of_seconds_right_before_the_fault_is_cut() -> None:
    timeline = [r for r in steady(30) if r.t_s not in (8, 13, 14)]
    timeline += [row(8, "login", ms=9000.0), row(13, "login", ms=3000.0)]
    timeline += [row(14, "login", ms=3000.0)]
    # 13 and 14 ran into the fault; 12 did not, so the walk stops there and 8 stays in.
    assert in_flight_cutoff(timeline, 5.0, 15.11) == 13.0


def test_slow_steps_count_and_server_series_rows_do_not() -> None:
    series = TimelineRow(
        t_s=14,
        name="prometheus:x",
        requests=0,
        failures=0,
        p50_ms=None,
        p95_ms=None,
        p99_ms=None,
        value=1.0,
    )
    assert in_flight_cutoff([*steady(30), series], 5.0, 15.11) == 15.11
    labels = row(14, "labels", n=1, ms=2500.0)
    assert in_flight_cutoff([*steady(30), labels], 5.0, 15.11) == 14.0


def test_a_baseline_every_second_of_which_ran_into_the_fault_is_no_baseline() -> None:
    phases = compute_phases(5.0, 30.0, [fault(8.0, 20.0)], steady(30, ms=5000.0))
    assert "baseline" not in [p.name for p in phases]


def test_a_run_without_faults_keeps_its_whole_baseline() -> None:
    phases = compute_phases(5.0, 30.0, [], steady(30, ms=5000.0))
    baseline = next(p for p in phases if p.kind == "baseline")
    assert (baseline.start_s, baseline.end_s, baseline.note) == (5.0, 30.0, "")


def test_failures_of_requests_hung_by_the_fault_are_not_baseline_failures() -> None:
    # A hang at 15.11 s: the logins started in second 14 time out after 4 s, inside the fault.
    timeline = [r for r in steady(30) if r.t_s != 14]
    timeline.append(row(14, "login", n=10, ms=4000.0, failures=3))
    phases = compute_phases(5.0, 30.0, [fault(15.11, 25.0)], timeline)
    baseline = windows_for("baseline", phases)
    assert [(w.start_s, w.end_s) for w in baseline] == [(5.0, 14.0)]
    assert "still running" in baseline[0].note
    assert measure("success_rate", "login", timeline, baseline) == (1.0, "")
    assert measure("rps", "login", timeline, baseline) == (10.0, "")
    # The failures are not lost: 'all' still holds them.
    rate, _ = measure("success_rate", "login", timeline, windows_for("all", phases))
    assert rate is not None and rate < 1.0
