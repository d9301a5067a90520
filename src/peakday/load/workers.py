"""Who starts this machine's Locust workers: local processes, or a platform's own launcher
(worker containers on the docker platform). The Locust runner talks only to `LoadWorkers`.

Also what workers started elsewhere need from a run: the environment file written into the run
folder, so that `locust --worker` on another machine (or in a pod) hits the same endpoints.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from peakday.errors import EnvironmentProblem
from peakday.processes.children import ManagedProcess, ProcessGroup, free_ports
from peakday.processes.waiting import tail

# In the run folder while a run waits for workers from elsewhere: their PEAKDAY_* settings.
# Bind addresses that mean "every interface" to Locust (ZeroMQ) and to a plain socket.
WILDCARD_HOSTS = ("*", "0.0.0.0", "")


def plugin_path() -> Path:
    return Path(__file__).with_name("locust_plugin.py")


def locustfiles_arg(locustfile: Path | str, plugin: Path | str) -> str:
    """Locust's -f value for the journeys plus peakday's plugin (Locust splits it on commas)."""
    for path in (locustfile, plugin):
        if "," in str(path):
            raise EnvironmentProblem(
                f"Locust splits -f on commas, so it cannot load {str(path)!r}."
            )
    return f"{locustfile},{plugin}"


def worker_argv(locustfile: Path, master_port: int, master_host: str = "127.0.0.1") -> list[str]:
    """A worker process on this machine; the master sends it the plan once it connects."""
    return [
        sys.executable, "-m", "locust",
        "-f", locustfiles_arg(locustfile.resolve(), plugin_path().resolve()),
        "--worker",
        "--master-host", master_host,
        "--master-port", str(master_port),
        "--loglevel", "WARNING",
    ]  # fmt: skip


def process_env(run_env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus the run's, for a Locust child process.

    LOCUST_* variables (and so a user's own settings) must not change the plan."""
    env = {**os.environ, **run_env}
    return {key: value for key, value in env.items() if not key.startswith("LOCUST_")}


@dataclass(frozen=True)
class WorkerLaunch:
    """What every worker of a run is started with (plain data)."""

    count: int
    master_host: str  # the address the workers dial
    master_port: int
    locustfile: Path
    # The run's PEAKDAY_* settings as seen from this machine (loopback addresses).
    env: Mapping[str, str]
    log_dir: Path
    run_dir: Path


class LoadWorkers(Protocol):
    """Starts and stops the Locust workers that run on this machine, for one run."""

    def default_bind_host(self) -> str:
        """Where the master listens, when the experiment does not say, so these workers reach it
        (and nothing off this machine does)."""
        ...

    def dial_host(self, bind_host: str) -> str:
        """The address these workers connect to for a master listening on `bind_host`; raises
        UsageError when they could not reach it."""
        ...

    def start(self, launch: WorkerLaunch) -> None: ...

    def failure_detail(self) -> str:
        """For a load that would not start: the workers that died and their last log lines."""
        ...

    def stop(self) -> None:
        """Stop and remove every worker started; never raises, safe to call twice."""
        ...


class LocalWorkers:
    """Worker processes on this machine, in the run's process group (recorded in pids.json)."""

    def __init__(self, processes: ProcessGroup) -> None:
        self._processes = processes
        self._workers: list[ManagedProcess] = []

    def default_bind_host(self) -> str:
        return "127.0.0.1"

    def dial_host(self, bind_host: str) -> str:
        return "127.0.0.1" if bind_host in WILDCARD_HOSTS else bind_host

    def start(self, launch: WorkerLaunch) -> None:
        env = process_env(launch.env)
        for index in range(launch.count):
            name = f"locust-worker-{index}"
            argv = worker_argv(launch.locustfile, launch.master_port, launch.master_host)
            self._workers.append(
                self._processes.start(
                    name, argv, launch.log_dir / f"{name}.log", env, launch.run_dir
                )
            )

    def failure_detail(self) -> str:
        dead = [worker for worker in self._workers if not worker.alive()]
        return "".join(
            f"\n{worker.name} exited; last lines of {worker.log_path}:\n"
            f"{tail(str(worker.log_path))}"
            for worker in dead
        )

    def stop(self) -> None:
        for worker in self._workers:
            self._processes.stop(worker, grace_s=5.0)
        self._workers.clear()


def free_port(host: str) -> int:
    """A port the kernel says is free on `host` now (any interface for a wildcard)."""
    return free_ports(1, "" if host in WILDCARD_HOSTS else host)[0]


def format_worker_env(env: Mapping[str, str]) -> str:
    """KEY=value lines for `set -a; . worker.env`, sorted; values quoted only where the shell
    needs it (URLs and paths without spaces stay plain, as env files elsewhere expect)."""
    lines = ["# The run's settings for Locust workers started elsewhere; see docs/load.md."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in sorted(env.items())]
    return "\n".join(lines) + "\n"


def external_workers_message(bind: str, count: int, env_file: Path) -> str:
    return (
        f"the Locust master on {bind} waits for {count} external "
        f"worker{'s' if count != 1 else ''}; their settings are in {env_file}"
    )
