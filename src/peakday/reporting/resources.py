"""Service CPU and memory over the run, from the platform's resources.jsonl records (pure).

The sampler writes one record per service per second with a wall-clock time; reports plot them
on the same "seconds since load start" axis as everything else. A service that is down (killed
by a fault) has no value, so its line breaks there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

METRICS = (("cpu_percent", "CPU %"), ("memory_mb", "memory (MB)"))


@dataclass(frozen=True)
class ResourceSeries:
    service: str
    metric: str  # cpu_percent or memory_mb
    points: tuple[tuple[float, float | None], ...]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def resource_series(
    records: Iterable[Mapping[str, Any]], load_started_wall: float | None, load_end_s: float
) -> tuple[ResourceSeries, ...]:
    """One series per (service, metric), in load time, clipped to the load."""
    if load_started_wall is None:
        return ()
    points: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    for record in records:
        wall, service = _number(record.get("wall")), record.get("service")
        if wall is None or not isinstance(service, str):
            continue
        t_s = round(wall - load_started_wall, 3)
        if t_s < 0 or t_s > load_end_s:
            continue
        for metric, _ in METRICS:
            value = _number(record.get(metric)) if record.get("up", True) else None
            points.setdefault((service, metric), []).append((t_s, value))
    return tuple(
        ResourceSeries(service, metric, tuple(sorted(series, key=lambda p: p[0])))
        for (service, metric), series in sorted(points.items())
        if any(v is not None for _, v in series)
    )
