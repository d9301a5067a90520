from __future__ import annotations

from peakday.results.model import AppliedFault, PhaseWindow
from peakday.scoring.phases import compute_phases, in_windows, seconds_covered, windows_for


def applied(
    at: float, end: float, applied_at: float | None = None, removed_at: float | None = None
) -> AppliedFault:
    return AppliedFault(
        index=0,
        label="f",
        proxy="auth_login",
        toxic="latency",
        planned_at_s=at,
        planned_end_s=end,
        applied_at_s=applied_at,
        removed_at_s=removed_at,
    )


def test_phases_follow_the_measured_fault_window() -> None:
    phases = compute_phases(4.0, 30.0, [applied(12, 20, 12.03, 20.01)])
    assert [(p.name, p.start_s, p.end_s) for p in phases] == [
        ("warmup", 0.0, 4.0),
        ("baseline", 4.0, 12.03),
        ("fault:f", 12.03, 20.01),
        ("recovery", 20.01, 30.0),
        ("all", 4.0, 30.0),
    ]


def test_no_faults_means_baseline_all_run_and_no_recovery() -> None:
    phases = compute_phases(0.0, 10.0, [])
    assert [p.name for p in phases] == ["baseline", "all"]


def test_fault_never_removed_lasts_until_load_end() -> None:
    phases = compute_phases(0.0, 15.0, [applied(5, 10, 5.0, None)])
    fault = next(p for p in phases if p.kind == "fault")
    assert (fault.start_s, fault.end_s) == (5.0, 15.0)
    assert "recovery" not in [p.name for p in phases]


def test_a_second_belongs_to_the_window_holding_its_middle() -> None:
    window = [PhaseWindow(name="f", kind="fault", start_s=12.03, end_s=20.01)]
    assert not in_windows(11, window)
    assert in_windows(12, window)
    assert in_windows(19, window)
    assert not in_windows(20, window)


def test_fault_phase_is_the_union_of_fault_windows() -> None:
    phases = (
        PhaseWindow(name="fault:a", kind="fault", start_s=10, end_s=20),
        PhaseWindow(name="fault:b", kind="fault", start_s=15, end_s=25),
        PhaseWindow(name="recovery", kind="recovery", start_s=25, end_s=30),
    )
    windows = windows_for("fault", phases)
    assert len(windows) == 2
    assert seconds_covered(windows) == 15


def test_a_skipped_fault_has_no_window_and_no_recovery() -> None:
    skipped = applied(12, 20).model_copy(update={"skipped": "the steady state did not hold"})
    assert [p.name for p in compute_phases(4.0, 12.0, [skipped])] == ["warmup", "baseline", "all"]


def test_seconds_of_a_window_are_those_whose_middle_it_holds() -> None:
    from peakday.scoring.phases import seconds_of

    window = PhaseWindow(name="f", kind="fault", start_s=12.03, end_s=20.51)
    assert seconds_of([window]) == list(range(12, 21))
