"""Runs Locust in its own processes (gevent never enters the orchestrator) and watches them.

One process by default; with workers, a master (which shapes the load and writes the metrics
file) and N local worker processes, plus any external workers the master waits for.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.platforms.processes import (
    ManagedProcess,
    ProcessGroup,
    free_loopback_ports,
    wait_exit,
)
from peakday.platforms.waiting import tail
from peakday.results.eventlog import read_jsonl

START_TIMEOUT_S = 30.0


def plugin_path() -> Path:
    return Path(__file__).with_name("locust_plugin.py")


def stop_timeout_s(request_timeout_s: float) -> int:
    """Seconds Locust lets in-flight requests finish at the end, so each one is recorded."""
    return math.ceil(request_timeout_s) + 1


@dataclass(frozen=True)
class Distribution:
    """Locust's distributed mode: `local_workers` started here, `external_workers` expected from
    elsewhere, the master listening on `bind_host:bind_port`."""

    local_workers: int = 0
    external_workers: int = 0
    bind_host: str = "127.0.0.1"
    bind_port: int = 0  # 0: pick a free loopback port

    @property
    def expected_workers(self) -> int:
        return self.local_workers + self.external_workers

    @property
    def distributed(self) -> bool:
        return self.expected_workers > 0


def _locustfiles(locustfile: Path) -> str:
    for path in (locustfile, plugin_path()):
        if "," in str(path):
            raise EnvironmentProblem(
                f"Locust splits -f on commas, so it cannot load {str(path)!r}."
            )
    return f"{locustfile.resolve()},{plugin_path().resolve()}"


def locust_argv(
    locustfile: Path,
    request_timeout_s: float,
    host: str,
    csv_prefix: Path,
    master: tuple[str, int, int] | None = None,
) -> list[str]:
    """The Locust command line (single process, or the master: bind host, port, workers).

    No -u/-r/-t: the plugin's load shape sets users and ends the run (Locust 2.47 starts the -t
    timer only after a shape finishes, so it is no safety bound; the orchestrator's wall-clock
    limit is)."""
    argv = [
        sys.executable, "-m", "locust",
        "-f", _locustfiles(locustfile),
        "--headless",
        "--host", host,
        "--stop-timeout", str(stop_timeout_s(request_timeout_s)),
        "--exit-code-on-error", "0",
        "--only-summary",
        "--csv", str(csv_prefix.resolve()),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    if master is not None:
        bind_host, bind_port, workers = master
        argv += [
            "--master",
            "--master-bind-host", bind_host,
            "--master-bind-port", str(bind_port),
            "--expect-workers", str(workers),
            "--expect-workers-max-wait", str(int(START_TIMEOUT_S)),
        ]  # fmt: skip
    return argv


def worker_argv(locustfile: Path, master_port: int, master_host: str = "127.0.0.1") -> list[str]:
    """A local worker; the master sends it the plan once it connects."""
    return [
        sys.executable, "-m", "locust",
        "-f", _locustfiles(locustfile),
        "--worker",
        "--master-host", master_host,
        "--master-port", str(master_port),
        "--loglevel", "WARNING",
    ]  # fmt: skip


class LocustProcess:
    def __init__(
        self,
        processes: ProcessGroup,
        run_dir: Path,
        locustfile: Path,
        plan_path: Path,
        metrics_path: Path,
        request_timeout_s: float,
        env: Mapping[str, str],
        host: str,
        distribution: Distribution = Distribution(),
    ) -> None:
        self._processes = processes
        self._run_dir = run_dir
        self._locustfile = locustfile
        self._plan_path = plan_path
        self._metrics_path = metrics_path
        self._request_timeout_s = request_timeout_s
        self._env = env
        self._host = host
        self._distribution = distribution
        self._child: ManagedProcess | None = None
        self._workers: list[ManagedProcess] = []

    def start(self) -> None:
        if not self._locustfile.is_file():
            raise EnvironmentProblem(
                f"The locustfile {str(self._locustfile)!r} does not exist. "
                "Hint: run peakday from the project folder or set load.locustfile."
            )
        env = {**os.environ, **self._env, "PEAKDAY_LOAD_PLAN": str(self._plan_path.resolve())}
        # LOCUST_* variables and a locust.conf in the user's folder must not change the plan.
        env = {key: value for key, value in env.items() if not key.startswith("LOCUST_")}
        logs = self._run_dir / "logs"
        dist = self._distribution
        master = None
        if dist.distributed:
            port = dist.bind_port or free_loopback_ports(1)[0]
            master = (dist.bind_host, port, dist.expected_workers)
        argv = locust_argv(
            self._locustfile, self._request_timeout_s, self._host, self._run_dir / "locust", master
        )
        self._child = self._processes.start(
            "locust-master" if master else "locust", argv, logs / "locust.log", env, self._run_dir
        )
        if master is not None:
            for index in range(dist.local_workers):
                self._workers.append(
                    self._processes.start(
                        f"locust-worker-{index}",
                        worker_argv(self._locustfile, master[1]),
                        logs / f"locust-worker-{index}.log",
                        env,
                        self._run_dir,
                    )
                )

    @property
    def child(self) -> ManagedProcess:
        if self._child is None:
            raise RuntimeError("Locust is not started")
        return self._child

    def wait_started(self) -> float:
        """Wall time at which Locust started the load, from the plugin's first record."""
        timeout_s = START_TIMEOUT_S * (2 if self._distribution.distributed else 1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in read_jsonl(self._metrics_path):
                if record.get("kind") == "load_started":
                    return float(record["wall"])
            if not self.child.alive():
                break
            time.sleep(0.02)
        state = "exited" if not self.child.alive() else "still starting"
        waiting = ""
        if self._distribution.distributed:
            waiting = (
                f" The master waits for {self._distribution.expected_workers} workers; "
                "external ones must connect to its bind address."
            )
        raise EnvironmentProblem(
            f"Locust did not start the load within {timeout_s:.0f} s (process {state}).{waiting} "
            f"Last lines of {self.child.log_path}:\n{tail(str(self.child.log_path))}\n"
            "Hint: the locustfile may fail to import; run it with 'locust -f FILE' to see why."
        )

    def alive(self) -> bool:
        return self._child is not None and self._child.alive()

    def wait_finished(self, timeout_s: float) -> bool:
        """True when Locust ended by itself within `timeout_s`."""
        return wait_exit(self.child, timeout_s) is not None

    def stop(self) -> None:
        grace_s = stop_timeout_s(self._request_timeout_s) + 5.0
        if self._child is not None:
            # The plugin turns SIGTERM into a graceful stop, so it flushes its last seconds;
            # in-flight requests get up to the stop timeout to finish. The master collects
            # the workers' last records, so it goes first.
            self._processes.stop(self._child, grace_s=grace_s)
        for worker in self._workers:
            self._processes.stop(worker, grace_s=5.0)


def distribution_for(
    local_workers: int, external_workers: int, master_bind: str | None
) -> Distribution:
    """From the spec's load.workers, load.external_workers and load.master_bind ("host:port")."""
    if master_bind is None:
        return Distribution(local_workers, external_workers)
    host, _, port = master_bind.rpartition(":")
    return Distribution(local_workers, external_workers, host, int(port))
