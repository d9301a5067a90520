"""Every PromQL query is asked of the server before the load; a refused one is exit 2."""

from __future__ import annotations

import pytest

from peakday.errors import EnvironmentProblem, UsageError
from peakday.experiment.models import Experiment
from peakday.monitoring.api import AlertState, QueryError, QueryShapeError
from peakday.monitoring.setup import check_queries

SPEC = Experiment.model_validate(
    {
        "name": "t",
        "monitoring": "prometheus",
        "load": {"users": 1, "spawn_rate": 1, "duration": "10s"},
        "slos": [
            {"name": "client", "request": "login", "metric": "p95", "objective": "< 1s"},
            {"name": "server", "source": "prometheus", "query": "sum(x", "objective": "< 1"},
        ],
    }
)


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.asked: list[str] = []

    def value(self, query: str, at: float | None = None) -> float | None:
        self.asked.append(query)
        raise self.error

    def alerts(self) -> tuple[AlertState, ...]:
        return ()

    def alert_holds(self) -> dict[str, float]:
        return {}


def test_a_refused_query_is_a_usage_error_with_prometheus_s_words() -> None:
    api = Refusing(QueryError("1:6: parse error: unclosed left parenthesis"))
    with pytest.raises(UsageError) as raised:
        check_queries(SPEC, api, "http://127.0.0.1:9")
    assert api.asked == ["sum(x"]  # only the server-side one
    text = str(raised.value)
    assert "'sum(x'" in text and "unclosed left parenthesis" in text and "'server'" in text
    assert raised.value.exit_code == 2


def test_several_series_is_exit_2_and_no_answer_is_an_environment_problem() -> None:
    with pytest.raises(UsageError, match="aggregate it"):
        check_queries(SPEC, Refusing(QueryShapeError("the query gives 3 series")), "u")
    with pytest.raises(EnvironmentProblem, match="did not answer"):
        check_queries(SPEC, Refusing(ConnectionError("refused")), "u")
