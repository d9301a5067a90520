"""Service-level faults Toxiproxy cannot make, held by each service while they are switched on.

A `FaultBoard` is the one place a service asks "should this request fail, or wait?"; the admin
app (admin.py) switches misbehaviours on and off. The decisions are pure functions of the
active misbehaviours and a random draw, so they are tested without HTTP.

Behaviours and where they act:
    errors             every business endpoint of the service answers `status` (fraction of calls)
    login_errors       auth POST /login only: token issuance fails, introspection still works
    introspect_errors  auth POST /introspect only: checks of existing sessions fail
    slow_user_store    auth's user-store query (the account lookup behind /login) takes
                       `delay_ms` +- `jitter_ms` longer: the 2020 slow-query incident
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

BehaviourName = Literal["errors", "login_errors", "introspect_errors", "slow_user_store"]
BEHAVIOURS: Final[tuple[BehaviourName, ...]] = (
    "errors",
    "login_errors",
    "introspect_errors",
    "slow_user_store",
)
# Which behaviours each service understands; the admin endpoint refuses the others.
SERVICE_BEHAVIOURS: Final[Mapping[str, frozenset[BehaviourName]]] = {
    "auth": frozenset(BEHAVIOURS),
    "checkout": frozenset({"errors"}),
    "labels": frozenset({"errors"}),
}
# Statuses an injected error may have: the ones a struggling service really answers with.
ERROR_STATUSES: Final[frozenset[int]] = frozenset({429, 500, 502, 503, 504})
# Request points a service checks; `errors` covers every point of its service.
Point = Literal["login", "introspect", "checkout", "orders", "labels"]
_POINTS_OF: Final[Mapping[BehaviourName, frozenset[Point]]] = {
    "errors": frozenset({"login", "introspect", "checkout", "orders", "labels"}),
    "login_errors": frozenset({"login"}),
    "introspect_errors": frozenset({"introspect"}),
    "slow_user_store": frozenset(),
}


@dataclass(frozen=True)
class Misbehaviour:
    behaviour: BehaviourName
    status: int = 503
    fraction: float = 1.0  # of requests (errors) or queries (slow_user_store) affected
    delay_ms: float = 0.0
    jitter_ms: float = 0.0


def injected_status(active: Mapping[str, Misbehaviour], point: Point, draw: float) -> int | None:
    """The status to fail a request at `point` with, or None; `draw` is uniform in [0, 1).

    With several matching misbehaviours the first (by fault id) that hits wins, each drawing
    against its own fraction from the same `draw`.
    """
    for fault_id in sorted(active):
        misbehaviour = active[fault_id]
        if point in _POINTS_OF[misbehaviour.behaviour] and draw < misbehaviour.fraction:
            return misbehaviour.status
    return None


def user_store_delay_s(active: Mapping[str, Misbehaviour], draw: float, spread: float) -> float:
    """Extra seconds one user-store query takes; `spread` in [-1, 1] picks within the jitter."""
    delay_ms = 0.0
    for misbehaviour in active.values():
        if misbehaviour.behaviour == "slow_user_store" and draw < misbehaviour.fraction:
            delay_ms += max(0.0, misbehaviour.delay_ms + spread * misbehaviour.jitter_ms)
    return delay_ms / 1000.0


class FaultBoard:
    """The misbehaviours active in one service process; safe to use from any thread."""

    def __init__(self, service: str, rng: random.Random | None = None) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._active: dict[str, Misbehaviour] = {}
        self._rng = rng or random.Random()
        self.injected = 0  # requests failed or slowed on purpose, for the admin status

    def accepts(self, behaviour: BehaviourName) -> bool:
        return behaviour in SERVICE_BEHAVIOURS.get(self.service, frozenset())

    def put(self, fault_id: str, misbehaviour: Misbehaviour) -> None:
        with self._lock:
            self._active[fault_id] = misbehaviour

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            return self._active.pop(fault_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def active(self) -> dict[str, Misbehaviour]:
        with self._lock:
            return dict(self._active)

    def status_for(self, point: Point) -> int | None:
        """The status to answer this request with, or None to serve it normally."""
        with self._lock:
            if not self._active:
                return None
            status = injected_status(self._active, point, self._rng.random())
            if status is not None:
                self.injected += 1
            return status

    def user_store_delay_s(self) -> float:
        with self._lock:
            if not self._active:
                return 0.0
            delay = user_store_delay_s(
                self._active, self._rng.random(), self._rng.uniform(-1.0, 1.0)
            )
            if delay > 0:
                self.injected += 1
            return delay
