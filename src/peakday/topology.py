"""The storefront's shape, described once: services, who calls whom, and the Toxiproxy proxies.

Every platform (local processes, Docker containers, compose/) derives its wiring from this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int
    # Name of the proxy this service uses to reach auth, or None when it calls nobody.
    calls_auth_via: str | None
    # The journeys' steps (request names) whose requests this service answers directly; with
    # the proxies in front of it, how a run tells whether a fault on it reached any traffic.
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProxyRoute:
    """A Toxiproxy proxy in front of an upstream service."""

    name: str
    upstream: str
    default_listen_port: int
    purpose: str


@dataclass(frozen=True)
class Topology:
    services: tuple[Service, ...]
    proxies: tuple[ProxyRoute, ...]
    toxiproxy_api_port: int

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def proxy(self, name: str) -> ProxyRoute:
        for proxy in self.proxies:
            if proxy.name == name:
                return proxy
        raise KeyError(name)

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.services)

    @property
    def proxy_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.proxies)

    def start_order(self) -> tuple[Service, ...]:
        """Services that call nobody first, so proxies exist before their callers start."""
        return tuple(sorted(self.services, key=lambda s: s.calls_auth_via is not None))


def storefront_topology() -> Topology:
    """The mock storefront: auth behind two proxies, checkout and labels calling auth."""
    return Topology(
        services=(
            Service("auth", 8101, calls_auth_via=None, steps=("login",)),
            Service(
                "checkout",
                8102,
                calls_auth_via="auth_introspect",
                steps=("checkout", "pos_checkout"),
            ),
            Service("labels", 8103, calls_auth_via="auth_introspect", steps=("label",)),
        ),
        proxies=(
            ProxyRoute(
                "auth_login", "auth", 18101, "clients (shoppers, merchants, POS) -> auth /login"
            ),
            ProxyRoute("auth_introspect", "auth", 18102, "checkout and labels -> auth /introspect"),
        ),
        toxiproxy_api_port=8474,
    )


# The journeys' route table (request name -> proxy, see peakday.routes): every login goes
# through auth_login, so a fault there reaches the logins and nothing else the clients send.
STOREFRONT_CLIENT_ROUTES: Mapping[str, str] = MappingProxyType({"login": "auth_login"})

# Where each storefront container keeps its SQLite store (the image's peakday user owns it).
CONTAINER_DATA_ROOT = "/var/lib/peakday"
CONTAINER_TOXIPROXY_NAME = "toxiproxy"


def storefront_args(
    service: Service,
    *,
    host: str,
    port: int,
    data_dir: str,
    auth_url: str | None,
    auth_timeout_s: float,
    extra: Sequence[str] = (),
) -> list[str]:
    """The arguments after `python -m peakday.storefront`, the same on every platform.

    `extra` comes last (the resilience profile's flags and --admin-port), so it wins.
    """
    args = [service.name, "--host", host, "--port", str(port), "--data-dir", data_dir]
    if service.calls_auth_via is not None:
        if auth_url is None:
            raise ValueError(f"{service.name} calls auth and needs an auth URL")
        args += ["--auth-url", auth_url, "--auth-timeout-s", str(auth_timeout_s)]
    return [*args, *extra]


def admin_args(port: int, host: str) -> list[str]:
    """The flags that give a storefront service its admin endpoint (service-level faults)."""
    return ["--admin-port", str(port), "--admin-host", host]


# A storefront container's admin endpoint listens this far above its service port.
CONTAINER_ADMIN_PORT_OFFSET = 1000


def container_admin_port(service: Service) -> int:
    return service.default_port + CONTAINER_ADMIN_PORT_OFFSET


def container_data_dir(service: Service) -> str:
    return f"{CONTAINER_DATA_ROOT}/{service.name}"


def container_command(
    topology: Topology, service: Service, *, auth_timeout_s: float, extra: Sequence[str] = ()
) -> list[str]:
    """How every storefront container runs `service` (docker, compose/, `--platform compose`):
    on all interfaces at its topology port, its store under CONTAINER_DATA_ROOT, auth reached
    through the Toxiproxy container."""
    return [
        "python",
        "-m",
        "peakday.storefront",
        *storefront_args(
            service,
            host="0.0.0.0",
            port=service.default_port,
            data_dir=container_data_dir(service),
            auth_url=container_auth_url(topology, service),
            auth_timeout_s=auth_timeout_s,
            extra=extra,
        ),
    ]


def container_auth_url(topology: Topology, service: Service) -> str | None:
    """How a storefront container reaches auth: the Toxiproxy container's proxy, by DNS name."""
    if service.calls_auth_via is None:
        return None
    route = topology.proxy(service.calls_auth_via)
    return f"http://{CONTAINER_TOXIPROXY_NAME}:{route.default_listen_port}"


def container_upstream(topology: Topology, route: ProxyRoute) -> str:
    """A proxy's upstream as the Toxiproxy container dials it: service DNS name and port."""
    return f"{route.upstream}:{topology.service(route.upstream).default_port}"


# Locust journeys and the request (step) names each one emits.
JOURNEY_STEPS: dict[str, tuple[str, ...]] = {
    "shopper": ("login", "checkout"),
    "merchant": ("login", "label"),
    "pos": ("login", "pos_checkout"),
}

# Locust user class for each journey name used in experiment files.
JOURNEY_CLASSES: dict[str, str] = {
    "shopper": "Shopper",
    "merchant": "Merchant",
    "pos": "PosTerminal",
}

ALL_STEPS: tuple[str, ...] = ("login", "checkout", "label", "pos_checkout")


def split_host_port(address: str) -> tuple[str, int]:
    """'127.0.0.1:8080' -> ('127.0.0.1', 8080); '[::1]:80' -> ('::1', 80). Raises ValueError."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"Expected host:port, got {address!r}.")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback_host(host: str) -> bool:
    """True for names and addresses that stay on this machine (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
