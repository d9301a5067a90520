"""SLOs judged per fault window, per rolling window and as a share of good windows, on a
synthetic run with hand-computed answers.

The run: warmup 0-10 s, baseline 10-40 s, fault 'a' 40-50 s, fault 'b' 50-70 s, recovery
70-100 s. Labels: 2 a second, except none at all in 50-64 s (no rows: an empty second) and
2 a second again in 65-69 s. Over the union of the fault windows that is (20 + 0 + 10) / 30 s
= 1 req/s, which meets '>= 1 rps' and hides the 15 s outage; fault 'b' alone is 10 / 20 s = 0.5.
"""

from __future__ import annotations

from typing import Any

import pytest

from peakday.experiment.models import Slo
from peakday.results.model import ScoreCard, SloResult, TimelineRow
from peakday.scoring.live import check_baseline
from peakday.scoring.score import score_card
from peakday.scoring.slo import evaluate_slo
from unit.scoring.synthetic import LOGIN_FAULT, experiment, fault, phases, row, rows, slo

PHASES = phases(10, 100, fault(40, 50, "a", 0), fault(50, 70, "b", 1))
LABELS = [
    *rows("label", range(10, 50), n=2),
    *rows("label", range(65, 100), n=2),
]
# Login: 10 a second taking 20 ms, except second 45 at 500 ms; a few failures in 60-61 s.
LOGIN = [
    *rows("login", range(10, 45)),
    row(45, "login", ms=500),
    *rows("login", range(46, 60)),
    *rows("login", range(60, 62), failures=5),
    *rows("login", range(62, 100)),
]


def judge(
    objective: str = ">= 1 rps",
    metric: str = "rps",
    request: str = "label",
    timeline: list[TimelineRow] | None = None,
    **extra: Any,
) -> SloResult:
    slo = Slo.model_validate(
        {"name": "s", "request": request, "metric": metric, "objective": objective, **extra}
    )
    return evaluate_slo(slo, [*LABELS, *LOGIN] if timeline is None else timeline, PHASES)


def test_the_union_of_fault_windows_hides_the_outage() -> None:
    result = judge(phase="fault")
    assert result.verdict == "pass"
    assert result.value == pytest.approx(1.0)


def test_each_fault_judges_every_fault_window_and_keeps_the_worst() -> None:
    result = judge(phase="each-fault")
    assert result.verdict == "fail"
    assert result.value == pytest.approx(0.5)
    assert result.worst is not None
    assert (result.worst.phase, result.worst.start_s, result.worst.end_s) == ("fault:b", 50, 70)
    listed = [(w.phase, w.value, w.met) for w in result.windows]
    assert listed == [("fault:a", pytest.approx(2.0), True), ("fault:b", pytest.approx(0.5), False)]
    assert "per fault window: a 2.0 req/s (met), b 0.5 req/s (missed)" in result.detail


def test_each_fault_warns_when_the_worst_window_meets_the_warning() -> None:
    assert judge(phase="each-fault", warning=">= 0.4 rps").verdict == "warn"
    assert judge(phase="each-fault", warning=">= 0.6 rps").verdict == "fail"


@pytest.mark.parametrize(
    ("phase", "verdict", "value"),
    [("fault:a", "pass", 2.0), ("fault:b", "fail", 0.5)],
    ids=["window-a", "window-b"],
)
def test_one_fault_window_by_name(phase: str, verdict: str, value: float) -> None:
    result = judge(phase=phase)
    assert (result.verdict, result.value) == (verdict, pytest.approx(value))


def test_rolling_windows_find_the_worst_and_where_empty_seconds_count_as_zero() -> None:
    result = judge(phase="fault", window="10s")
    assert result.verdict == "fail"
    assert result.value == 0.0  # 50-60 s has no rows at all: 0 req/s, not missing data
    assert result.worst is not None
    assert (result.worst.start_s, result.worst.end_s) == (50, 60)  # the earliest of the worst
    assert result.window_s == 10
    # 21 windows start at 40..60 s, across the back-to-back faults
    assert result.judged_windows == 21
    assert "worst 10 s window 50-60 s: 0.0 req/s" in result.detail


@pytest.mark.parametrize(
    ("within", "verdict"), [("30%", "pass"), ("34%", "fail")], ids=["30pct", "34pct"]
)
def test_within_is_the_share_of_rolling_windows_that_must_meet(within: str, verdict: str) -> None:
    # 10 s windows meet >= 1 rps when they hold >= 10 labels: those starting at 40..45 s
    # (2/s from 40-49 s) and the one at 60 s (65-69 s): 7 of 21 = 33.3%.
    result = judge(phase="fault", window="10s", within=within)
    assert result.verdict == verdict
    assert result.met_share == pytest.approx(7 / 21)
    assert result.within == pytest.approx(float(within[:-1]) / 100)


