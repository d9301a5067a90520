"""Service-level faults: the admin request a Fault becomes, the HTTP adapter, the injector."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from peakday.errors import AdminEndpointError
from peakday.experiment.models import Fault
from peakday.faults.injector import FaultEvent, FaultInjector
from peakday.faults.service_level import AdminEndpoints, behaviour_fault_id, behaviour_request


def behaviour_fault(**extra: Any) -> Fault:
    spec = {"at": 5, "duration": 10, "service": "auth", "behaviour": "login_errors", **extra}
    return Fault.model_validate(spec)


class FakeBehaviours:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def switch_on(self, service: str, fault_id: str, body: Mapping[str, Any]) -> None:
        self.calls.append(("on", service, fault_id, body["behaviour"]))

    def switch_off(self, service: str, fault_id: str) -> None:
        self.calls.append(("off", service, fault_id))


def test_a_fault_becomes_the_admin_request() -> None:
    fault = behaviour_fault(toxicity=0.25, attributes={"status": 429})
    assert behaviour_request(fault) == {
        "behaviour": "login_errors",
        "status": 429,
        "fraction": 0.25,
        "delay_ms": 0.0,
        "jitter_ms": 0.0,
    }
    assert behaviour_fault_id(3, fault) == "peakday-3-login_errors"
    assert fault.label == "login_errors@auth"
    assert fault.is_behaviour_fault and not fault.is_service_fault


def test_admin_endpoints_put_and_delete() -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url), body))
        return httpx.Response(200, json={})

    admin = AdminEndpoints({"auth": "http://a:1"}, transport=httpx.MockTransport(handler))
    admin.switch_on("auth", "f", {"behaviour": "errors"})
    admin.switch_off("auth", "f")
    assert seen == [
        ("PUT", "http://a:1/admin/faults/f", {"behaviour": "errors"}),
        ("DELETE", "http://a:1/admin/faults/f", None),
    ]


def test_admin_endpoint_errors_name_the_request() -> None:
    refuse = httpx.MockTransport(lambda request: httpx.Response(422, text="nope"))
    admin = AdminEndpoints({"auth": "http://a:1"}, transport=refuse)
    with pytest.raises(AdminEndpointError, match="HTTP 422"):
        admin.switch_on("auth", "f", {})
    with pytest.raises(AdminEndpointError, match="no admin endpoint"):
        admin.switch_off("labels", "f")


def test_injector_drives_behaviours_through_the_seam() -> None:
    behaviours = FakeBehaviours()
    events: list[FaultEvent] = []
    faults = (behaviour_fault(), behaviour_fault(behaviour="slow_user_store", at=20))
    injector = FaultInjector(
        None,  # type: ignore[arg-type]  # no toxics here, so no Toxiproxy
        faults,
        events.append,
        behaviours=behaviours,
    )
    injector.apply(0)
    injector.apply(1)
    injector.remove(0)
    injector.rollback_all()
    assert behaviours.calls == [
        ("on", "auth", "peakday-0-login_errors", "login_errors"),
        ("on", "auth", "peakday-1-slow_user_store", "slow_user_store"),
        ("off", "auth", "peakday-0-login_errors"),
        ("off", "auth", "peakday-1-slow_user_store"),
    ]
    assert [e.kind for e in events] == ["fault_applied"] * 2 + ["fault_removed"] * 2
