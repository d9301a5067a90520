from __future__ import annotations

import pytest
from rich.console import Console

from peakday.reporting.compare import NoiseRules, compare_results, compare_slo, format_comparison
from peakday.results.model import Result, SloResult


def slo(metric: str, value: float | None, objective: str, verdict: str = "pass") -> SloResult:
    unit = {"success_rate": "ratio", "rps": "req/s"}.get(metric, "ms")
    return SloResult(
        name="s", request="login", metric=metric, phase="all", objective=objective,
        value=value, unit=unit, verdict=verdict,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (slo("p95", 100.0, "< 800ms"), slo("p95", 115.0, "< 800ms"), "same"),
        (slo("p95", 100.0, "< 800ms"), slo("p95", 130.0, "< 800ms"), "regression"),
        (slo("p95", 100.0, "< 800ms"), slo("p95", 60.0, "< 800ms"), "better"),
        (slo("p95", 20.0, "< 800ms"), slo("p95", 29.0, "< 800ms"), "same"),  # under the 10 ms floor
        (slo("p95", 240.0, "< 250ms"), slo("p95", 251.0, "< 250ms", "fail"), "regression"),
        (slo("rps", 50.0, ">= 40 rps"), slo("rps", 35.0, ">= 40 rps", "fail"), "regression"),
        (slo("rps", 50.0, ">= 10 rps"), slo("rps", 70.0, ">= 10 rps"), "better"),
        (slo("p95", None, "< 800ms", "inconclusive"), slo("p95", 10.0, "< 800ms"), "no data"),
    ],
    ids=[
        "latency-within-20pct", "latency-up-30pct", "latency-down", "latency-under-floor",
        "pass-to-fail-within-noise", "rps-drop", "rps-up", "no-value-before",
    ],
)  # fmt: skip
def test_latency_and_rps_changes(before: SloResult, after: SloResult, expected: str) -> None:
    assessment, _, _ = compare_slo(before, after, 1000, 1000, NoiseRules())
    assert assessment == expected


def test_success_rate_noise_shrinks_with_more_requests() -> None:
    before = slo("success_rate", 0.995, ">= 99%")
    after = slo("success_rate", 0.990, ">= 99%")
    small, _, _ = compare_slo(before, after, 200, 200, NoiseRules())
    large, _, reason = compare_slo(before, after, 100_000, 100_000, NoiseRules())
    assert small == "same"  # 0.5 pp on 200 requests is within three standard errors
    assert large == "regression", reason


def test_same_run_compared_with_itself_has_no_regression(smoke_result: Result) -> None:
    comparison = compare_results(smoke_result, smoke_result)
    assert not comparison.regressed
    assert {c.assessment for c in comparison.changes} == {"same"}


def test_failed_slo_and_score_drop_are_regressions(
    smoke_result: Result, failing_result: Result, scored_result: Result
) -> None:
    comparison = compare_results(smoke_result, failing_result)
    assert [c.name for c in comparison.regressions] == ["login-fast-at-baseline"]
    lower = scored_result.model_copy(
        update={"score": scored_result.score.model_copy(update={"total": 80.0})}  # type: ignore[union-attr]
    )
    assert compare_results(scored_result, lower).score_assessment == "regression"


def test_new_and_removed_slos_are_listed_not_regressions(smoke_result: Result) -> None:
    fewer = smoke_result.model_copy(update={"slos": smoke_result.slos[1:]})
    comparison = compare_results(smoke_result, fewer)
    assert [c.assessment for c in comparison.changes][-1] == "removed"
    assert not comparison.regressed
    assert compare_results(fewer, smoke_result).count("new") == 1


def test_format_names_both_runs_and_the_outcome(
    smoke_result: Result, failing_result: Result
) -> None:
    console = Console(record=True, width=200, color_system=None)
    console.print(format_comparison(compare_results(smoke_result, failing_result), "a", "b"))
    text = console.export_text()
    assert "A: a" in text and "B: b" in text
    assert "REGRESSION: 1 beyond noise" in text
    assert "pass → fail" in text
