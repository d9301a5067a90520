"""The embedded default: Toxiproxy and the three storefront services as local processes."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from peakday.errors import ServiceStartError
from peakday.faults.services import ServiceController
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyHttpClient
from peakday.faults.traffic import TOXIPROXY_METRICS_ARGS
from peakday.platforms.base import Endpoints, started_toxiproxy
from peakday.platforms.resources import ResourceProbe, ResourceReading, process_reading
from peakday.processes.children import (
    ManagedProcess,
    ProcessGroup,
    free_loopback_ports,
    wait_exit,
)
from peakday.processes.tools import find_binary
from peakday.processes.waiting import http_ok, poll_until, tail
from peakday.results.folder import RunFolder
from peakday.topology import Topology, storefront_args

HEALTH_TIMEOUT_S = 20.0
# How long `stop` and `restart` faults give a service to shut down before SIGKILL.
SERVICE_STOP_GRACE_S = 2.0


class LocalPlatform:
    name = "local"
    runs_storefront = True

    def __init__(
        self,
        topology: Topology,
        run_dir: Path,
        tools_dirs: Sequence[Path],
        processes: ProcessGroup,
        auth_timeout_s: float = 2.0,
        storefront_extra: Sequence[str] = (),
        admin_endpoints: bool = True,
    ) -> None:
        self._topology = topology
        self._run_dir = run_dir
        self._tools_dirs = tools_dirs
        self._processes = processes
        self._auth_timeout_s = auth_timeout_s
        # the resilience profile's flags, and admin endpoints on loopback ports.
        self._storefront_extra = tuple(storefront_extra)
        self._admin_endpoints = admin_endpoints
        self._toxiproxy: ToxiproxyApi | None = None
        self._by_name: dict[str, ManagedProcess] = {}
        self._argv: dict[str, list[str]] = {}

    def toxiproxy(self) -> ToxiproxyApi:
        return started_toxiproxy(self._toxiproxy)

    def start(self) -> Endpoints:
        server = find_binary("toxiproxy-server", self._tools_dirs)
        services = self._topology.services
        api_port, *service_ports = free_loopback_ports(1 + 2 * len(services))
        admin_ports = dict(
            zip((s.name for s in services), service_ports[len(services) :], strict=True)
        )
        service_ports = service_ports[: len(services)]
        ports = {s.name: p for s, p in zip(services, service_ports, strict=True)}
        folder = RunFolder(self._run_dir)

        toxiproxy = self._processes.start(
            "toxiproxy",
            [server, "-host", "127.0.0.1", "-port", str(api_port), *TOXIPROXY_METRICS_ARGS],
            folder.log("toxiproxy"),
        )
        self._by_name["toxiproxy"] = toxiproxy
        self._wait_healthy(toxiproxy, f"http://127.0.0.1:{api_port}/version")
        self._toxiproxy = ToxiproxyHttpClient("127.0.0.1", api_port)

        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        # Toxiproxy dials upstreams per connection, so every proxy can exist before its service
        # and all services start at once (one wave of interpreter start-ups, not two).
        proxies = {
            route.name: self._toxiproxy.create_proxy(
                route.name, "127.0.0.1:0", f"127.0.0.1:{ports[route.upstream]}"
            )
            for route in self._topology.proxies
        }
        data_dirs: dict[str, str] = {}
        started = []
        for service in self._topology.start_order():
            data_dir = folder.data(service.name)
            data_dir.mkdir(parents=True, exist_ok=True)
            data_dirs[service.name] = str(data_dir)
            auth_url = None
            if service.calls_auth_via is not None:
                auth_url = f"http://{proxies[service.calls_auth_via]}"
            argv = [
                sys.executable,
                "-m",
                "peakday.storefront",
                *storefront_args(
                    service,
                    host="127.0.0.1",
                    port=ports[service.name],
                    data_dir=str(data_dir),
                    auth_url=auth_url,
                    auth_timeout_s=self._auth_timeout_s,
                    extra=[*self._storefront_extra, *self._admin_args(admin_ports[service.name])],
                ),
            ]
            self._argv[service.name] = argv
            child = self._processes.start(service.name, argv, folder.log(service.name))
            self._by_name[service.name] = child
            started.append(child)
        for child in started:
            self._wait_healthy(child, f"{urls[child.name]}/health")
        return Endpoints(
            toxiproxy_api=f"127.0.0.1:{api_port}",
            services=urls,
            proxies=proxies,
            data_dirs=data_dirs,
            admin=(
                {name: f"http://127.0.0.1:{port}" for name, port in admin_ports.items()}
                if self._admin_endpoints
                else {}
            ),
        )

    def _admin_args(self, port: int) -> list[str]:
        if not self._admin_endpoints:
            return []
        return ["--admin-port", str(port), "--admin-host", "127.0.0.1"]

    def _wait_healthy(self, child: ManagedProcess, url: str) -> None:
        if not poll_until(
            http_ok(url), timeout_s=HEALTH_TIMEOUT_S, still_worth_waiting=child.alive
        ):
            state = "exited" if not child.alive() else "running but not healthy"
            raise ServiceStartError(
                f"{child.name} did not answer 200 at {url} within {HEALTH_TIMEOUT_S:.0f} s "
                f"(process {state}). Last lines of {child.log_path}:\n{tail(str(child.log_path))}\n"
                "Hint: a port may be taken or a dependency missing; the log above says which."
            )

    def services(self) -> ServiceController:
        return LocalServices(self)

    def resource_probe(self) -> ResourceProbe:
        return LocalResourceProbe(self)

    def load_workers(self) -> None:
        return None  # worker processes on this machine, like every other child

    def prometheus_server(self) -> None:
        return None

    def service_process(self, service: str) -> ManagedProcess:
        """The current process of a storefront service (a new one after each restart)."""
        if service not in self._argv:
            raise KeyError(f"{service!r} is not a started storefront service")
        return self._by_name[service]

    def restart_service(self, service: str) -> ManagedProcess:
        """Start the service again with the same command line, hence the same port and data."""
        current = self.service_process(service)
        if current.alive():
            return current
        self._processes.stop(current)  # reap it and drop it from pids.json
        child = self._processes.start(service, self._argv[service], current.log_path)
        self._by_name[service] = child
        return child

    def stop(self) -> None:
        if self._toxiproxy is not None:
            # The server may already be gone; stopping it removes every toxic anyway.
            with contextlib.suppress(Exception):
                self._toxiproxy.reset()
        self._processes.stop_all()


class LocalServices:
    """ServiceController with signals on the service's process group."""

    def __init__(self, platform: LocalPlatform) -> None:
        self._platform = platform
        self._processes = platform._processes

    def kill(self, service: str) -> None:
        child = self._platform.service_process(service)
        self._processes.send(child, signal.SIGKILL)
        wait_exit(child, timeout_s=5.0)

    def stop(self, service: str) -> None:
        child = self._platform.service_process(service)
        self._processes.send(child, signal.SIGTERM)
        self._processes.send(child, signal.SIGCONT)
        if wait_exit(child, timeout_s=SERVICE_STOP_GRACE_S) is None:
            self.kill(service)

    def start(self, service: str) -> None:
        self._platform.restart_service(service)

    def pause(self, service: str) -> None:
        self._processes.send(self._platform.service_process(service), signal.SIGSTOP)

    def unpause(self, service: str) -> None:
        self._processes.send(self._platform.service_process(service), signal.SIGCONT)

    def restart(self, service: str) -> None:
        self.stop(service)
        self.start(service)


class LocalResourceProbe:
    def __init__(self, platform: LocalPlatform) -> None:
        self._platform = platform

    def read(self) -> Mapping[str, ResourceReading | None]:
        readings: dict[str, ResourceReading | None] = {}
        for service in self._platform._argv:
            child = self._platform.service_process(service)
            readings[service] = process_reading(child.pid) if child.alive() else None
        return readings
