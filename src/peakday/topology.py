"""The storefront's shape, described once: services, who calls whom, and the Toxiproxy proxies.

Every platform (local processes, Docker containers, compose/) derives its wiring from this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int
    # Name of the proxy this service uses to reach auth, or None when it calls nobody.
    calls_auth_via: str | None


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
            Service("auth", 8101, calls_auth_via=None),
            Service("checkout", 8102, calls_auth_via="auth_introspect"),
            Service("labels", 8103, calls_auth_via="auth_introspect"),
        ),
        proxies=(
            ProxyRoute("auth_login", "auth", 18101, "clients (shoppers, merchants, POS) -> auth /login"),
            ProxyRoute(
                "auth_introspect", "auth", 18102, "checkout and labels -> auth /introspect"
            ),
        ),
        toxiproxy_api_port=8474,
    )


# Locust journeys and the request (step) names each one emits.
JOURNEY_STEPS: dict[str, tuple[str, ...]] = {
    "shopper": ("login", "checkout"),
    "merchant": ("login", "label"),
    "pos": ("login", "pos_checkout"),
}

# Locust user class for each journey name used in experiment files.
JOURNEY_CLASSES: dict[str, str] = {"shopper": "Shopper", "merchant": "Merchant", "pos": "PosTerminal"}

ALL_STEPS: tuple[str, ...] = ("login", "checkout", "label", "pos_checkout")
