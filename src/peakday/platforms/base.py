"""What every platform provides: start the storefront behind Toxiproxy, and stop it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from peakday.faults.services import ServiceController
from peakday.faults.toxiproxy import ToxiproxyApi
from peakday.monitoring.server import PrometheusServer
from peakday.platforms.resources import ResourceProbe
from peakday.routes import proxy_env_var, routes_env
from peakday.topology import STOREFRONT_CLIENT_ROUTES

if TYPE_CHECKING:
    from peakday.load.workers import LoadWorkers


@dataclass(frozen=True)
class Endpoints:
    """Where things answer once a platform is up (all on loopback from the orchestrator)."""

    toxiproxy_api: str  # host:port
    services: Mapping[str, str]  # service name -> base URL, direct (no proxy)
    proxies: Mapping[str, str]  # proxy name -> host:port it listens on, seen from the host
    data_dirs: Mapping[str, str] = field(default_factory=dict)
    # Locust's --host; None means the storefront's checkout service.
    locust_host: str | None = None
    # service name -> base URL of its admin endpoint (service-level faults), if enabled.
    admin: Mapping[str, str] = field(default_factory=dict)
    # request name or path -> proxy name (external.routes), for peakday.routes.Router.
    routes: Mapping[str, str] = field(default_factory=dict)

    def locust_env(self) -> dict[str, str]:
        """The URLs the journeys use: every proxy's address in PEAKDAY_PROXY_<NAME> and the
        route table in PEAKDAY_ROUTES; the storefront's logins are routed to auth_login (and
        PEAKDAY_AUTH_URL points there too, for the journeys run without a route table)."""
        env = {proxy_env_var(name): address for name, address in self.proxies.items()}
        routes = dict(self.routes)
        if "auth_login" in self.proxies and {"checkout", "labels"} <= set(self.services):
            routes = {**STOREFRONT_CLIENT_ROUTES, **routes}
            env["PEAKDAY_AUTH_URL"] = f"http://{self.proxies['auth_login']}"
            env["PEAKDAY_CHECKOUT_URL"] = self.services["checkout"]
            env["PEAKDAY_LABELS_URL"] = self.services["labels"]
        env.update(routes_env(routes))
        return env

    @property
    def host_for_locust(self) -> str:
        return self.locust_host if self.locust_host is not None else self.services["checkout"]


class Platform(Protocol):
    name: str
    # True where peakday runs the mock storefront (its journeys, profiles and integrity check);
    # False on the user's own system.
    runs_storefront: bool

    def start(self) -> Endpoints:
        """Start Toxiproxy and the services, create the proxies, wait until all are healthy."""
        ...

    def toxiproxy(self) -> ToxiproxyApi: ...

    def services(self) -> ServiceController | None:
        """Kill/stop/start/pause/unpause/restart storefront services; None where peakday does
        not run them (the external platform)."""
        ...

    def resource_probe(self) -> ResourceProbe | None:
        """CPU and memory per service, or None where peakday cannot see them."""
        ...

    def load_workers(self) -> LoadWorkers | None:
        """Who starts load.workers once the platform is up; None: processes on this machine."""
        ...

    def prometheus_server(self) -> PrometheusServer | None:
        """Who starts `monitoring: prometheus`; None: a child process on this machine."""
        ...

    def stop(self) -> None:
        """Stop everything started; safe to call twice and after a failed start."""
        ...


def started_toxiproxy(toxiproxy: ToxiproxyApi | None) -> ToxiproxyApi:
    """A platform's Toxiproxy client once start() made it; RuntimeError before that."""
    if toxiproxy is None:
        raise RuntimeError("the platform is not started")
    return toxiproxy
