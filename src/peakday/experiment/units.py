"""Parsing of durations and SLO objectives; pure functions that raise SpecValueError with a hint."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_HINT = "Write a number with a unit, such as '30s', '2m' or '500ms'."


class SpecValueError(ValueError):
    """A bad value in an experiment file: a full-sentence message plus what to write instead.

    Pydantic keeps the exception in the error's context, so validation can show the message and
    the hint separately; str() joins them for anyone who catches a plain ValueError.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} Hint: {hint}" if hint else message)


def parse_duration_s(value: object) -> float:
    """'30s', '2m', '500ms', '1.5h' or a bare number of seconds -> seconds."""
    if isinstance(value, bool):
        raise SpecValueError(f"Expected a duration, got {value!r}.", DURATION_HINT)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise SpecValueError(f"Expected a finite duration, got {value!r}.", DURATION_HINT)
        if value < 0:
            raise SpecValueError(f"A duration cannot be negative, got {value!r}.", DURATION_HINT)
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    raise SpecValueError(f"Expected a duration, got {value!r}.", DURATION_HINT)


def format_duration_s(seconds: float) -> str:
    """Seconds -> the shortest spelling parse_duration_s reads back: 300 -> '5m', 0.5 -> '500ms'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{_trim(seconds / 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{_trim(seconds / 60)}m"
    if seconds >= 1 or seconds == 0:
        return f"{_trim(seconds)}s"
    return f"{_trim(seconds * 1000)}ms"


def format_measure(value: float | None, unit: str) -> str:
    """A measured value in its canonical unit: '47.9 ms', '99.50%', '12.3 req/s', or '—' for none.

    The one spelling of a measured value, in scoring's messages and in every report.
    """
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "req/s":
        return f"{value:.1f} req/s"
    return f"{value:g} {unit}".strip()


def _trim(number: float) -> str:
    """Up to three decimals without trailing zeros: 1331.072 -> '1331.072', 90.0 -> '90'."""
    return f"{number:.3f}".rstrip("0").rstrip(".")


Comparator = Literal["<", "<=", ">", ">=", "=="]
# "value": a server-side series (a PromQL query's value), compared as a plain number.
Metric = Literal["success_rate", "p50", "p90", "p95", "p99", "p999", "max", "rps", "value"]
LATENCY_METRICS: frozenset[str] = frozenset({"p50", "p90", "p95", "p99", "p999", "max"})

_OBJECTIVE = re.compile(r"^\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(%|ms|s|rps|/s)?\s*$")
_OBJECTIVE_EXAMPLES = "such as '>= 99.5%' (success_rate), '< 800ms' (latency) or '>= 50 rps' (rps)"


@dataclass(frozen=True)
class Objective:
    """A threshold in canonical units: ratio 0..1 for success_rate, ms for latency, req/s."""

    comparator: Comparator
    threshold: float
    text: str

    def holds(self, value: float) -> bool:
        match self.comparator:
            case "<":
                return value < self.threshold
            case "<=":
                return value <= self.threshold
            case ">":
                return value > self.threshold
            case ">=":
                return value >= self.threshold
            case "==":
                return value == self.threshold


def parse_objective(text: str, metric: str) -> Objective:
    """Parse '>= 99.5%' (success_rate), '< 800ms' (latency) or '>= 50 rps' (rps)."""
    match = _OBJECTIVE.match(text)
    if not match:
        raise SpecValueError(
            f"Cannot read the objective {text!r}.",
            f"Write a comparison and a number, {_OBJECTIVE_EXAMPLES}; quote it in YAML.",
        )
    comparator, number, unit = match.group(1), float(match.group(2)), match.group(3)
    if metric == "success_rate":
        if unit not in ("%", None):
            raise SpecValueError(
                f"A success_rate objective is a percentage, got {text!r}.",
                "Write it with '%', such as '>= 99.5%'.",
            )
        threshold = number / 100.0 if unit == "%" else number
        if threshold > 1.0:
            raise SpecValueError(
                f"A success_rate cannot exceed 100%, got {text!r}.",
                "Write a percentage up to 100%, such as '>= 99.5%'.",
            )
    elif metric in LATENCY_METRICS:
        if unit not in ("ms", "s"):
            raise SpecValueError(
                f"A {metric} objective needs a unit (ms or s), got {text!r}.",
                f"Write the unit after the number, such as '{comparator} {number:g}ms'.",
            )
        threshold = number * 1000.0 if unit == "s" else number
    elif metric == "rps":
        if unit not in ("rps", "/s", None):
            raise SpecValueError(
                f"An rps objective is in requests per second, got {text!r}.",
                "Write it such as '>= 50 rps'.",
            )
        threshold = number
    elif metric == "value":
        if unit not in ("%", None):
            raise SpecValueError(
                f"A PromQL query's objective is a plain number or a percentage, got {text!r}.",
                "Write it such as '< 0.05' or '< 5%' (5% is read as 0.05).",
            )
        threshold = number / 100.0 if unit == "%" else number
    else:
        raise SpecValueError(f"Unknown metric {metric!r}.")
    return Objective(comparator=comparator, threshold=threshold, text=text.strip())  # type: ignore[arg-type]
