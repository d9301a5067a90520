"""The metrics file the Locust side writes: one JSON object per line, told apart by "kind" (pure).

Kinds: load_started, load_stopped, metrics (a `StepSecond`), arrivals (an `ArrivalSecond`) and
generator (a `GeneratorSample`). Unknown kinds are skipped so older readers keep working.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from peakday.load.records import ArrivalSecond, StepSecond


@dataclass(frozen=True)
class GeneratorSample:
    """Health of the load generator: its CPU and how late its flush loop woke (event-loop lag)."""

    wall: float
    cpu_percent: float
    lag_ms: float
    users: int
    process: str = "locust"  # "locust" alone; "master" and "worker-<index>" when distributed


@dataclass(frozen=True)
class MetricsLog:
    load_started_wall: float | None
    load_stopped_wall: float | None
    step_seconds: tuple[StepSecond, ...]
    generator: tuple[GeneratorSample, ...]
    truncated_tail: bool  # the last line was cut short (the writer was mid-line or killed)
    arrivals: tuple[ArrivalSecond, ...] = ()


def format_record(record: Mapping[str, object]) -> str:
    """One JSONL line, newline included."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"


def load_started_record(wall: float) -> dict[str, object]:
    return {"kind": "load_started", "wall": wall}


def load_stopped_record(wall: float) -> dict[str, object]:
    return {"kind": "load_stopped", "wall": wall}


def generator_record(sample: GeneratorSample) -> dict[str, object]:
    return {
        "kind": "generator",
        "wall": sample.wall,
        "cpu_percent": sample.cpu_percent,
        "lag_ms": sample.lag_ms,
        "users": sample.users,
        "process": sample.process,
    }


def _number(data: Mapping[str, object], key: str, line_number: int) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"line {line_number}: {key!r} should be a number, got {value!r}")
    return float(value)


def parse_metrics_jsonl(text: str) -> MetricsLog:
    """Read a metrics file, tolerating a partial last line; unknown kinds are skipped."""
    started: float | None = None
    stopped: float | None = None
    step_seconds: list[StepSecond] = []
    generator: list[GeneratorSample] = []
    arrivals: list[ArrivalSecond] = []
    truncated = False
    lines = text.split("\n")
    for index, line in enumerate(lines):
        line_number = index + 1
        if not line.strip():
            continue
        is_unterminated_tail = index == len(lines) - 1
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            if is_unterminated_tail:
                truncated = True
                break
            raise ValueError(
                f"line {line_number} of the metrics file is not JSON: {error}"
            ) from error
        if not isinstance(data, dict):
            raise ValueError(f"line {line_number} of the metrics file is not an object: {line!r}")
        kind = data.get("kind")
        if kind == "load_started":
            started = _number(data, "wall", line_number)
        elif kind == "load_stopped":
            stopped = _number(data, "wall", line_number)
        elif kind == "metrics":
            try:
                step_seconds.append(StepSecond.from_json_dict(data))
            except ValueError as error:
                raise ValueError(f"line {line_number}: {error}") from error
        elif kind == "generator":
            generator.append(
                GeneratorSample(
                    wall=_number(data, "wall", line_number),
                    cpu_percent=_number(data, "cpu_percent", line_number),
                    lag_ms=_number(data, "lag_ms", line_number),
                    users=int(_number(data, "users", line_number)),
                    process=str(data.get("process", "locust")),
                )
            )
        elif kind == "arrivals":
            try:
                arrivals.append(ArrivalSecond.from_json_dict(data))
            except ValueError as error:
                raise ValueError(f"line {line_number}: {error}") from error
    return MetricsLog(
        started, stopped, tuple(step_seconds), tuple(generator), truncated, tuple(arrivals)
    )
