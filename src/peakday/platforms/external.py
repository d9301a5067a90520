"""The user's own system: peakday starts only Toxiproxy, in front of services the user runs.

Or it drives a toxiproxy-server the user runs (`toxiproxy: {api: URL}`) through a
ScopedToxiproxy, which touches only this run's proxies and toxics and records them in the
run's ledger for `peakday clean`. Targets off this machine need two yeses
(experiment.overrides.choose_platform checks them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from peakday.errors import ServiceStartError, UsageError
from peakday.experiment.models import External, ToxiproxyServer
from peakday.faults.ledger import ToxiproxyLedger
from peakday.faults.scoped import ScopedToxiproxy
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyHttpClient, ToxiproxyServerApi
from peakday.faults.traffic import TOXIPROXY_METRICS_ARGS
from peakday.platforms.base import Endpoints, started_toxiproxy
from peakday.processes.children import (
    ManagedProcess,
    ProcessGroup,
    default_registry_dir,
    free_loopback_ports,
)
from peakday.processes.ports import require_free_listens
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
        *,
        registry_dir: Path | None = None,
        connect: Callable[[str, int], ToxiproxyServerApi] = ToxiproxyHttpClient,
    ) -> None:
        self._external = external
        self._run_dir = run_dir
        self._tools_dirs = tools_dirs
        self._processes = processes
        self._registry_dir = registry_dir
        self._connect = connect
        self._toxiproxy: ToxiproxyApi | None = None
        self._scoped: ScopedToxiproxy | None = None

    def toxiproxy(self) -> ToxiproxyApi:
        return started_toxiproxy(self._toxiproxy)

    def services(self) -> None:
        return None  # the user's processes are not peakday's to kill

    def resource_probe(self) -> None:
        return None

    def load_workers(self) -> None:
        return None  # worker processes on this machine

    def prometheus_server(self) -> None:
        return None

    def start(self) -> Endpoints:
        external = self._external
        server = external.toxiproxy
        if isinstance(server, ToxiproxyServer):
            api_address = f"{server.host}:{server.port}"
            api: ToxiproxyApi = self._own_server(server)
        elif server == "local":
            # A fixed port that is taken fails here, before any process starts.
            require_free_listens(
                {name: e.listen for name, e in external.proxies.items() if e.listen is not None}
            )
            api_address, api = self._start_local_server()
        else:  # validation refuses it (platform_checks); kept for a spec built in code
            raise UsageError(
                f"external.toxiproxy: {server} is not supported. Hint: use toxiproxy: local, or "
                "toxiproxy: {api: 'http://127.0.0.1:8474'} for a server you run."
            )
        self._toxiproxy = api
        proxies = self._make_proxies(api)
        host = external.host
        locust_host = host if "://" in host else f"http://{proxies[host]}"
        return Endpoints(
            toxiproxy_api=api_address,
            services={name: f"http://{address}" for name, address in proxies.items()},
            proxies=proxies,
            locust_host=locust_host,
            routes=dict(self._external.routes),
        )

    def _start_local_server(self) -> tuple[str, ToxiproxyApi]:
        server = find_binary("toxiproxy-server", self._tools_dirs)
        (api_port,) = free_loopback_ports(1)
        child = self._processes.start(
            "toxiproxy",
            [server, "-host", "127.0.0.1", "-port", str(api_port), *TOXIPROXY_METRICS_ARGS],
            RunFolder(self._run_dir).log("toxiproxy"),
        )
        self._wait_healthy(child, f"http://127.0.0.1:{api_port}/version")
        return f"127.0.0.1:{api_port}", ToxiproxyHttpClient("127.0.0.1", api_port)

    def _own_server(self, server: ToxiproxyServer) -> ScopedToxiproxy:
        """The user's server, reached through a client that only touches this run's proxies and
        toxics and writes each change to the run's ledger first."""
        client = self._connect(server.host, server.port)
        client.version()  # a ToxiproxyError (exit 3) naming the address if nobody answers
        ledger = ToxiproxyLedger(RunFolder(self._run_dir).toxiproxy_ledger, self._registry_dir)
        self._scoped = ScopedToxiproxy(client, ledger, server.api)
        return self._scoped

    def _make_proxies(self, api: ToxiproxyApi) -> dict[str, str]:
        """Create (or, with existing: true, adopt) each proxy; returns name -> listen address."""
        entries = self._external.proxies
        free = iter(free_loopback_ports(sum(1 for e in entries.values() if e.listen is None)))
        proxies: dict[str, str] = {}
        for name, entry in entries.items():
            if entry.existing:
                if self._scoped is None:
                    raise UsageError(
                        f"The proxy {name!r} says existing: true, but peakday started this "
                        "Toxiproxy itself. Hint: give toxiproxy: {api: ...} for your server."
                    )
                proxies[name] = self._scoped.adopt_proxy(name)
                continue
            assert entry.upstream is not None  # validation: an upstream unless existing
            listen = entry.listen or f"127.0.0.1:{next(free)}"
            proxies[name] = api.create_proxy(name, listen, self._external.upstreams[entry.upstream])
        return proxies

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
        scoped, self._scoped = self._scoped, None
        if scoped is not None:  # the user's server: undo exactly this run's changes
            try:
                scoped.release()
            finally:
                self._processes.stop_all()
            return
        if self._toxiproxy is not None:  # peakday's own server: everything on it is the run's
            with contextlib.suppress(Exception):
                self._toxiproxy.reset()
        self._processes.stop_all()


def make_external_platform(config: RunConfig, processes: ProcessGroup) -> ExternalPlatform:
    external = config.experiment.external
    if external is None:
        raise UsageError("The external platform needs an 'external' section in the experiment.")
    return ExternalPlatform(
        external,
        config.run_dir,
        config.tools_dirs,
        processes,
        registry_dir=default_registry_dir(),
    )
