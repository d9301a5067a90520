"""Runs Locust in its own process (gevent never enters the orchestrator) and watches it."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.platforms.processes import ManagedProcess, ProcessGroup, wait_exit
from peakday.platforms.waiting import tail
from peakday.results.eventlog import read_jsonl

START_TIMEOUT_S = 30.0


def plugin_path() -> Path:
    return Path(__file__).with_name("locust_plugin.py")


def stop_timeout_s(request_timeout_s: float) -> int:
    """Seconds Locust lets in-flight requests finish at the end, so each one is recorded."""
    return math.ceil(request_timeout_s) + 1


def locust_argv(
    locustfile: Path, request_timeout_s: float, host: str, csv_prefix: Path
) -> list[str]:
    """The Locust command line. No -u/-r/-t: the plugin's load shape sets users and ends the run
    (Locust 2.47 starts the -t timer only after a shape finishes, so it is no safety bound; the
    orchestrator's wall-clock limit is)."""
    for path in (locustfile, plugin_path()):
        if "," in str(path):
            raise EnvironmentProblem(
                f"Locust splits -f on commas, so it cannot load {str(path)!r}."
            )
    return [
        sys.executable, "-m", "locust",
        "-f", f"{locustfile.resolve()},{plugin_path().resolve()}",
        "--headless",
        "--host", host,
        "--stop-timeout", str(stop_timeout_s(request_timeout_s)),
        "--exit-code-on-error", "0",
        "--only-summary",
        "--csv", str(csv_prefix.resolve()),
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
    ) -> None:
        self._processes = processes
        self._run_dir = run_dir
        self._locustfile = locustfile
        self._plan_path = plan_path
        self._metrics_path = metrics_path
        self._request_timeout_s = request_timeout_s
        self._env = env
        self._host = host
        self._child: ManagedProcess | None = None

    def start(self) -> None:
        import os

        if not self._locustfile.is_file():
            raise EnvironmentProblem(
                f"The locustfile {str(self._locustfile)!r} does not exist. "
                "Hint: run peakday from the project folder or set load.locustfile."
            )
        env = {**os.environ, **self._env, "PEAKDAY_LOAD_PLAN": str(self._plan_path)}
        argv = locust_argv(self._locustfile, self._duration_s, self._host, self._run_dir / "locust")
        self._child = self._processes.start(
            "locust", argv, self._run_dir / "logs" / "locust.log", env
        )

    @property
    def child(self) -> ManagedProcess:
        if self._child is None:
            raise RuntimeError("Locust is not started")
        return self._child

    def wait_started(self) -> float:
        """Wall time at which Locust started the load, from the plugin's first record."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for record in read_jsonl(self._metrics_path):
                if record.get("kind") == "load_started":
                    return float(record["wall"])
            if not self.child.alive():
                break
            time.sleep(0.02)
        state = "exited" if not self.child.alive() else "still starting"
        raise EnvironmentProblem(
            f"Locust did not start the load within {START_TIMEOUT_S:.0f} s (process {state}). "
            f"Last lines of {self.child.log_path}:\n{tail(str(self.child.log_path))}\n"
            "Hint: the locustfile may fail to import; run it with 'locust -f FILE' to see why."
        )

    def alive(self) -> bool:
        return self._child is not None and self._child.alive()

    def wait_finished(self, timeout_s: float) -> bool:
        """True when Locust ended by itself within `timeout_s`."""
        return wait_exit(self.child, timeout_s) is not None

    def stop(self) -> None:
        if self._child is not None:
            # The plugin turns SIGTERM into a graceful stop, so it flushes its last seconds;
            # in-flight requests get up to the stop timeout to finish.
            self._processes.stop(self._child, grace_s=stop_timeout_s(self._request_timeout_s) + 5.0)
