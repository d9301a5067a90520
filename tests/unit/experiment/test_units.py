from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peakday.experiment.units import (
    SpecValueError,
    format_duration_s,
    format_measure,
    parse_duration_s,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("2m", 120.0), ("500ms", 0.5), ("1.5h", 5400.0), (45, 45.0), (" 3 m ", 180.0)],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize(
    "value", ["30 parsecs", "-1s", -1, True, float("inf"), float("nan"), None, "1m30s"]
)
def test_bad_durations_say_what_to_write(value: object) -> None:
    with pytest.raises(SpecValueError) as caught:
        parse_duration_s(value)

    assert "'30s'" in caught.value.hint
    assert caught.value.message.endswith(".")


@pytest.mark.parametrize(
    ("seconds", "text"), [(300, "5m"), (90, "90s"), (0.25, "250ms"), (7200, "2h"), (0, "0s")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration_s(seconds) == text


@given(st.integers(min_value=0, max_value=10**7).map(lambda ms: ms / 1000))
def test_formatted_durations_read_back(seconds: float) -> None:
    assert parse_duration_s(format_duration_s(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (47.935, "ms", "47.9 ms"),
        (0.995, "ratio", "99.50%"),
        (12.345, "req/s", "12.3 req/s"),
        (3.0, "records", "3 records"),
        (None, "ms", "—"),
    ],
    ids=["latency", "success-rate", "rps", "other-unit", "none"],
)
def test_format_measure(value: float | None, unit: str, text: str) -> None:
    assert format_measure(value, unit) == text
