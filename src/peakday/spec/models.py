"""Typed experiment models (pure). Shape checks live here; cross-references in validate.py."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
)

from peakday.spec.units import (
    Metric,
    Objective,
    SpecValueError,
    parse_duration_s,
    parse_objective,
)

Seconds = Annotated[float, BeforeValidator(parse_duration_s), AllowInfNan(False)]
# Strict so YAML's yes/no/on/off (booleans) and quoted numbers are reported, not coerced to 1/0.
WholeNumber = Annotated[int, Strict()]
Number = Annotated[float, Strict(), AllowInfNan(False)]

ToxicType = Literal[
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "down"
]
Phase = Literal["baseline", "fault", "recovery", "all"]
Journey = Literal["shopper", "merchant", "pos"]
Platform = Literal["local", "docker", "external"]

# Attributes each Toxiproxy toxic accepts (units as Toxiproxy documents them).
TOXIC_ATTRIBUTES: dict[str, frozenset[str]] = {
    "latency": frozenset({"latency", "jitter"}),  # ms
    "bandwidth": frozenset({"rate"}),  # KB/s
    "slow_close": frozenset({"delay"}),  # ms
    "timeout": frozenset({"timeout"}),  # ms, 0 = hold forever
    "reset_peer": frozenset({"timeout"}),  # ms
    "slicer": frozenset({"average_size", "size_variation", "delay"}),  # bytes, bytes, us
    "limit_data": frozenset({"bytes"}),
    "down": frozenset(),  # the proxy is disabled; not a toxic in Toxiproxy's API
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _default_journeys() -> dict[Journey, float]:
    return {"shopper": 6.0, "merchant": 2.0, "pos": 2.0}


class Stage(_Model):
    """Hold `users` (reached at `spawn_rate`) until `until` seconds after load start."""

    until: Seconds
    users: WholeNumber = Field(ge=0)
    spawn_rate: Number = Field(gt=0)


class Load(_Model):
    users: WholeNumber = Field(ge=1)
    spawn_rate: Number = Field(gt=0)
    duration: Seconds = Field(gt=0)
    warmup: Seconds = 0.0
    stages: tuple[Stage, ...] = ()
    journeys: dict[Journey, Number] = Field(default_factory=_default_journeys)
    request_timeout: Seconds = Field(default=10.0, gt=0)

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


class Fault(_Model):
    name: str | None = None
    at: Seconds
    duration: Seconds = Field(gt=0)
    proxy: str
    toxic: ToxicType
    attributes: dict[str, Number] = Field(default_factory=dict)
    stream: Literal["downstream", "upstream"] = "downstream"
    toxicity: Number = Field(default=1.0, ge=0.0, le=1.0)

    @property
    def end(self) -> float:
        return self.at + self.duration

    @property
    def label(self) -> str:
        return self.name or f"{self.toxic}@{self.proxy}"


class Slo(_Model):
    name: str
    request: str
    metric: Metric
    objective: str
    phase: Phase = "all"

    @field_validator("objective")
    @classmethod
    def _objective_readable(cls, value: str, info: ValidationInfo) -> str:
        metric = info.data.get("metric")
        if metric is not None:
            parse_objective(value, metric)
        return value

    @property
    def parsed_objective(self) -> Objective:
        return parse_objective(self.objective, self.metric)


class Experiment(_Model):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    platform: Platform = "local"
    load: Load
    faults: tuple[Fault, ...] = ()
    slos: tuple[Slo, ...] = ()
