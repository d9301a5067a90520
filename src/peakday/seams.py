"""Where a run meets the world: the platform, the load generator, Toxiproxy's traffic
counters, the clock, and progress.

`orchestrator.Run` reaches everything outside itself through these; the real ones start
processes and containers, and `tests/unit/orchestrator/test_run.py` passes fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from peakday.faults.traffic import TrafficProbe, toxiproxy_traffic_probe
from peakday.load.runner import Distribution, LocustProcess
from peakday.load.workers import LoadWorkers
from peakday.monitoring.api import PrometheusApi, PrometheusHttp
from peakday.platforms.base import Platform
from peakday.processes.children import ProcessGroup, default_registry_dir
from peakday.results.model import TimelineRow
from peakday.runconfig import RunConfig
from peakday.scoring.manual import ManualStops


class Progress(Protocol):
    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None: ...

    def message(self, text: str) -> None: ...

    # Per-second rows as the Locust plugin settles them (a second may arrive in parts).
    def rows(self, latest: Sequence[TimelineRow]) -> None: ...

    # Whether `rows` shows anything: building the rows reads percentiles from histograms (about
    # 2 ms a second of load), so a progress that shows nothing (--quiet) is not fed them.
    @property
    def wants_rows(self) -> bool: ...


class LoadProcess(Protocol):
    """The load generator as the run sees it (LocustProcess; a fake in unit tests)."""

    @property
    def master_address(self) -> str: ...

    @property
    def log_path(self) -> Path: ...

    def start(self) -> None: ...

    def wait_started(self) -> float:
        """Wall time at which the load started (t = 0)."""
        ...

    def alive(self) -> bool: ...

    def wait_finished(self, timeout_s: float) -> bool: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class LoadRequest:
    """Everything the load generator is started with."""

    processes: ProcessGroup
    config: RunConfig
    plan_path: Path
    env: dict[str, str]
    host: str
    distribution: Distribution
    workers: LoadWorkers | None


def start_locust(request: LoadRequest) -> LoadProcess:
    folder = request.config.folder
    return LocustProcess(
        request.processes,
        folder.path,
        request.config.locustfile,
        request.plan_path,
        folder.metrics,
        request.config.experiment.load.request_timeout,
        request.env,
        host=request.host,
        distribution=request.distribution,
        workers=request.workers,  # None: worker processes here
    )


PlatformFactory = Callable[[RunConfig, ProcessGroup], Platform]


@dataclass(frozen=True)
class RunSeams:
    """Where a run meets the world; unit tests pass fakes for each."""

    make_platform: PlatformFactory
    make_load: Callable[[LoadRequest], LoadProcess] = start_locust
    # Traffic per proxy: Toxiproxy's byte counters from its API address (host:port) and the
    # connections open to each proxy's listen address (proxy name -> host:port).
    make_traffic_probe: Callable[[str, Mapping[str, str]], TrafficProbe] = toxiproxy_traffic_probe
    # The Prometheus HTTP API at a base URL (monitoring: in the experiment).
    make_prometheus_api: Callable[[str], PrometheusApi] = PrometheusHttp
    registry_dir: Callable[[], Path | None] = default_registry_dir
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    say_every_s: float = 1.0
    # Stop buttons pressed on the live dashboard (None: no dashboard, nobody can press one).
    manual_stops: ManualStops | None = None
