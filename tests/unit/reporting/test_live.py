from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from peakday.experiment.loader import load_experiment
from peakday.reporting.live import (
    KEEP_SECONDS,
    LiveProgress,
    LiveState,
    LogProgress,
    format_log_line,
    progress_for,
    render_live,
    wants_live,
)
from peakday.results.model import TimelineRow

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def experiment():  # type: ignore[no-untyped-def]
    return load_experiment(REPO / "experiments" / "smoke.yaml")


def row(t_s: int, name: str, requests: int, failures: int = 0) -> TimelineRow:
    return TimelineRow(
        t_s=t_s, name=name, requests=requests, failures=failures, p50_ms=10.0, p95_ms=20.0,
        p99_ms=30.0,
    )  # fmt: skip


def test_phase_follows_warmup_faults_and_recovery(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    state.tick(2, 30, [])
    assert state.phase == "warmup"
    state.tick(8, 30, [])
    assert state.phase == "baseline"
    state.tick(14, 30, ["login-latency"])
    assert state.phase == "fault: login-latency"
    state.tick(22, 30, [])
    assert state.phase == "recovery"
    assert state.remaining_s == 8


def test_no_recovery_label_while_the_rates_shown_still_hold_fault_seconds(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    state.tick(12.0, 30, ["login-latency"])
    state.tick(20.0, 30, [])  # the fault is off at 20 s; settled rows lag behind the clock
    state.add_rows([row(t, "login", 5) for t in range(8, 20)])  # rates over seconds 17-19
    assert state.phase == "recovery (rates still include fault seconds)"
    assert "recovery (rates still include fault seconds)" in format_log_line(state)
    state.add_rows([row(20, "login", 5), row(21, "login", 5)])  # seconds 19-21: 19 is a fault's
    assert state.phase == "recovery (rates still include fault seconds)"
    state.add_rows([row(22, "login", 5)])  # seconds 20-22: all after the fault
    assert state.phase == "recovery"


def test_rates_average_the_latest_settled_seconds_and_merge_parts(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    state.add_rows([row(5, "login", 4), row(6, "login", 6, 1), row(7, "login", 5)])
    state.add_rows([row(7, "login", 5, 2)])  # the rest of second 7, settled later
    (login,) = state.steps()
    assert login.rps == pytest.approx((4 + 6 + 10) / 3)
    assert login.error_pct == pytest.approx(100 * 3 / 20)
    assert (login.requests, login.failures) == (20, 3)


def test_log_lines_are_periodic_and_silent_when_quiet(experiment) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    lines: list[str] = []
    progress = LogProgress(lines.append, experiment, clock=lambda: now[0])
    progress.rows([row(3, "checkout", 12)])
    for second in range(12):
        now[0] = float(second)
        progress.tick(second, 30, [])
    assert len(lines) == 3  # at 0, 5 and 10 s
    assert "checkout 4.0 rps 0.0% err" in lines[-1]
    quiet: list[str] = []
    silent = LogProgress(quiet.append, experiment, quiet=True)
    silent.tick(1, 30, [])
    silent.message("starting")
    assert quiet == []
    assert (progress.wants_rows, silent.wants_rows) == (True, False)  # the run skips the rows


def test_log_line_names_phase_and_faults(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    state.tick(14, 30, ["login-latency"])
    assert format_log_line(state) == "   14/30 s  fault: login-latency  | faults: login-latency"


def test_live_view_shows_phase_steps_and_faults(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    state.add_rows([row(10, "login", 4, 1)])
    state.tick(14, 30, ["login-latency"])
    console = Console(record=True, width=120, color_system=None)
    console.print(render_live(state))
    text = console.export_text()
    assert "phase fault: login-latency" in text
    assert "14 s elapsed / 16 s remaining" in text
    assert "login" in text and "25.0%" in text
    assert "active faults: login-latency" in text


@pytest.mark.parametrize(
    ("terminal", "quiet", "no_color", "environ", "expected"),
    [
        (True, False, False, {}, True),
        (False, False, False, {}, False),
        (True, True, False, {}, False),
        (True, False, True, {}, False),
        (True, False, False, {"NO_COLOR": "1"}, False),
    ],
    ids=["terminal", "not-a-terminal", "quiet", "no-color", "NO_COLOR"],
)
def test_live_view_only_on_a_terminal_without_opt_outs(
    terminal: bool, quiet: bool, no_color: bool, environ: dict[str, str], expected: bool
) -> None:
    console = Console(file=io.StringIO(), force_terminal=terminal)
    assert wants_live(console, quiet=quiet, no_color=no_color, environ=environ) is expected


def test_progress_for_starts_and_stops_the_live_view(experiment) -> None:  # type: ignore[no-untyped-def]
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with progress_for(console, experiment, quiet=False, no_color=False, environ={}) as progress:
        assert isinstance(progress, LiveProgress)
        progress.message("starting Locust")
        progress.tick(1, 30, [])
    with progress_for(console, experiment, quiet=False, no_color=True, environ={}) as progress:
        assert isinstance(progress, LogProgress)


def test_a_long_run_keeps_only_recent_seconds_but_whole_run_totals(experiment) -> None:  # type: ignore[no-untyped-def]
    state = LiveState(experiment)
    for t in range(0, 5_000):
        state.add_rows([row(t, "login", 2, 1 if t % 10 == 0 else 0)])
    state.add_rows([row(3, "login", 7)])  # a late part of a long-gone second
    (login,) = state.steps()
    assert (login.requests, login.failures) == (10_007, 500)
    assert login.rps == 2.0
    assert len(state._seconds["login"]) <= KEEP_SECONDS + 1
