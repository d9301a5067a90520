from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from peakday.storefront import auth, checkout
from peakday.storefront.profiles import resilience_for
from peakday.storefront.settings import StorefrontSettings

from .fakes import CHEAP_SCRYPT, SHOPPER_TOKEN, FakeClock, FakeIntrospector, bearer


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_auth_counts_requests_by_route_and_status_and_login_outcomes(
    data_dir: Path, clock: FakeClock
) -> None:
    settings = StorefrontSettings(service="auth", data_dir=data_dir, scrypt=CHEAP_SCRYPT)
    with TestClient(auth.create_app(settings, clock=clock)) as client:
        ok = client.post("/login", json={"username": "shopper-001", "password": "pw-shopper-001"})
        token = ok.json()["access_token"]
        client.post("/login", json={"username": "shopper-001", "password": "wrong"})
        client.post("/login", json={"username": "shopper-001", "password": "wrong"})
        client.post("/introspect", json={"token": token})
        client.post("/introspect", json={"token": "x"})
        client.get("/health")
        client.get("/no/such/path")
        got = samples(client)

    def requests(route: str, status: str) -> float:
        labels = (("method", "POST"), ("route", route), ("service", "auth"), ("status", status))
        return got[("peakday_http_requests_total", labels)]

    assert requests("/login", "200") == 1
    assert requests("/login", "503") == 0  # exists before the first error, for rate()
    assert requests("/login", "401") == 2
    assert requests("/introspect", "200") == 1
    assert requests("/introspect", "401") == 1
    assert got[("peakday_auth_logins_total", (("outcome", "issued"),))] == 1
    assert got[("peakday_auth_logins_total", (("outcome", "invalid_credentials"),))] == 2
    assert got[("peakday_auth_introspections_total", (("outcome", "malformed"),))] == 1
    assert got[("peakday_auth_introspections_total", (("outcome", "active"),))] == 1
    count = got[
        ("peakday_http_request_duration_seconds_count", (("route", "/login"), ("service", "auth")))
    ]
    assert count == 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("service", "auth"), ("status", "404"))
    assert got[("peakday_http_requests_total", unmatched)] == 1
    # /health and /metrics are not traffic.
    assert not any(dict(labels).get("route") == "/health" for _name, labels in got)


def test_checkout_exposes_cache_hits_from_its_status(
    data_dir: Path, introspector: FakeIntrospector, clock: FakeClock
) -> None:
    settings = StorefrontSettings(
        service="checkout", data_dir=data_dir, resilience=resilience_for("hardened", {})
    )
    app = checkout.create_app(settings, introspector=introspector, clock=clock)
    order = {"items": [{"sku": "SKU-1", "quantity": 1}], "channel": "online"}
    with TestClient(app) as client:
        for n in range(3):
            client.post(
                "/checkout",
                json=order,
                headers=bearer(SHOPPER_TOKEN) | {"Idempotency-Key": f"k-{n}"},
            )
        got = samples(client)
    created = (("method", "POST"), ("route", "/checkout"), ("service", "checkout"))
    assert got[("peakday_http_requests_total", (*created, ("status", "201")))] == 3
    # The first order asks auth; the next two find the token in the cache.
    assert got[("peakday_introspection_cache_hits_total", (("service", "checkout"),))] == 2
