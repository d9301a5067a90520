"""Parsing of durations and SLO objectives; pure functions that raise ValueError with a hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration_s(value: object) -> float:
    """'30s', '2m', '500ms', '1.5h' or a bare number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '30s' or '2m', got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    raise ValueError(f"expected a duration such as '30s', '2m' or '500ms', got {value!r}")


Comparator = Literal["<", "<=", ">", ">=", "=="]
Metric = Literal["success_rate", "p50", "p90", "p95", "p99", "p999", "max", "rps"]
LATENCY_METRICS: frozenset[str] = frozenset({"p50", "p90", "p95", "p99", "p999", "max"})

_OBJECTIVE = re.compile(r"^\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(%|ms|s|rps|/s)?\s*$")


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
        raise ValueError(
            f"cannot read objective {text!r}; write a comparison and a number, "
            "such as '>= 99.5%', '< 800ms' or '>= 50 rps'"
        )
    comparator, number, unit = match.group(1), float(match.group(2)), match.group(3)
    if metric == "success_rate":
        if unit not in ("%", None):
            raise ValueError(f"success_rate objectives are percentages, got {text!r}")
        threshold = number / 100.0 if unit == "%" else number
        if threshold > 1.0:
            raise ValueError(f"success_rate cannot exceed 100%, got {text!r}")
    elif metric in LATENCY_METRICS:
        if unit not in ("ms", "s"):
            raise ValueError(f"latency objectives need a unit (ms or s), got {text!r}")
        threshold = number * 1000.0 if unit == "s" else number
    elif metric == "rps":
        if unit not in ("rps", "/s", None):
            raise ValueError(f"rps objectives are requests per second, got {text!r}")
        threshold = number
    else:
        raise ValueError(f"unknown metric {metric!r}")
    return Objective(comparator=comparator, threshold=threshold, text=text.strip())  # type: ignore[arg-type]
