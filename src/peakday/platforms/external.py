"""The user's own system: peakday starts only Toxiproxy, in front of services the user runs.

Targets off this machine need two yeses (experiment.overrides.choose_platform checks them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from peakday.errors import ServiceStartError, UsageError
from peakday.experiment.models import External
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyPythonClient
from peakday.faults.traffic import TOXIPROXY_METRICS_ARGS
from peakday.platforms.base import Endpoints
from peakday.processes.children import ManagedProcess, ProcessGroup, free_loopback_ports
from peakday.processes.tools import find_binary
from peakday.processes.waiting import http_ok, poll_until, tail
from peakday.results.folder import RunFolder
from peakday.runconfig import RunConfig

HEALTH_TIMEOUT_S = 20.0


class ExternalPlatform:
    name = "external"
    runs_storefront = False

    def __init__(
        self,
        external: External,
        run_dir: Path,
        tools_dirs: Sequence[Path],
        processes: ProcessGroup,
    ) -> None:
        self._external = external
        self._run_dir = run_dir
        self._tools_dirs = tools_dirs
        self._processes = processes
        self._toxiproxy: ToxiproxyApi | None = None

    def toxiproxy(self) -> ToxiproxyApi:
        if self._toxiproxy is None:
            raise RuntimeError("the platform is not started")
        return self._toxiproxy

    def services(self) -> None:
        return None  # the user's processes are not peakday's to kill

    def resource_probe(self) -> None:
        return None

    def load_workers(self) -> None:
        return None  # worker processes on this machine

    def start(self) -> Endpoints:
        if self._external.toxiproxy == "docker":
            raise UsageError(
                "external.toxiproxy: docker is not available yet. Hint: use toxiproxy: local "
                "(toxiproxy-server from 'make tools')."
            )
        server = find_binary("toxiproxy-server", self._tools_dirs)
        api_port, *listen_ports = free_loopback_ports(1 + len(self._external.proxies))
        child = self._processes.start(
            "toxiproxy",
            [server, "-host", "127.0.0.1", "-port", str(api_port), *TOXIPROXY_METRICS_ARGS],
            RunFolder(self._run_dir).log("toxiproxy"),
        )
        self._wait_healthy(child, f"http://127.0.0.1:{api_port}/version")
        api = ToxiproxyPythonClient("127.0.0.1", api_port)
        self._toxiproxy = api
        proxies: dict[str, str] = {}
        for (name, upstream), port in zip(
            self._external.proxies.items(), listen_ports, strict=True
        ):
            proxies[name] = api.create_proxy(
                name, f"127.0.0.1:{port}", self._external.upstreams[upstream]
            )
        host = self._external.host
        locust_host = host if "://" in host else f"http://{proxies[host]}"
        return Endpoints(
            toxiproxy_api=f"127.0.0.1:{api_port}",
            services={name: f"http://{address}" for name, address in proxies.items()},
            proxies=proxies,
            locust_host=locust_host,
        )

    def _wait_healthy(self, child: ManagedProcess, url: str) -> None:
        if not poll_until(
            http_ok(url), timeout_s=HEALTH_TIMEOUT_S, still_worth_waiting=child.alive
        ):
            state = "exited" if not child.alive() else "running but not healthy"
            raise ServiceStartError(
                f"toxiproxy-server did not answer 200 at {url} within {HEALTH_TIMEOUT_S:.0f} s "
                f"(process {state}). Last lines of {child.log_path}:\n"
                f"{tail(str(child.log_path))}\nHint: the log above says why."
            )

    def stop(self) -> None:
        if self._toxiproxy is not None:
            with contextlib.suppress(Exception):
                self._toxiproxy.reset()
        self._processes.stop_all()


def make_external_platform(config: RunConfig, processes: ProcessGroup) -> ExternalPlatform:
    external = config.experiment.external
    if external is None:
        raise UsageError("The external platform needs an 'external' section in the experiment.")
    return ExternalPlatform(external, config.run_dir, config.tools_dirs, processes)
