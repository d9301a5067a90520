"""What every platform provides: start the storefront behind Toxiproxy, and stop it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from peakday.faults.toxiproxy import ToxiproxyApi


@dataclass(frozen=True)
class Endpoints:
    """Where things answer once a platform is up (all on loopback from the orchestrator)."""

    toxiproxy_api: str  # host:port
    services: Mapping[str, str]  # service name -> base URL, direct (no proxy)
    proxies: Mapping[str, str]  # proxy name -> host:port it listens on, seen from the host
    data_dirs: Mapping[str, str] = field(default_factory=dict)

    def locust_env(self) -> dict[str, str]:
        """The URLs the storefront journeys use: logins go through the auth_login proxy."""
        return {
            "PEAKDAY_AUTH_URL": f"http://{self.proxies['auth_login']}",
            "PEAKDAY_CHECKOUT_URL": self.services["checkout"],
            "PEAKDAY_LABELS_URL": self.services["labels"],
        }


class Platform(Protocol):
    name: str

    def start(self) -> Endpoints:
        """Start Toxiproxy and the services, create the proxies, wait until all are healthy."""
        ...

    def toxiproxy(self) -> ToxiproxyApi: ...

    def stop(self) -> None:
        """Stop everything started; safe to call twice and after a failed start."""
        ...
