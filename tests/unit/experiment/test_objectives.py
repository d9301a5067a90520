"""SLO objective text of every kind -> typed objectives, and the errors for bad text."""

from __future__ import annotations

import pytest

from peakday.experiment.objectives import (
    RelativeObjective,
    kind_of,
    parse_budget_objective,
    parse_slo_objective,
    parse_target,
)
from peakday.experiment.units import Objective, SpecValueError


@pytest.mark.parametrize(
    ("text", "metric", "expected"),
    [
        pytest.param("< 800ms", "p95", Objective("<", 800.0, "< 800ms"), id="absolute-latency"),
        pytest.param(
            ">= 99.5%", "success_rate", Objective(">=", 0.995, ">= 99.5%"), id="absolute-success"
        ),
        pytest.param(">= 50 rps", "rps", Objective(">=", 50.0, ">= 50 rps"), id="absolute-rps"),
        pytest.param(
            "<= 1.5x baseline",
            "p95",
            RelativeObjective("<=", "baseline", 1.5, 0.0, "<= 1.5x baseline"),
            id="factor-baseline",
        ),
        pytest.param(
            ">= baseline - 0.5pp",
            "success_rate",
            RelativeObjective(">=", "baseline", 1.0, -0.005, ">= baseline - 0.5pp"),
            id="minus-pp",
        ),
        pytest.param(
            "<= baseline + 200ms",
            "p99",
            RelativeObjective("<=", "baseline", 1.0, 200.0, "<= baseline + 200ms"),
            id="plus-ms",
        ),
        pytest.param(
            "<= baseline + 1s",
            "p95",
            RelativeObjective("<=", "baseline", 1.0, 1000.0, "<= baseline + 1s"),
            id="plus-seconds",
        ),
        pytest.param(
            ">= baseline - 20%",
            "rps",
            RelativeObjective(">=", "baseline", 0.8, 0.0, ">= baseline - 20%"),
            id="relative-percent",
        ),
        pytest.param(
            "<= +10%",
            "p95",
            RelativeObjective("<=", "reference", 1.1, 0.0, "<= +10%"),
            id="keptn-percent",
        ),
        pytest.param(
            ">= -0.5pp",
            "success_rate",
            RelativeObjective(">=", "reference", 1.0, -0.005, ">= -0.5pp"),
            id="keptn-pp",
        ),
        pytest.param(
            "<= 1.2x reference",
            "p50",
            RelativeObjective("<=", "reference", 1.2, 0.0, "<= 1.2x reference"),
            id="factor-reference",
        ),
    ],
)
def test_objective_text_reads_as_its_kind(text: str, metric: str, expected: object) -> None:
    assert parse_slo_objective(text, metric) == expected


def test_relative_objective_threshold_is_base_times_factor_plus_offset() -> None:
    objective = parse_slo_objective(">= baseline - 0.5pp", "success_rate")
    assert isinstance(objective, RelativeObjective)
    assert objective.threshold(0.999) == pytest.approx(0.994)
    assert objective.holds(0.995, 0.999)
    assert not objective.holds(0.993, 0.999)
    assert kind_of(objective) == "baseline"


@pytest.mark.parametrize(
    ("text", "metric", "words"),
    [
        pytest.param(">= baseline - 1ms", "success_rate", "percentage points", id="success-in-ms"),
        pytest.param("<= baseline + 10", "p95", "needs a unit", id="latency-without-unit"),
        pytest.param("<= 0x baseline", "p95", "above zero", id="zero-factor"),
        pytest.param("about the same", "p95", "Cannot read", id="unreadable"),
        pytest.param("<= baseline + 5pp", "rps", "requests per second", id="rps-in-pp"),
    ],
)
def test_bad_objectives_say_what_to_write(text: str, metric: str, words: str) -> None:
    with pytest.raises(SpecValueError) as caught:
        parse_slo_objective(text, metric)
    assert words in caught.value.message
    assert caught.value.hint


def test_error_budget_objective_is_a_share_that_may_exceed_100_percent() -> None:
    assert parse_budget_objective("<= 150%") == Objective("<=", 1.5, "<= 150%")
    assert parse_slo_objective("<= 50%", "error_budget") == Objective("<=", 0.5, "<= 50%")
    with pytest.raises(SpecValueError):
        parse_budget_objective("<= 0.5")


def test_error_budget_target_is_a_success_rate_below_100_percent() -> None:
    assert parse_target("99.5%") == pytest.approx(0.995)
    for bad in ("100%", "0%", "99.5", "lots"):
        with pytest.raises(SpecValueError):
            parse_target(bad)
