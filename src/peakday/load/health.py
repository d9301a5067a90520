"""Judges whether the load generator kept up, from what the Locust side recorded (pure).

A saturated generator sends late and measures late, so its numbers are not evidence either way:
the run is then `inconclusive` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from peakday.load.metricsfile import GeneratorSample
from peakday.load.records import ArrivalSecond, merge_arrivals
from peakday.results.loadhealth import ArrivalRow, GeneratorSecond, LoadHealth


@dataclass(frozen=True)
class GeneratorLimits:
    """Above `max_cpu_percent` for more than `cpu_sustained_s` seconds in a row, or an event loop
    waking more than `max_lag_ms` late, and a generator process is not trusted."""

    max_cpu_percent: float = 90.0
    cpu_sustained_s: int = 3
    max_lag_ms: float = 250.0


def generator_problems(
    samples: Sequence[GeneratorSample], limits: GeneratorLimits = GeneratorLimits()
) -> tuple[str, ...]:
    """One sentence per generator process that was saturated or lagging; empty when healthy."""
    problems: list[str] = []
    by_process: dict[str, list[GeneratorSample]] = {}
    for sample in samples:
        by_process.setdefault(sample.process, []).append(sample)
    for process, own in sorted(by_process.items()):
        own.sort(key=lambda sample: sample.wall)
        longest = run = 0
        for sample in own:
            run = run + 1 if sample.cpu_percent > limits.max_cpu_percent else 0
            longest = max(longest, run)
        if longest > limits.cpu_sustained_s:
            problems.append(
                f"Load generator {process!r} used more than {limits.max_cpu_percent:.0f}% CPU "
                f"for {longest} s in a row (limit {limits.cpu_sustained_s} s), so it could not "
                "send or time requests on schedule. Hint: lower the load, or add 'workers: N'."
            )
        worst = max(own, key=lambda sample: sample.lag_ms)
        if worst.lag_ms > limits.max_lag_ms:
            problems.append(
                f"Load generator {process!r} woke {worst.lag_ms:.0f} ms late (limit "
                f"{limits.max_lag_ms:.0f} ms), so request timings may include its own delays. "
                "Hint: lower the load, or add 'workers: N'."
            )
    return tuple(problems)


class HealthRecords:
    """The arrivals and generator samples among a run's metrics records, fed one at a time."""

    def __init__(self) -> None:
        self.arrivals: list[ArrivalSecond] = []
        self.samples: list[GeneratorSample] = []

    def add(self, record: Mapping[str, Any]) -> None:
        kind = record.get("kind")
        try:
            if kind == "arrivals":
                self.arrivals.append(ArrivalSecond.from_json_dict(record))
            elif kind == "generator":
                self.samples.append(
                    GeneratorSample(
                        wall=float(record["wall"]),
                        cpu_percent=float(record["cpu_percent"]),
                        lag_ms=float(record["lag_ms"]),
                        users=int(record["users"]),
                        process=str(record.get("process", "locust")),
                    )
                )
        except (KeyError, TypeError, ValueError):
            return  # a malformed record is not evidence either way


def load_health(
    model: Literal["closed", "open"],
    metrics: Iterable[Mapping[str, Any]],
    load_started_wall: float | None,
    limits: GeneratorLimits = GeneratorLimits(),
) -> LoadHealth:
    """Arrivals and generator samples from the metrics records, and whether to trust them."""
    found = HealthRecords()
    for record in metrics:
        found.add(record)
    return health_of(model, found, load_started_wall, limits)


def health_of(
    model: Literal["closed", "open"],
    found: HealthRecords,
    load_started_wall: float | None,
    limits: GeneratorLimits = GeneratorLimits(),
) -> LoadHealth:
    """The load's health from the records `found` held."""
    samples = found.samples
    merged = list(merge_arrivals(found.arrivals).values())
    start = load_started_wall or (samples[0].wall if samples else 0.0)
    reasons = generator_problems(samples, limits)
    return LoadHealth(
        model=model,
        planned_journeys=sum(row.planned for row in merged),
        late_starts=sum(row.late for row in merged),
        not_started=sum(row.not_started for row in merged),
        max_start_delay_ms=max((row.max_start_delay_ms for row in merged), default=0.0),
        arrivals=tuple(
            ArrivalRow(
                t_s=row.t_s,
                journey=row.journey,
                planned=row.planned,
                started=row.started,
                late=row.late,
                not_started=row.not_started,
                max_start_delay_ms=row.max_start_delay_ms,
            )
            for row in merged
        ),
        generator=tuple(
            GeneratorSecond(
                t_s=round(sample.wall - start, 3),
                process=sample.process,
                cpu_percent=sample.cpu_percent,
                lag_ms=sample.lag_ms,
                users=sample.users,
            )
            for sample in sorted(samples, key=lambda sample: (sample.process, sample.wall))
        ),
        trusted=not reasons,
        reasons=reasons,
    )
