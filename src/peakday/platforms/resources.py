"""CPU and memory of each storefront service, sampled once a second into resources.jsonl.

A platform gives a ResourceProbe (cumulative CPU seconds and resident memory per service: /proc
through psutil on local, `docker stats` on docker); the sampler turns two readings into CPU %
(100 = one core busy, as `docker stats` and `top` count) and writes one record per service.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ResourceReading:
    cpu_seconds: float  # cumulative, user + system
    memory_bytes: int


class ResourceProbe(Protocol):
    def read(self) -> Mapping[str, ResourceReading | None]:
        """One reading per service; None for a service that is not running now."""
        ...


def cpu_percent(
    previous: ResourceReading | None, current: ResourceReading, wall_delta_s: float
) -> float | None:
    """CPU % between two readings of one service; None without a usable earlier reading
    (first sample, or the service restarted and its counters began again)."""
    if previous is None or wall_delta_s <= 0 or current.cpu_seconds < previous.cpu_seconds:
        return None
    return round(100.0 * (current.cpu_seconds - previous.cpu_seconds) / wall_delta_s, 1)


def sample_records(
    wall: float,
    previous: Mapping[str, ResourceReading | None],
    current: Mapping[str, ResourceReading | None],
    wall_delta_s: float,
) -> list[dict[str, Any]]:
    """The resources.jsonl records for one sampling instant (pure)."""
    records: list[dict[str, Any]] = []
    for service, reading in current.items():
        if reading is None:
            records.append(
                {"wall": wall, "service": service, "up": False, "cpu_percent": None,
                 "memory_mb": None}
            )  # fmt: skip
            continue
        records.append(
            {
                "wall": wall,
                "service": service,
                "up": True,
                "cpu_percent": cpu_percent(previous.get(service), reading, wall_delta_s),
                "memory_mb": round(reading.memory_bytes / 1e6, 1),
            }
        )
    return records


class ResourceSampler:
    """A daemon thread that reads `probe` every `interval_s` until stopped; never raises."""

    def __init__(
        self,
        probe: ResourceProbe,
        path: Path,
        interval_s: float = SAMPLE_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._probe = probe
        self._path = path
        self._interval_s = interval_s
        self._clock = clock
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peakday-resources", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def _loop(self) -> None:
        previous: Mapping[str, ResourceReading | None] = {}
        previous_wall = self._clock()
        with self._path.open("a", encoding="utf-8") as out:
            while not self._stopping.is_set():
                started = self._clock()
                try:
                    current = self._probe.read()
                except Exception as exc:  # a transient engine error must not end the run
                    log.debug("resource reading failed: %s", exc)
                    current = {}
                wall = self._clock()
                for record in sample_records(wall, previous, current, wall - previous_wall):
                    out.write(json.dumps(record) + "\n")
                out.flush()
                previous, previous_wall = current, wall
                # Keep a steady cadence: a slow reading shortens the wait, never the interval.
                self._stopping.wait(max(0.05, self._interval_s - (self._clock() - started)))


def process_reading(pid: int) -> ResourceReading | None:
    """/proc figures for one process and its children (psutil); None if it is gone or stopped
    by SIGKILL."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        members = [process, *process.children(recursive=True)]
        cpu = 0.0
        memory = 0
        for member in members:
            times = member.cpu_times()
            cpu += times.user + times.system
            memory += member.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return ResourceReading(cpu_seconds=cpu, memory_bytes=memory)
