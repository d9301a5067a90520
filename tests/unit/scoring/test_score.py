"""The score formula at its edges, the verdict, and the outcome/exit code."""

from __future__ import annotations

from typing import Any

import pytest

from peakday.experiment.models import Scoring
from peakday.results.loadhealth import LoadHealth
from peakday.results.model import BaselineCheck, SloResult, StopRecord
from peakday.results.outcome import exit_code_for
from peakday.scoring.evaluate import judge
from peakday.scoring.score import score_card, weighted_score

DEFAULTS = Scoring()


def slo(
    verdict: str, weight: float = 1.0, key: bool = False, phase: str = "all", name: str = ""
) -> SloResult:
    return SloResult(
        name=name or f"{verdict}-{weight:g}-{phase}",
        request="login",
        metric="p95",
        phase=phase,
        objective="< 1s",
        value=None if verdict == "inconclusive" else 1.0,
        unit="ms",
        verdict=verdict,
        weight=weight,
        key=key,  # type: ignore[arg-type]
    )


def card(*results: SloResult, **settings: Any):  # type: ignore[no-untyped-def]
    return score_card(results, Scoring(**settings))


def test_all_pass_scores_100_and_passes() -> None:
    scorecard, verdict = card(slo("pass"), slo("pass", 3))
    assert (scorecard.total, verdict) == (100.0, "pass")


def test_all_fail_scores_0_and_fails() -> None:
    scorecard, verdict = card(slo("fail"), slo("fail", 3))
    assert (scorecard.total, verdict) == (0.0, "fail")


@pytest.mark.parametrize(
    ("results", "total", "verdict"),
    [
        pytest.param([slo("pass", 3), slo("fail", 1)], 75.0, "warn", id="weights-3-to-1"),
        pytest.param([slo("pass", 9), slo("fail", 1)], 90.0, "pass", id="exactly-pass-score"),
        pytest.param([slo("pass", 1), slo("warn", 1)], 75.0, "warn", id="warn-is-half"),
        pytest.param([slo("pass", 1), slo("fail", 2)], 100 / 3, "fail", id="below-warn-score"),
        pytest.param([slo("pass", 1), slo("fail", 0)], 100.0, "pass", id="weight-zero-ignored"),
    ],
)
def test_weighted_score_and_thresholds(
    results: list[SloResult], total: float, verdict: str
) -> None:
    scorecard, got = card(*results)
    assert scorecard.total == pytest.approx(total)
    assert got == verdict


def test_a_failed_key_slo_fails_the_run_whatever_the_score() -> None:
    scorecard, verdict = card(slo("pass", 99), slo("fail", 1, key=True, name="checkout"))
    assert scorecard.total == pytest.approx(99.0)
    assert verdict == "fail"
    assert scorecard.key_failures == ("checkout",)
    assert "Key SLO 'checkout' failed" in scorecard.reason


def test_inconclusive_slos_are_left_out_of_the_score_but_block_a_pass() -> None:
    scorecard, verdict = card(slo("pass"), slo("inconclusive", name="labels"))
    assert scorecard.total == 100.0
    assert (scorecard.lowest, scorecard.highest) == (50.0, 100.0)
    assert verdict == "inconclusive"
    assert scorecard.inconclusive == ("labels",)


def test_a_run_that_fails_even_if_every_missing_slo_passed_is_a_fail() -> None:
    _, verdict = card(slo("fail", 3), slo("inconclusive", 1))
    assert verdict == "fail"  # at most 25 < 75


def test_no_slos_is_inconclusive_never_a_silent_pass() -> None:
    scorecard, verdict = card()
    assert (scorecard.total, verdict) == (None, "inconclusive")


def test_sub_scores_per_phase() -> None:
    scorecard, _ = card(
        slo("pass", phase="baseline"),
        slo("fail", phase="fault"),
        slo("pass", phase="fault"),
        slo("warn", phase="recovery"),
    )
    assert (scorecard.baseline, scorecard.fault, scorecard.recovery, scorecard.whole_run) == (
        100.0,
        50.0,
        50.0,
        None,
    )


def test_thresholds_come_from_the_spec() -> None:
    _, verdict = card(slo("pass", 3), slo("fail", 1), pass_score=70, warn_score=50)
    assert verdict == "pass"


