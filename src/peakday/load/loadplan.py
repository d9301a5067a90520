"""The load plan handed to the Locust subprocess, and the pure shape it follows.

The orchestrator writes a `LoadPlan` as JSON and points `PEAKDAY_LOAD_PLAN` at it; the Locust
plugin reads it back. Pure: no Locust or gevent import, so the orchestrator can use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NamedTuple

from peakday.topology import JOURNEY_CLASSES

if TYPE_CHECKING:  # pydantic stays out of the Locust process, which imports this module
    from peakday.spec.models import Load

PLAN_ENV_VAR: Final = "PEAKDAY_LOAD_PLAN"
"""Environment variable the plugin reads, inside Locust, for the path of the plan JSON."""

REQUEST_TIMEOUT_ENV_VAR: Final = "PEAKDAY_REQUEST_TIMEOUT_S"
"""Read by locustfiles/storefront.py; the plugin sets it from the plan before users start."""


class LoadStage(NamedTuple):
    """Hold `users` (reached at `spawn_rate` users/s) until `until_s` seconds after load start."""

    until_s: float
    users: int
    spawn_rate: float


def _finite(value: float) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _check_stage(index: int, stage: LoadStage, previous_until_s: float) -> None:
    where = f"stage {index} {tuple(stage)!r}"
    if not _finite(stage.until_s) or stage.until_s <= previous_until_s:
        raise ValueError(
            f"{where}: until_s must be a number above the previous stage's {previous_until_s!r}."
        )
    if isinstance(stage.users, bool) or not isinstance(stage.users, int) or stage.users < 0:
        raise ValueError(f"{where}: users must be a whole number of 0 or more.")
    if not _finite(stage.spawn_rate) or stage.spawn_rate <= 0:
        raise ValueError(f"{where}: spawn_rate must be a number above 0.")


@dataclass(frozen=True)
class LoadPlan:
    """Everything the Locust side needs: shape, journey weights, timeouts, where to write metrics.

    `stages` override `users`/`spawn_rate` for their windows (stage i runs from the previous
    stage's until_s to its own); outside them the plan's own `users`/`spawn_rate` apply. The run
    stops by itself at `duration_s`. `weights` maps Locust user class names to weights; when it
    is not empty it is the complete list of classes to run, and a weight of 0 leaves a class out.
    """

    metrics_file: str
    duration_s: float
    users: int
    spawn_rate: float
    stages: tuple[LoadStage, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    request_timeout_s: float = 10.0
    flush_interval_s: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(LoadStage(*stage) for stage in self.stages))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        if not isinstance(self.metrics_file, str) or not self.metrics_file:
            raise ValueError(f"metrics_file must be a non-empty path, got {self.metrics_file!r}.")
        for name in ("duration_s", "spawn_rate", "request_timeout_s", "flush_interval_s"):
            value = getattr(self, name)
            if not _finite(value) or value <= 0:
                raise ValueError(f"{name} must be a number above 0, got {value!r}.")
        if isinstance(self.users, bool) or not isinstance(self.users, int) or self.users < 0:
            raise ValueError(f"users must be a whole number of 0 or more, got {self.users!r}.")
        previous_until_s = 0.0
        for index, stage in enumerate(self.stages):
            _check_stage(index, stage, previous_until_s)
            previous_until_s = stage.until_s
        for name, weight in self.weights.items():
            if not _finite(weight) or weight < 0:
                raise ValueError(
                    f"weight of user class {name!r} must be 0 or more, got {weight!r}."
                )
        if self.weights and not any(weight > 0 for weight in self.weights.values()):
            raise ValueError(
                f"at least one user class needs a weight above 0, got {dict(self.weights)!r}."
            )

    def to_json(self) -> str:
        return json.dumps(
            {
                "metrics_file": self.metrics_file,
                "duration_s": self.duration_s,
                "users": self.users,
                "spawn_rate": self.spawn_rate,
                "stages": [stage._asdict() for stage in self.stages],
                "weights": dict(self.weights),
                "request_timeout_s": self.request_timeout_s,
                "flush_interval_s": self.flush_interval_s,
            },
            indent=2,
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        """Parse and validate; every problem is a ValueError saying which key and value."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"the load plan is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise ValueError(f"the load plan must be a JSON object, got {data!r}.")
        unknown = sorted(set(data) - _PLAN_KEYS)
        if unknown:
            raise ValueError(
                f"the load plan has unknown keys {unknown!r}; known: {sorted(_PLAN_KEYS)!r}."
            )
        stages_data = data.pop("stages", [])
        if not isinstance(stages_data, list):
            raise ValueError(f"stages must be a list, got {stages_data!r}.")
        stages = []
        for index, stage in enumerate(stages_data):
            if not isinstance(stage, dict) or set(stage) != set(LoadStage._fields):
                raise ValueError(
                    f"stage {index} must be an object with keys {list(LoadStage._fields)!r}, "
                    f"got {stage!r}."
                )
            stages.append(LoadStage(**stage))
        weights = data.pop("weights", {})
        if not isinstance(weights, dict):
            raise ValueError(f"weights must be an object of class name to number, got {weights!r}.")
        try:
            return cls(stages=tuple(stages), weights=weights, **data)
        except TypeError as error:  # a required key is missing
            raise ValueError(f"the load plan is incomplete: {error}") from error


_PLAN_KEYS: Final = frozenset(
    {
        "metrics_file",
        "duration_s",
        "users",
        "spawn_rate",
        "stages",
        "weights",
        "request_timeout_s",
        "flush_interval_s",
    }
)


def plan_from_load(load: Load, metrics_file: str) -> LoadPlan:
    """The plan for an experiment's `load:` section; journeys become Locust user class weights."""
    return LoadPlan(
        metrics_file=metrics_file,
        duration_s=float(load.duration),
        users=int(load.users),
        spawn_rate=float(load.spawn_rate),
        stages=tuple(
            LoadStage(float(stage.until), int(stage.users), float(stage.spawn_rate))
            for stage in load.stages
        ),
        weights={JOURNEY_CLASSES[journey]: float(w) for journey, w in load.journeys.items()},
        request_timeout_s=float(load.request_timeout),
    )


def target_at(plan: LoadPlan, elapsed_s: float) -> tuple[int, float] | None:
    """(users, spawn_rate) for `elapsed_s` seconds after load start; None once the run is over."""
    if elapsed_s >= plan.duration_s:
        return None
    for stage in plan.stages:
        if elapsed_s < stage.until_s:
            return (stage.users, stage.spawn_rate)
    return (plan.users, plan.spawn_rate)


def plan_user_weights(plan: LoadPlan, available: Iterable[str]) -> dict[str, float] | None:
    """Weight of each user class to run (zero-weight classes left out), or None to leave the
    locustfile's own weights alone. Raises ValueError when the plan names a class that is absent.
    """
    if not plan.weights:
        return None
    available_names = list(available)
    missing = sorted(set(plan.weights) - set(available_names))
    if missing:
        raise ValueError(
            f"the load plan weighs user classes {missing!r} that the locustfiles do not define. "
            f"Hint: the locustfiles define {sorted(available_names)!r}."
        )
    return {name: plan.weights[name] for name in available_names if plan.weights.get(name, 0) > 0}
