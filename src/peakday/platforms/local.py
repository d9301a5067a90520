"""The embedded default: Toxiproxy and the three storefront services as local processes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from peakday.errors import ServiceStartError
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyPythonClient
from peakday.platforms.base import Endpoints
from peakday.platforms.processes import ManagedProcess, ProcessGroup, free_loopback_ports
from peakday.platforms.tools import find_binary
from peakday.platforms.waiting import http_ok, poll_until, tail
from peakday.topology import Topology

HEALTH_TIMEOUT_S = 20.0


class LocalPlatform:
    name = "local"

    def __init__(
        self,
        topology: Topology,
        run_dir: Path,
        tools_dirs: Sequence[Path],
        processes: ProcessGroup,
        auth_timeout_s: float = 2.0,
    ) -> None:
        self._topology = topology
        self._run_dir = run_dir
        self._tools_dirs = tools_dirs
        self._processes = processes
        self._auth_timeout_s = auth_timeout_s
        self._toxiproxy: ToxiproxyApi | None = None
        self._by_name: dict[str, ManagedProcess] = {}
        self._argv: dict[str, list[str]] = {}

    def toxiproxy(self) -> ToxiproxyApi:
        if self._toxiproxy is None:
            raise RuntimeError("the platform is not started")
        return self._toxiproxy

    def start(self) -> Endpoints:
        server = find_binary("toxiproxy-server", self._tools_dirs)
        services = self._topology.services
        api_port, *service_ports = free_loopback_ports(1 + len(services))
        ports = {s.name: p for s, p in zip(services, service_ports, strict=True)}
        logs = self._run_dir / "logs"

        toxiproxy = self._processes.start(
            "toxiproxy",
            [server, "-host", "127.0.0.1", "-port", str(api_port)],
            logs / "toxiproxy.log",
        )
        self._by_name["toxiproxy"] = toxiproxy
        self._wait_healthy(toxiproxy, f"http://127.0.0.1:{api_port}/version")
        self._toxiproxy = ToxiproxyPythonClient("127.0.0.1", api_port)

        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        proxies: dict[str, str] = {}
        data_dirs: dict[str, str] = {}
        # Services that call nobody start first; their proxies must exist before callers start.
        for wave in (
            [s for s in services if s.calls_auth_via is None],
            [s for s in services if s.calls_auth_via is not None],
        ):
            started = []
            for service in wave:
                data_dir = self._run_dir / "data" / service.name
                data_dir.mkdir(parents=True, exist_ok=True)
                data_dirs[service.name] = str(data_dir)
                argv = [
                    sys.executable, "-m", "peakday.storefront", service.name,
                    "--host", "127.0.0.1", "--port", str(ports[service.name]),
                    "--data-dir", str(data_dir),
                ]  # fmt: skip
                if service.calls_auth_via is not None:
                    argv += [
                        "--auth-url", f"http://{proxies[service.calls_auth_via]}",
                        "--auth-timeout-s", str(self._auth_timeout_s),
                    ]  # fmt: skip
                self._argv[service.name] = argv
                child = self._processes.start(service.name, argv, logs / f"{service.name}.log")
                self._by_name[service.name] = child
                started.append(child)
            for child in started:
                self._wait_healthy(child, f"{urls[child.name]}/health")
            for route in self._topology.proxies:
                if route.name not in proxies and route.upstream in {s.name for s in wave}:
                    upstream = f"127.0.0.1:{ports[route.upstream]}"
                    proxies[route.name] = self._toxiproxy.create_proxy(
                        route.name, "127.0.0.1:0", upstream
                    )
        return Endpoints(
            toxiproxy_api=f"127.0.0.1:{api_port}",
            services=urls,
            proxies=proxies,
            data_dirs=data_dirs,
        )

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

    def stop(self) -> None:
        if self._toxiproxy is not None:
            try:
                self._toxiproxy.reset()
            except Exception:
                pass  # the server may already be gone; stopping it removes every toxic anyway
        self._processes.stop_all()