@pytest.mark.parametrize(
    ("within", "verdict"), [("50%", "pass"), ("51%", "fail")], ids=["50pct", "51pct"]
)
def test_within_without_a_window_counts_seconds(within: str, verdict: str) -> None:
    # seconds 40..69 of the fault phase: 40-49 and 65-69 have 2 labels, 15 of 30 seconds
    result = judge(phase="fault", within=within)
    assert result.verdict == verdict
    assert result.met_share == pytest.approx(0.5)
    assert result.judged_windows == 30


def test_each_fault_with_a_rolling_window_reports_each_fault_windows_worst() -> None:
    result = judge(phase="each-fault", window="5s")
    a, b = result.windows
    assert (a.value, a.met, a.worst_start_s, a.worst_end_s) == (pytest.approx(2.0), True, 40, 45)
    assert (b.value, b.met, b.worst_start_s, b.worst_end_s) == (0.0, False, 50, 55)


def test_the_worst_latency_window_is_the_highest_and_where_it_was() -> None:
    # second 45 is slow: 5 s windows holding it have 10 of 50 requests at 500 ms, so p95 = 500
    result = judge("< 100ms", "p95", "login", phase="all", window="5s")
    assert result.verdict == "fail"
    assert result.value == pytest.approx(500, rel=0.01)
    assert result.worst is not None
    assert (result.worst.start_s, result.worst.end_s) == (41, 46)
    assert judge("< 100ms", "p95", "login", phase="all", window="5s", within="90%").verdict == (
        "pass"  # 5 of the 86 windows (10-95 s) hold second 45
    )


def test_success_rate_per_window_against_the_baseline() -> None:
    # 60-61 s: 5 of 10 fail; the baseline is 100%, so any window holding them misses
    result = judge(">= baseline - 1pp", "success_rate", "login", phase="fault", window="10s")
    assert result.verdict == "fail"
    assert result.value == pytest.approx(0.9)  # 60-70 s: 100 requests, 10 failed
    assert result.worst is not None and result.worst.start_s == 52  # earliest holding both


def test_windows_without_requests_are_not_judged_and_all_empty_is_inconclusive() -> None:
    # labels have no request in 50-64 s, so no success rate there: those windows are skipped
    result = judge(">= 99%", "success_rate", phase="fault:b", window="5s")
    assert result.verdict == "pass"
    assert result.judged_windows == 5  # the windows starting at 61..65 s hold 65 s
    assert "11 of 16 windows had no requests to judge" in result.detail
    empty = judge(">= 99%", "success_rate", phase="fault:b", window="5s", timeline=LABELS[:40])
    assert empty.verdict == "inconclusive"
    assert empty.value is None


@pytest.mark.parametrize(
    "timeline",
    [LOGIN, [*LOGIN, *rows("label", range(10, 100), n=0)]],
    ids=["no-rows", "only-empty-rows"],
)
def test_a_step_that_never_ran_is_inconclusive_not_zero(timeline: list[TimelineRow]) -> None:
    result = judge(phase="each-fault", window="5s", timeline=timeline)
    assert result.verdict == "inconclusive"
    assert result.value is None
    assert "label" in result.detail


def test_per_fault_slos_count_in_the_fault_sub_score() -> None:
    spec = experiment(slos=[])
    results = [judge(phase="each-fault"), judge(phase="fault:a")]
    card: ScoreCard = score_card(results, spec.scoring)[0]
    assert card.fault == pytest.approx(50.0)


def test_the_live_steady_state_check_judges_baseline_windows() -> None:
    # second 45 is slow, but the check runs at 40 s: only 10-40 s counts
    spec = experiment(
        slos=[slo("fast", "login", "p95", "< 100ms", phase="baseline", window="5s")],
        faults=[LOGIN_FAULT],
    )
    slow_at_25 = [*rows("login", range(10, 25)), row(25, "login", ms=500)]
    slow_at_25 += rows("login", range(26, 40))
    check = check_baseline(spec, slow_at_25, at_s=40)
    (judged,) = check.slos
    assert not check.met
    assert judged.worst is not None and (judged.worst.start_s, judged.worst.end_s) == (21, 26)
    assert check_baseline(spec, rows("login", range(10, 40)), at_s=40).met


def test_an_error_budget_over_one_fault_window() -> None:
    # 60-61 s: 10 of 20 logins fail, all inside fault 'b'; fault 'a' has none
    budget = {"metric": "error_budget", "target": "99%", "objective": "<= 50%"}
    clean = judge(request="login", phase="fault:a", **budget)
    broken = judge(request="login", phase="fault:b", **budget)
    assert (clean.verdict, clean.value) == ("pass", 0.0)
    assert broken.verdict == "fail"
    # the budget is 1% of the run's 900 logins (10-100 s): 10 failed of 9 allowed
    assert broken.value == pytest.approx(10 / 9)
