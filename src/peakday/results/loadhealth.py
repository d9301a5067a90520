"""How far the run's load can be trusted: open-model arrivals and the generator's own health."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArrivalRow(_Model):
    """Open model: journeys of one class planned for one second (by planned start time)."""

    t_s: int
    journey: str
    planned: int
    started: int
    late: int  # started more than the tolerance after their planned time
    not_started: int  # still waiting for a free user when the load ended
    max_start_delay_ms: float


class GeneratorSecond(_Model):
    """One Locust process in one second: CPU use and how late its event loop woke."""

    t_s: float  # since load start
    process: str  # "locust", or "master" / "worker-<index>" when distributed
    cpu_percent: float
    lag_ms: float
    users: int


class LoadHealth(_Model):
    model: Literal["closed", "open"] = "closed"
    planned_journeys: int = 0
    late_starts: int = 0
    not_started: int = 0
    max_start_delay_ms: float = 0.0
    arrivals: tuple[ArrivalRow, ...] = ()
    generator: tuple[GeneratorSecond, ...] = ()
    trusted: bool = True  # False: the generator was saturated; the run is inconclusive
    reasons: tuple[str, ...] = ()  # why it is not trusted, one sentence each
