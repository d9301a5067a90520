"""An SLO on a request that never ran is inconclusive, and says which requests did run and
which one it probably meant."""

from __future__ import annotations

import pytest

from peakday.scoring.names import did_you_mean, never_ran_detail
from peakday.scoring.slo import evaluate_slo
from unit.scoring.synthetic import experiment, fault, phases, rows, slo

TIMELINE = (
    *rows("login", range(0, 30)),
    *rows("basket", range(0, 30)),
    *rows("account", range(0, 30)),
    *rows("idle", range(0, 30), n=0),
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("logn", "login", id="dropped-letter"),
        pytest.param("LOGIN", "login", id="case"),
        pytest.param("baskets", "basket", id="plural"),
        pytest.param("checkout", None, id="nothing-close"),
    ],
)
def test_did_you_mean_suggests_only_a_near_miss(name: str, expected: str | None) -> None:
    assert did_you_mean(name, ["account", "basket", "login"]) == expected


@pytest.mark.parametrize("metric", ["p95", "success_rate", "rps", "error_budget"])
def test_an_slo_on_a_request_that_never_ran_lists_those_that_did(metric: str) -> None:
    extra = {"target": "99%"} if metric == "error_budget" else {}
    objective = {"p95": "< 1s", "success_rate": ">= 99%", "rps": ">= 1 rps"}.get(metric, "<= 50%")
    spec = experiment(slos=[slo("typo", "logn", metric, objective, **extra)], duration="30s",
                      warmup="2s")  # fmt: skip
    [result] = [evaluate_slo(s, TIMELINE, phases(2, 30)) for s in spec.slos]
    assert result.verdict == "inconclusive"
    assert result.detail == (
        "no 'logn' requests in the whole run; requests that ran: account, basket, login; "
        "did you mean 'login'?"
    )


def test_a_request_that_ran_but_not_in_the_phase_keeps_the_short_detail() -> None:
    spec = experiment(slos=[slo("late", "login", "p95", "< 1s", phase="baseline")],
                      duration="30s", warmup="2s")  # fmt: skip
    timeline = tuple(rows("login", range(20, 30)))
    [result] = [evaluate_slo(s, timeline, phases(2, 30, fault(10, 20))) for s in spec.slos]
    assert (result.verdict, result.detail) == (
        "inconclusive",
        "no 'login' requests started in this phase",
    )


def test_without_any_request_the_detail_says_so() -> None:
    assert (
        never_ran_detail("login", ())
        == "no 'login' requests in the whole run; no request ran at all"
    )
