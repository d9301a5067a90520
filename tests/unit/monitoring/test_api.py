"""Reading Prometheus's HTTP API answers (pure parts)."""

from __future__ import annotations

import pytest

from peakday.monitoring.api import QueryShapeError, one_value, parse_alert_holds, parse_alerts


def test_one_value_of_a_vector_a_scalar_and_an_empty_answer() -> None:
    vector = {"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "0.25"]}]}
    assert one_value(vector) == 0.25
    assert one_value({"resultType": "scalar", "result": [1.0, "3"]}) == 3.0
    assert one_value({"resultType": "vector", "result": []}) is None
    assert one_value({"resultType": "vector", "result": [{"value": [1.0, "NaN"]}]}) is None


def test_several_series_or_a_range_are_not_one_value() -> None:
    two = {"resultType": "vector", "result": [{"metric": {"a": "1"}, "value": [1, "1"]}] * 2}
    with pytest.raises(QueryShapeError, match="2 series"):
        one_value(two)
    with pytest.raises(QueryShapeError, match="matrix"):
        one_value({"resultType": "matrix", "result": []})


def test_alerts_and_their_for_durations() -> None:
    payload = {
        "data": {
            "alerts": [
                {
                    "labels": {"alertname": "LoginErrorRate"},
                    "state": "firing",
                    "activeAt": "2026-01-01T00:00:01.5Z",
                },
                {"labels": {"alertname": "Other"}, "state": "inactive"},
                {"labels": {}, "state": "pending"},
            ]
        }
    }
    (alert,) = parse_alerts(payload)
    assert (alert.alert, alert.state, alert.active_at) == ("LoginErrorRate", "firing", 1767225601.5)
    rules = {
        "data": {
            "groups": [
                {
                    "rules": [
                        {"type": "alerting", "name": "A", "duration": 2},
                        {"type": "recording", "name": "r"},
                    ]
                }
            ]
        }
    }
    assert parse_alert_holds(rules) == {"A": 2.0}
