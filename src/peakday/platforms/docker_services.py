"""Service faults and resource readings for the docker platform's containers."""

from __future__ import annotations

from collections.abc import Mapping

from peakday.platforms.docker_client import ContainerEngine
from peakday.platforms.resources import ResourceReading

SERVICE_STOP_GRACE_S = 2


class DockerServices:
    """ServiceController through the Docker SDK (kill, stop, start, pause, unpause, restart)."""

    def __init__(self, engine: ContainerEngine, containers: Mapping[str, str]) -> None:
        self._engine = engine
        self._containers = containers

    def _act(self, service: str, action: str) -> None:
        if service not in self._containers:
            raise KeyError(f"{service!r} is not a container of this run")
        self._engine.act(self._containers[service], action, grace_s=SERVICE_STOP_GRACE_S)

    def kill(self, service: str) -> None:
        self._act(service, "kill")

    def stop(self, service: str) -> None:
        self._act(service, "stop")

    def start(self, service: str) -> None:
        self._act(service, "start")

    def pause(self, service: str) -> None:
        self._act(service, "pause")

    def unpause(self, service: str) -> None:
        self._act(service, "unpause")

    def restart(self, service: str) -> None:
        self._act(service, "restart")


class DockerResourceProbe:
    """ResourceProbe from `docker stats` one-shot readings."""

    def __init__(self, engine: ContainerEngine, containers: Mapping[str, str]) -> None:
        self._engine = engine
        self._containers = containers

    def read(self) -> Mapping[str, ResourceReading | None]:
        # The engine answers a one-shot reading only at its next collection (up to 1 s), so
        # containers are read side by side.
        from concurrent.futures import ThreadPoolExecutor

        services = list(self._containers)
        with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
            found = list(pool.map(lambda s: self._engine.stats(self._containers[s]), services))
        return {
            service: None
            if stats is None
            else ResourceReading(stats.cpu_total_ns / 1e9, stats.memory_bytes)
            for service, stats in zip(services, found, strict=True)
        }
