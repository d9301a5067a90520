"""Runs Locust in its own processes (gevent never enters the orchestrator) and watches them.

One process by default; with workers, a master (which shapes the load and writes the metrics
file) and N workers started on this machine by a `LoadWorkers` (processes, or the docker
platform's containers), plus any external workers the master waits for.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.load.workers import (
    LoadWorkers,
    LocalWorkers,
    WorkerLaunch,
    free_port,
    locustfiles_arg,
    plugin_path,
    process_env,
)
from peakday.processes.children import ManagedProcess, ProcessGroup, wait_exit
from peakday.processes.waiting import tail
from peakday.results.eventlog import read_jsonl
from peakday.results.folder import RunFolder

# plugin_path stays importable from here: docs and users' scripts have used this module.
__all__ = ["Distribution", "LocustProcess", "locust_argv", "plugin_path"]

START_TIMEOUT_S = 30.0


def stop_timeout_s(request_timeout_s: float) -> int:
    """Seconds Locust lets in-flight requests finish at the end, so each one is recorded."""
    return math.ceil(request_timeout_s) + 1


@dataclass(frozen=True)
class Distribution:
    """Locust's distributed mode: `local_workers` started on this machine (by the platform's
    LoadWorkers), `external_workers` expected from elsewhere, the master listening on
    `bind_host:bind_port` (None and 0: where the local workers reach it, on a free port)."""

    local_workers: int = 0
    external_workers: int = 0
    bind_host: str | None = None
    bind_port: int = 0

    @property
    def expected_workers(self) -> int:
        return self.local_workers + self.external_workers

    @property
    def distributed(self) -> bool:
        return self.expected_workers > 0


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
        "-f", locustfiles_arg(locustfile.resolve(), plugin_path().resolve()),
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


class LocustProcess:
    """One Locust process, or a master (here) and its workers (started by `workers`)."""

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
        workers: LoadWorkers | None = None,
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
        self._workers = workers if workers is not None else LocalWorkers(processes)
        self._child: ManagedProcess | None = None
        self._master_address = ""

    @property
    def master_address(self) -> str:
        """host:port the master listens on, once started distributed."""
        return self._master_address

    def start(self) -> None:
        if not self._locustfile.is_file():
            raise EnvironmentProblem(
                f"The locustfile {str(self._locustfile)!r} does not exist. "
                "Hint: run peakday from the project folder or set load.locustfile."
            )
        env = process_env({**self._env, "PEAKDAY_LOAD_PLAN": str(self._plan_path.resolve())})
        folder = RunFolder(self._run_dir)
        dist = self._distribution
        master = None
        dial_host = ""
        if dist.distributed:
            bind_host = dist.bind_host or self._workers.default_bind_host()
            if dist.local_workers:
                dial_host = self._workers.dial_host(bind_host)  # refuses before anything starts
            port = dist.bind_port or free_port(bind_host)
            master = (bind_host, port, dist.expected_workers)
            self._master_address = f"{bind_host}:{port}"
        argv = locust_argv(
            self._locustfile, self._request_timeout_s, self._host, folder.locust_csv_prefix, master
        )
        self._child = self._processes.start(
            "locust-master" if master else "locust", argv, folder.log("locust"), env, self._run_dir
        )
        if master is not None and dist.local_workers:
            self._workers.start(
                WorkerLaunch(
                    count=dist.local_workers,
                    master_host=dial_host,
                    master_port=master[1],
                    locustfile=self._locustfile,
                    env=dict(self._env),
                    log_dir=folder.logs,
                    run_dir=self._run_dir,
                )
            )

    @property
    def log_path(self) -> Path:
        return self.child.log_path

    @property
    def child(self) -> ManagedProcess:
        if self._child is None:
            raise RuntimeError("Locust is not started")
        return self._child

    def wait_started(self) -> float:
        """Wall time at which Locust started the load, from the plugin's first record."""
        timeout_s = START_TIMEOUT_S * (2 if self._distribution.distributed else 1)
        began = time.monotonic()
        while time.monotonic() < began + timeout_s:
            for record in read_jsonl(self._metrics_path):
                if record.get("kind") == "load_started":
                    return float(record["wall"])
            if not self.child.alive():
                break
            time.sleep(0.02)
        if self.child.alive():
            what = f"did not start the load within {timeout_s:.0f} s"
        else:
            what = f"exited after {time.monotonic() - began:.0f} s without starting the load"
        raise EnvironmentProblem(
            f"Locust {what}.{self._waiting_for_workers()} "
            f"Last lines of {self.child.log_path}:\n{tail(str(self.child.log_path))}"
            f"{self._workers.failure_detail()}\n{self._start_hint()}"
        )

    def _waiting_for_workers(self) -> str:
        dist = self._distribution
        if not dist.distributed:
            return ""
        count = dist.expected_workers
        workers = f"{count} worker" if count == 1 else f"{count} workers"
        if dist.external_workers:
            workers += f" ({dist.external_workers} from elsewhere)"
        return (
            f" Its master on {self._master_address} waits up to {START_TIMEOUT_S:.0f} s for "
            f"{workers} to connect."
        )

    def _start_hint(self) -> str:
        if self._distribution.external_workers:
            return (
                "Hint: start the workers from elsewhere with the settings in worker.env in the "
                "results folder (docs/load.md), so that all connect within "
                f"{START_TIMEOUT_S:.0f} s; they may start before the master."
            )
        return "Hint: the locustfile may fail to import; run it with 'locust -f FILE' to see why."

    def alive(self) -> bool:
        return self._child is not None and self._child.alive()

    def wait_finished(self, timeout_s: float) -> bool:
        """True when Locust ended by itself within `timeout_s`."""
        return wait_exit(self.child, timeout_s) is not None

    def stop(self) -> None:
        grace_s = stop_timeout_s(self._request_timeout_s) + 5.0
        try:
            if self._child is not None:
                # The plugin turns SIGTERM into a graceful stop, so it flushes its last seconds;
                # in-flight requests get up to the stop timeout to finish. The master collects
                # the workers' last records, so it goes first.
                self._processes.stop(self._child, grace_s=grace_s)
        finally:
            self._workers.stop()


def distribution_for(
    local_workers: int, external_workers: int, master_bind: str | None
) -> Distribution:
    """From the spec's load.workers, load.external_workers and load.master_bind ("host:port")."""
    if master_bind is None:
        return Distribution(local_workers, external_workers)
    host, _, port = master_bind.rpartition(":")
    return Distribution(local_workers, external_workers, host, int(port))
