"""The resiliency matrix on a synthetic run: status per cell, time to detect and recover, blast
radius. Baseline 10-40 s, one fault 40-60 s, run until 100 s; 10 requests a second at 20 ms."""

from __future__ import annotations

import pytest

from peakday.results.model import TimelineRow
from peakday.scoring.matrix import resiliency_matrix
from unit.scoring.synthetic import LOGIN_FAULT, experiment, fault, phases, row, rows, slo

PHASES = phases(10, 100, fault(40, 60))

LOGIN = [
    *rows("login", range(10, 40)),
    *rows("login", range(40, 65), ms=200),
    *rows("login", range(65, 100)),
]
CHECKOUT = rows("checkout", range(10, 100))
LABEL = [*rows("label", range(10, 40)), *rows("label", range(60, 100))]  # nothing during the fault
POS = [*rows("pos_checkout", range(10, 40)), *rows("pos_checkout", range(40, 100), failures=5)]
TIMELINE = [*LOGIN, *CHECKOUT, *LABEL, *POS]


def matrix(timeline: list[TimelineRow] = TIMELINE, slos=(), **scoring):  # type: ignore[no-untyped-def]
    spec = experiment(slos=slos, faults=[LOGIN_FAULT], scoring=scoring or {})
    return resiliency_matrix(spec, timeline, PHASES, 100.0)


def test_each_step_gets_a_cell_with_its_status() -> None:
    grid, _ = matrix()
    assert grid is not None
    assert grid.faults == ("f",)
    assert grid.steps == ("login", "checkout", "label", "pos_checkout")
    statuses = {cell.step: cell.status for cell in grid.cells}
    assert statuses == {
        "login": "degraded",
        "checkout": "pass",
        "label": "broken",
        "pos_checkout": "broken",
    }


def test_a_degraded_cell_carries_its_numbers_against_baseline() -> None:
    grid, _ = matrix()
    login = grid.cell("f", "login")  # type: ignore[union-attr]
    assert login is not None
    assert login.during.requests == 200 and login.baseline.requests == 300
    assert login.p95_ratio == pytest.approx(10.0, rel=5e-3)
    assert login.rps_ratio == pytest.approx(1.0)
    assert login.success_drop_pp == pytest.approx(0.0)
    assert "p95 above" in login.detail
    assert login.summary.startswith("degraded: p95 200 ms (x10.0)")


def test_time_to_detect_and_recover_are_counted_to_the_end_of_the_telling_second() -> None:
    grid, _ = matrix()
    login = grid.cell("f", "login")  # type: ignore[union-attr]
    # First breached second 40 -> known at 41; healthy again from second 65, held 5 s.
    assert login.time_to_detect_s == 1.0  # type: ignore[union-attr]
    assert login.time_to_recover_s == 6.0  # type: ignore[union-attr]
    assert login.recovery == "recovered"  # type: ignore[union-attr]


def test_a_step_that_stops_sending_is_broken_and_its_silence_counts_as_breach() -> None:
    grid, _ = matrix()
    label = grid.cell("f", "label")  # type: ignore[union-attr]
    assert label.during.requests == 0  # type: ignore[union-attr]
    assert "no requests during the fault" in label.detail  # type: ignore[union-attr]
    assert (label.time_to_detect_s, label.time_to_recover_s) == (1.0, 1.0)  # type: ignore[union-attr]


def test_a_step_that_never_comes_back_is_not_recovered() -> None:
    grid, impacts = matrix()
    pos = grid.cell("f", "pos_checkout")  # type: ignore[union-attr]
    assert "success rate below 90%" in pos.detail  # type: ignore[union-attr]
    assert (pos.time_to_recover_s, pos.recovery) == (None, "not-recovered")  # type: ignore[union-attr]
    (impact,) = impacts
    assert impact.blast_radius == ("login", "label", "pos_checkout")
    assert impact.time_to_detect_s == 1.0
    assert (impact.time_to_recover_s, impact.recovery) == (None, "not-recovered")


def test_an_untouched_step_is_pass_with_no_timing() -> None:
    grid, _ = matrix()
    checkout = grid.cell("f", "checkout")  # type: ignore[union-attr]
    assert checkout.status == "pass"  # type: ignore[union-attr]
    assert (checkout.time_to_detect_s, checkout.recovery) == (None, "not-needed")  # type: ignore[union-attr]


def test_an_slo_that_fails_over_the_fault_window_makes_the_cell_broken() -> None:
    grid, _ = matrix(slos=[slo("login-fast", "login", "p95", "< 100ms", phase="fault")])
    login = grid.cell("f", "login")  # type: ignore[union-attr]
    assert login.status == "broken"  # type: ignore[union-attr]
    assert "SLO 'login-fast' fails" in login.detail  # type: ignore[union-attr]


def test_an_slo_judged_only_in_recovery_does_not_decide_the_cell() -> None:
    grid, _ = matrix(slos=[slo("login-fast", "login", "p95", "< 100ms", phase="recovery")])
    assert grid.cell("f", "login").status == "degraded"  # type: ignore[union-attr]


def test_recovery_needs_the_hold_in_a_row() -> None:
    # Healthy at 60, slow again 61, healthy from 62: with a 3 s hold, recovery starts at 62.
    flicker = [
        *rows("login", range(10, 40)),
        *rows("login", range(40, 60), ms=200),
        row(60, "login"),
        row(61, "login", ms=200),
        *rows("login", range(62, 100)),
    ]
    grid, _ = matrix(timeline=flicker, recovery_hold="3s")
    assert grid.cell("f", "login").time_to_recover_s == 3.0  # type: ignore[union-attr]


def test_recovery_cut_short_by_the_next_fault_is_interrupted() -> None:
    two = phases(10, 100, fault(40, 60, "a"), fault(60, 80, "b", index=1))
    slow = [
        *rows("login", range(10, 40)),
        *rows("login", range(40, 80), ms=200),
        *rows("login", range(80, 100)),
    ]
    spec = experiment(faults=[LOGIN_FAULT, {**LOGIN_FAULT, "name": "b", "at": "60s"}])
    grid, impacts = resiliency_matrix(spec, slow, two, 100.0)
    assert grid is not None
    assert grid.cell("a", "login").recovery == "interrupted"  # type: ignore[union-attr]
    assert grid.cell("b", "login").time_to_recover_s == 1.0  # type: ignore[union-attr]
    assert [i.recovery for i in impacts] == ["interrupted", "recovered"]


def test_a_step_without_any_requests_is_no_data() -> None:
    grid, _ = matrix(timeline=[*LOGIN, *CHECKOUT, *LABEL])
    assert grid.cell("f", "pos_checkout").status == "no-data"  # type: ignore[union-attr]


def test_no_faults_means_no_matrix() -> None:
    spec = experiment()
    assert resiliency_matrix(spec, TIMELINE, phases(10, 100), 100.0) == (None, ())