def test_the_score_is_bounded() -> None:
    for results in ([slo("pass", 1e9), slo("fail", 1e-9)], [slo("warn", 5)], [slo("fail", 0.1)]):
        total = weighted_score(results)
        assert total is not None and 0.0 <= total <= 100.0


NOT_MET = BaselineCheck(at_s=40, met=False, continued=False, slos=())
CONTINUED = BaselineCheck(at_s=40, met=False, continued=True, slos=())
STOP = StopRecord(
    name="c",
    condition="checkout success_rate < 90% for 10s",
    action="end_faults",
    fired_at_s=55,
    breach_from_s=44,
    breach_to_s=54,
)


SATURATED = LoadHealth(trusted=False, reasons=("Load generator 'locust' used 100% CPU.",))


@pytest.mark.parametrize(
    ("status", "verdict", "check", "stops", "outcome", "code"),
    [
        pytest.param("completed", "pass", None, (), "pass", 0, id="pass"),
        pytest.param("completed", "warn", None, (), "warn", 0, id="warn-exits-0"),
        pytest.param("completed", "fail", None, (), "fail", 1, id="fail"),
        pytest.param("completed", "inconclusive", None, (), "inconclusive", 4, id="inconclusive"),
        pytest.param("stopped", "fail", NOT_MET, (), "baseline-not-met", 5, id="baseline-not-met"),
        pytest.param("completed", "fail", CONTINUED, (), "fail", 1, id="baseline-continued"),
        pytest.param("completed", "pass", None, (STOP,), "aborted", 6, id="aborted"),
        pytest.param("interrupted", "pass", None, (STOP,), "interrupted", 130, id="interrupted"),
    ],
)
def test_outcome_and_exit_code(
    status: str,
    verdict: str,
    check: BaselineCheck | None,
    stops: tuple[StopRecord, ...],
    outcome: str,
    code: int,
) -> None:
    from peakday.results.model import Result, RunInfo
    from unit.scoring.synthetic import experiment

    got_verdict, got = judge(status, verdict, check, stops, LoadHealth())  # type: ignore[arg-type]
    assert (got_verdict, got) == (verdict, outcome)
    run = RunInfo(id="r", platform="local", started_at="now", status=status, peakday_version="0")  # type: ignore[arg-type]
    result = Result(
        experiment=experiment(),
        run=run,
        phases=(),
        faults=(),
        timeline=(),
        slos=(),
        verdict=got_verdict,
        outcome=got,
        baseline_check=check,
        stops=stops,  # type: ignore[arg-type]
    )
    assert exit_code_for(result) == code


def test_older_results_without_an_outcome_get_one_from_their_verdict() -> None:
    from peakday.results.model import Result
    from unit.scoring.synthetic import experiment

    data = {
        "experiment": experiment().model_dump(mode="json"),
        "run": {"id": "r", "platform": "local", "started_at": "now", "peakday_version": "0"},
        "phases": [],
        "faults": [],
        "timeline": [],
        "slos": [],
        "verdict": "fail",
    }
    assert Result.model_validate(data).outcome == "fail"


@pytest.mark.parametrize(
    ("status", "verdict", "check", "stops", "expected"),
    [
        pytest.param("completed", "pass", None, (), ("inconclusive", "inconclusive"), id="pass"),
        pytest.param("completed", "fail", None, (), ("inconclusive", "inconclusive"), id="fail"),
        pytest.param("completed", "warn", None, (), ("inconclusive", "inconclusive"), id="warn"),
        pytest.param("completed", "pass", None, (STOP,), ("pass", "aborted"), id="aborted-stays"),
        pytest.param("stopped", "pass", NOT_MET, (), ("pass", "baseline-not-met"), id="not-met"),
        pytest.param("interrupted", "pass", None, (), ("pass", "interrupted"), id="interrupted"),
    ],
)
def test_a_saturated_generator_makes_any_judged_run_inconclusive(
    status: str,
    verdict: str,
    check: BaselineCheck | None,
    stops: tuple[StopRecord, ...],
    expected: tuple[str, str],
) -> None:
    assert judge(status, verdict, check, stops, SATURATED) == expected  # type: ignore[arg-type]
