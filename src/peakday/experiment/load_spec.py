"""The `load:` section of an experiment: closed or open model, shape, connections, workers (pure).

Closed model: `users` with think times (Locust's own model). Open model: `arrival_rate` journeys
per second started on time whatever the response times, on a pool of `max_concurrency` users.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

from peakday.experiment.units import SpecValueError, parse_duration_s

Seconds = Annotated[float, BeforeValidator(parse_duration_s), AllowInfNan(False)]
WholeNumber = Annotated[int, Strict()]
Number = Annotated[float, Strict(), AllowInfNan(False)]
Flag = Annotated[bool, Strict()]
Journey = Literal["shopper", "merchant", "pos"]
ConnectionMode = Literal["keep-alive", "per-journey", "per-request"]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_RATE_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_RATE_SECONDS |= {"h": 3600, "hour": 3600}
RATE_HINT = "Write journeys per second as a number, or with a unit such as '40/s' or '2400/min'."


def parse_rate_per_s(value: object) -> float:
    """40, 12.5, '40/s', '2400/min' or '10000/h' -> journeys per second."""
    if isinstance(value, bool):
        raise SpecValueError(f"Expected a rate, got {value!r}.", RATE_HINT)
    if isinstance(value, int | float):
        rate = float(value)
    elif isinstance(value, str) and (match := _RATE.match(value)):
        rate = float(match.group(1)) / _RATE_SECONDS[match.group(2)]
    else:
        raise SpecValueError(f"Expected a rate, got {value!r}.", RATE_HINT)
    if not math.isfinite(rate) or rate <= 0:
        raise SpecValueError(f"A rate must be above 0, got {value!r}.", RATE_HINT)
    return rate


Rate = Annotated[float, BeforeValidator(parse_rate_per_s)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _default_journeys() -> dict[Journey, float]:
    return {"shopper": 6.0, "merchant": 2.0, "pos": 2.0}


class Stage(_Model):
    """Closed model: hold `users` (reached at `spawn_rate`) until `until` seconds after start."""

    until: Seconds
    users: WholeNumber = Field(ge=0)
    spawn_rate: Number = Field(gt=0)


class ShapeStage(_Model):
    """Reach `target` (users, or journeys per second in the open model) by `until`."""

    until: Seconds
    target: Number = Field(ge=0)


class StagesShape(_Model):
    """From the base level, ramp (or step, with `ramp: false`) to each stage's target in turn."""

    kind: Literal["stages"]
    stages: tuple[ShapeStage, ...] = Field(min_length=1)
    ramp: Flag = True


class SpikeShape(_Model):
    """The base level, multiplied by `multiple` from `at` for `duration` (ramping over `ramp`)."""

    kind: Literal["spike"]
    at: Seconds
    duration: Seconds = Field(gt=0)
    multiple: Number = Field(gt=0)
    ramp: Seconds = 0.0


class PeakDayShape(_Model):
    """A day's traffic compressed into the run, its busiest moment at `peak_at`.

    The busiest moment reaches `peak_multiple` times the base level (the base is last year's
    peak, say, and 1.5 rehearses a peak half as big again). `curve`: the day's relative traffic
    at evenly spaced times from midnight (default: a retail day, 24 hourly points).
    """

    kind: Literal["peak-day"]
    peak_at: Seconds
    peak_multiple: Number = Field(default=1.0, gt=0)
    curve: tuple[Number, ...] | None = Field(default=None, min_length=2)

    @field_validator("curve")
    @classmethod
    def _curve_has_a_peak(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (min(value) < 0 or max(value) <= 0):
            raise SpecValueError(
                f"A day curve needs values of 0 or more and at least one above 0, got {value!r}.",
                "Give relative traffic per hour, such as [0.2, 0.1, ..., 1.0, 0.6].",
            )
        return value


Shape = Annotated[StagesShape | SpikeShape | PeakDayShape, Field(discriminator="kind")]


class Load(_Model):
    users: WholeNumber | None = Field(default=None, ge=1)
    spawn_rate: Number = Field(default=10.0, gt=0)
    arrival_rate: Rate | None = None
    max_concurrency: WholeNumber | None = Field(default=None, ge=1)
    duration: Seconds = Field(gt=0)
    warmup: Seconds = 0.0
    stages: tuple[Stage, ...] = ()
    shape: Shape | None = None
    journeys: dict[Journey, Number] = Field(default_factory=_default_journeys)
    request_timeout: Seconds = Field(default=10.0, gt=0)
    connections: ConnectionMode = "per-journey"
    late_start_tolerance: Seconds = 0.02
    workers: WholeNumber = Field(default=0, ge=0)
    external_workers: WholeNumber = Field(default=0, ge=0)
    master_bind: str | None = Field(default=None, pattern=r"^[^\s:]+:\d{1,5}$")

    @property
    def model(self) -> Literal["closed", "open"]:
        return "open" if self.arrival_rate is not None else "closed"

    @field_validator("master_bind")
    @classmethod
    def _port_in_range(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= int(value.rpartition(":")[2]) <= 65535:
            raise SpecValueError(
                f"{value!r} has a port outside 1-65535.",
                "Write HOST:PORT, e.g. '0.0.0.0:5557' (Locust's default master port).",
            )
        return value

    @field_validator("journeys")
    @classmethod
    def _weights_positive(cls, value: dict[Journey, float]) -> dict[Journey, float]:
        example = "Give journeys weights such as 'shopper: 6', 'merchant: 2' and 'pos: 2'."
        if not value:
            raise SpecValueError("No journey is named.", example)
        for journey, weight in value.items():
            if weight < 0:
                raise SpecValueError(
                    f"The weight of journey {journey!r} cannot be negative, got {weight!r}.",
                    "Use 0 to turn a journey off.",
                )
        if sum(value.values()) <= 0:
            raise SpecValueError("Every journey has weight 0, so no user would run.", example)
        return value

    @model_validator(mode="after")
    def _one_model(self) -> Load:
        if (self.users is None) == (self.arrival_rate is None):
            raise SpecValueError(
                "Give either 'users' (closed model) or 'arrival_rate' (open model), not "
                + ("both." if self.users is not None else "neither."),
                "Use 'arrival_rate: 40/s' with 'max_concurrency: 200' to start journeys on "
                "schedule whatever the response times, or 'users: 20' for Locust's own model.",
            )
        if self.arrival_rate is not None and self.max_concurrency is None:
            raise SpecValueError(
                "The open model needs 'max_concurrency': how many users may be mid-journey.",
                "Allow for the peak rate times the slowest journey you expect, such as "
                "'max_concurrency: 200' for 40/s and journeys of up to 5 s.",
            )
        if self.arrival_rate is not None and self.stages:
            raise SpecValueError(
                "'stages' hold user counts, which the open model does not use.",
                "Use 'shape: {kind: stages, stages: [{until: 30s, target: 80}]}' to ramp the rate.",
            )
        if self.stages and self.shape is not None:
            raise SpecValueError(
                "Give 'stages' or 'shape', not both.",
                "Move the stages into 'shape: {kind: stages, ...}' with 'target' for users.",
            )
        if self.external_workers and self.master_bind is None:
            raise SpecValueError(
                "'external_workers' need 'master_bind' so that they can reach the master.",
                "Add 'master_bind: 0.0.0.0:5557' (the address workers connect to).",
            )
        return self
