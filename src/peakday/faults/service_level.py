"""Service-level faults: what Toxiproxy cannot do, played by a storefront service itself.

The seam is `ServiceBehaviours` (switch a misbehaviour on or off in one service);
`AdminEndpoints` implements it over each service's admin endpoint with httpx, and unit tests use
a fake. `behaviour_request` turns a spec Fault into the admin endpoint's request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from peakday.errors import AdminEndpointError
from peakday.experiment.models import Fault

if TYPE_CHECKING:  # httpx is imported only where admin endpoints exist (about 0.08 CPU s)
    import httpx


class ServiceBehaviours(Protocol):
    def switch_on(self, service: str, fault_id: str, body: Mapping[str, Any]) -> None: ...

    def switch_off(self, service: str, fault_id: str) -> None: ...


def behaviour_fault_id(index: int, fault: Fault) -> str:
    """Unique per fault, and recognisable as peakday's in GET /admin/status."""
    return f"peakday-{index}-{fault.behaviour}"


def behaviour_request(fault: Fault) -> dict[str, Any]:
    """The admin endpoint's PUT body for a `service` + `behaviour` fault (pure)."""
    if fault.behaviour is None:
        raise ValueError(f"The fault {fault.label!r} has no behaviour.")
    attributes = fault.attributes
    return {
        "behaviour": fault.behaviour,
        "status": int(attributes.get("status", 503)),
        "fraction": fault.toxicity,
        "delay_ms": float(attributes.get("delay", 0.0)),
        "jitter_ms": float(attributes.get("jitter", 0.0)),
    }


class AdminEndpoints:
    """ServiceBehaviours over HTTP: `urls` maps each service to its admin base URL."""

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout_s: float = 3.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self._urls = dict(urls)
        self._client = httpx.Client(timeout=timeout_s, trust_env=False, transport=transport)

    def _url(self, service: str, fault_id: str) -> str:
        if service not in self._urls:
            raise AdminEndpointError(
                f"The service {service!r} has no admin endpoint on this platform "
                f"(admin endpoints: {sorted(self._urls)!r}). "
                "Hint: service-level faults need platform local or docker."
            )
        return f"{self._urls[service]}/admin/faults/{fault_id}"

    def switch_on(self, service: str, fault_id: str, body: Mapping[str, Any]) -> None:
        self._send("PUT", self._url(service, fault_id), dict(body))

    def switch_off(self, service: str, fault_id: str) -> None:
        self._send("DELETE", self._url(service, fault_id), None)

    def _send(self, method: str, url: str, body: dict[str, Any] | None) -> None:
        import httpx

        try:
            response = self._client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise AdminEndpointError(
                f"{method} {url} failed: {type(exc).__name__}: {exc}. "
                "Hint: the service may be down (killed or paused by another fault)."
            ) from exc
        if response.status_code != 200:
            raise AdminEndpointError(
                f"{method} {url} answered HTTP {response.status_code}: {response.text[:300]!r}."
            )

    def close(self) -> None:
        self._client.close()
