"""Open-model pacing inside a Locust process: start journeys at the planned rate (gevent side).

A pacer greenlet hands out journey tickets at their planned times, one queue per user class;
each user takes a ticket before each journey (in `on_start` and in `wait_time`). When no user
is free a ticket waits, and the journey it starts is late: its requests are charged the delay
(corrected latency), and the late start is counted. Tickets still waiting at the end are counted
as not started. Runs only in the Locust process: it imports gevent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import gevent
import gevent.queue
from locust import User
from locust.exception import StopUser
from locust.user.users import (  # type: ignore[attr-defined]
    LOCUST_STATE_RUNNING,
    LOCUST_STATE_WAITING,
)

from peakday.load.loadplan import LoadPlan
from peakday.load.records import ArrivalRecorder
from peakday.load.shapes import WeightedRotation, arrival_offsets


class ArrivalPacer:
    """Plans journey starts for one generator process: slot `slot` of `slots` processes."""

    def __init__(
        self,
        plan: LoadPlan,
        weights: Mapping[str, float],
        recorder: ArrivalRecorder,
        slot: int = 0,
        slots: int = 1,
    ) -> None:
        self._plan = plan
        self._weights = dict(weights)
        self._recorder = recorder
        self._slot = slot
        self._slots = max(1, slots)
        self._queues: dict[str, gevent.queue.Queue[tuple[float, int]]] = {
            name: gevent.queue.Queue() for name in self._weights
        }
        self._delays: dict[Any, float] = {}  # user greenlet -> how late its journey started (s)
        self._load_start_wall = 0.0
        self._loop: gevent.Greenlet | None = None
        self._stopped = False

    def start(self, load_start_wall: float) -> None:
        if self._loop is None:
            self._load_start_wall = load_start_wall
            self._loop = gevent.spawn(self._pace)

    def _pace(self) -> None:
        rotation = WeightedRotation(self._weights)
        rotated = 0
        journey_index = self._slot
        for offset_s in arrival_offsets(self._plan.level_points, self._slots, self._slot):
            if offset_s >= self._plan.duration_s:
                return
            name = ""
            while rotated <= journey_index:  # every process walks the same class sequence
                name = rotation.next()
                rotated += 1
            journey_index += self._slots
            due_wall = self._load_start_wall + offset_s
            gevent.sleep(max(0.0, due_wall - time.time()))
            t_s = math.floor(offset_s)
            self._recorder.planned(t_s, name)
            self._queues[name].put((due_wall, t_s))

    def take_ticket(self, user: User) -> None:
        """Block until this user's class has a journey due; note how late it starts.

        Call it only in Locust's waiting state (in wait_time, or as `_ticket_first` sets it)."""
        name = type(user).__name__
        queue = self._queues.get(name)
        if queue is None:  # a class the plan does not pace: run it unpaced
            return
        if self._stopped:
            raise StopUser()
        # Callers wait in Locust's "waiting" state, so stopping the run kills them right here;
        # no polling (a pool of thousands of users would otherwise wake thousands of times).
        due_wall, t_s = queue.get()
        delay_s = max(0.0, time.time() - due_wall)
        delay_ms = delay_s * 1000.0
        self._recorder.started(t_s, name, delay_ms, delay_ms > self._plan.late_start_tolerance_ms)
        self._delays[gevent.getcurrent()] = delay_s

    def current_delay_s(self) -> float:
        """How late the journey running in the calling greenlet started (0 outside journeys)."""
        return self._delays.get(gevent.getcurrent(), 0.0)

    def stop(self) -> None:
        """Stop planning; every ticket still waiting is counted as not started."""
        self._stopped = True
        if self._loop is not None:
            self._loop.kill(block=True)
        for name, queue in self._queues.items():
            while not queue.empty():
                _, t_s = queue.get_nowait()
                self._recorder.not_started(t_s, name)

    def install(self, user_classes: list[type[User]]) -> None:
        """Make each paced class take a ticket before its first and every later journey."""
        for user_class in user_classes:
            if user_class.__name__ not in self._queues:
                continue
            user_class.on_start = _ticket_first(self, user_class.on_start)  # type: ignore[method-assign,assignment]
            user_class.wait_time = _ticket_wait(self)


def _ticket_first(pacer: ArrivalPacer, on_start: Callable[[User], None]) -> Callable[[User], None]:
    def on_start_paced(user: User) -> None:
        # Waiting for the first journey is waiting, not work: a stopping run may end it at once
        # (Locust logs an exception raised from on_start as an error).
        user._state = LOCUST_STATE_WAITING
        try:
            pacer.take_ticket(user)
        finally:
            user._state = LOCUST_STATE_RUNNING
        on_start(user)

    return on_start_paced


def _ticket_wait(pacer: ArrivalPacer) -> Callable[[User], float]:
    def wait_for_ticket(user: User) -> float:
        pacer.take_ticket(user)
        return 0.0

    return wait_for_ticket
