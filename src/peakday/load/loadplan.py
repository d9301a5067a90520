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
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from peakday.load.shapes import (
    RETAIL_DAY_CURVE,
    Point,
    constant_points,
    level_at,
    peak_day_points,
    spike_points,
    stages_points,
)
from peakday.topology import JOURNEY_CLASSES

if TYPE_CHECKING:  # pydantic stays out of the Locust process, which imports this module
    from peakday.experiment.load_spec import Load

PLAN_ENV_VAR: Final = "PEAKDAY_LOAD_PLAN"
"""Environment variable the plugin reads, inside Locust, for the path of the plan JSON."""

REQUEST_TIMEOUT_ENV_VAR: Final = "PEAKDAY_REQUEST_TIMEOUT_S"
"""Read by locustfiles/storefront.py; the plugin sets it from the plan before users start."""

CONNECTIONS_ENV_VAR: Final = "PEAKDAY_CONNECTIONS"
"""Read by locustfiles/storefront.py: keep-alive, per-journey or per-request."""

LoadModel = Literal["closed", "open"]
ConnectionMode = Literal["keep-alive", "per-journey", "per-request"]
CONNECTION_MODES: Final = ("keep-alive", "per-journey", "per-request")


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
    # The open model starts journeys at the rate `level_points` gives (journeys/s) on a pool of
    # `max_concurrency` users; the closed model follows `level_points` as a user count when given.
    model: LoadModel = "closed"
    level_points: tuple[Point, ...] = ()
    max_concurrency: int = 0
    connections: ConnectionMode = "keep-alive"
    late_start_tolerance_ms: float = 20.0
    workers: int = 0  # 0: one Locust process; N: a master and N workers share the load

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(LoadStage(*stage) for stage in self.stages))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(
            self, "level_points", tuple((float(t), float(v)) for t, v in self.level_points)
        )
        self._check_open_model()
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

    def _check_open_model(self) -> None:
        if self.model not in ("closed", "open"):
            raise ValueError(f"model must be 'closed' or 'open', got {self.model!r}.")
        if self.connections not in CONNECTION_MODES:
            raise ValueError(
                f"connections must be one of {CONNECTION_MODES!r}, got {self.connections!r}."
            )
        for name in ("max_concurrency", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}.")
        if not _finite(self.late_start_tolerance_ms) or self.late_start_tolerance_ms < 0:
            raise ValueError(
                f"late_start_tolerance_ms must be 0 or more, got {self.late_start_tolerance_ms!r}."
            )
        previous_t = 0.0
        for t_s, level in self.level_points:
            if not (_finite(t_s) and _finite(level)) or t_s < previous_t or level < 0:
                raise ValueError(
                    f"level_points must be (time, level) pairs in time order with levels of 0 "
                    f"or more, got {self.level_points!r}."
                )
            previous_t = t_s
        if self.model == "open" and (not self.level_points or self.max_concurrency < 1):
            raise ValueError(
                "the open model needs level_points (journeys per second) and a max_concurrency "
                f"of 1 or more, got {self.level_points!r} and {self.max_concurrency!r}."
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
                "model": self.model,
                "level_points": [list(point) for point in self.level_points],
                "max_concurrency": self.max_concurrency,
                "connections": self.connections,
                "late_start_tolerance_ms": self.late_start_tolerance_ms,
                "workers": self.workers,
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
        points = data.pop("level_points", [])
        if not isinstance(points, list) or not all(
            isinstance(point, list) and len(point) == 2 for point in points
        ):
            raise ValueError(f"level_points must be a list of [time, level] pairs, got {points!r}.")
        try:
            return cls(
                stages=tuple(stages),
                weights=weights,
                level_points=tuple((point[0], point[1]) for point in points),
                **data,
            )
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
        "model",
        "level_points",
        "max_concurrency",
        "connections",
        "late_start_tolerance_ms",
        "workers",
    }
)


def plan_from_load(
    load: Load, metrics_file: str, user_classes: Mapping[str, float] | None = None
) -> LoadPlan:
    """The plan for an experiment's `load:` section.

    `user_classes` None: the storefront, whose journeys become Locust user class weights. A
    mapping: the user's own locustfile (`platform: external`), its classes weighed as given, or,
    when it is empty, with the locustfile's own classes and weights.
    """
    weights = (
        {JOURNEY_CLASSES[journey]: float(w) for journey, w in load.journeys.items()}
        if user_classes is None
        else {name: float(weight) for name, weight in user_classes.items()}
    )
    open_model = load.arrival_rate is not None
    base = float(load.arrival_rate) if load.arrival_rate is not None else float(load.users or 0)
    return LoadPlan(
        metrics_file=metrics_file,
        duration_s=float(load.duration),
        users=int(load.users or 0),
        spawn_rate=float(load.spawn_rate),
        stages=tuple(
            LoadStage(float(stage.until), int(stage.users), float(stage.spawn_rate))
            for stage in load.stages
        ),
        weights=weights,
        request_timeout_s=float(load.request_timeout),
        model="open" if open_model else "closed",
        level_points=shape_points(load, base) if open_model or load.shape else (),
        max_concurrency=int(load.max_concurrency or 0),
        connections=load.connections,
        late_start_tolerance_ms=float(load.late_start_tolerance) * 1000.0,
        workers=int(load.workers + load.external_workers),
    )


def shape_points(load: Load, base: float) -> tuple[Point, ...]:
    """The load's level over time (users or journeys/s) as piecewise-linear points."""
    duration_s = float(load.duration)
    shape = load.shape
    if shape is None:
        return constant_points(base, duration_s)
    if shape.kind == "stages":
        stages = [(float(stage.until), float(stage.target)) for stage in shape.stages]
        return stages_points(base, stages, duration_s, ramp=shape.ramp)
    if shape.kind == "spike":
        return spike_points(base, shape.at, shape.duration, shape.multiple, shape.ramp, duration_s)
    curve = shape.curve or RETAIL_DAY_CURVE
    return peak_day_points(base * shape.peak_multiple, shape.peak_at, duration_s, curve)


def target_at(plan: LoadPlan, elapsed_s: float) -> tuple[int, float] | None:
    """(users, spawn_rate) for `elapsed_s` seconds after load start; None once the run is over.

    The open model holds its whole pool of users, spawned within about a tenth of a second, and
    paces journeys itself; the closed model follows its level points, else its stages."""
    if elapsed_s >= plan.duration_s:
        return None
    if plan.model == "open":
        return (plan.max_concurrency, max(plan.spawn_rate, 10.0 * plan.max_concurrency))
    if plan.level_points:
        return (round(level_at(plan.level_points, elapsed_s)), plan.spawn_rate)
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
