"""The admin endpoint switches service-level faults, and the services obey them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from peakday.storefront import auth, checkout
from peakday.storefront.admin import by_port, create_admin_app
from peakday.storefront.settings import StorefrontSettings

from .fakes import CHEAP_SCRYPT, SHOPPER_TOKEN, FakeClock, FakeIntrospector, bearer

CREDENTIALS = {"username": "shopper-001", "password": "pw-shopper-001"}
ORDER = {"items": [{"sku": "SKU-1", "quantity": 1}], "channel": "online"}


def admin_for(app: FastAPI) -> TestClient:
    return TestClient(create_admin_app(app.state.fault_board, app.state.admin_status))


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def auth_app(data_dir: Path, clock: FakeClock, slept: list[float]) -> Iterator[FastAPI]:
    settings = StorefrontSettings(service="auth", data_dir=data_dir, scrypt=CHEAP_SCRYPT)
    yield auth.create_app(settings, clock=clock, sleep=slept.append)


def test_login_errors_fail_token_issuance_while_introspection_works(auth_app: FastAPI) -> None:
    with TestClient(auth_app) as client, admin_for(auth_app) as admin:
        token = client.post("/login", json=CREDENTIALS).json()["access_token"]
        response = admin.put("/admin/faults/f1", json={"behaviour": "login_errors"})
        assert response.status_code == 200, response.text
        failed = client.post("/login", json=CREDENTIALS)
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "1"
        assert failed.json()["error"] == "injected_fault"
        assert client.post("/introspect", json={"token": token}).status_code == 200
        assert admin.delete("/admin/faults/f1").json()["removed"] is True
        assert client.post("/login", json=CREDENTIALS).status_code == 200


def test_introspect_errors_with_a_chosen_status(auth_app: FastAPI) -> None:
    with TestClient(auth_app) as client, admin_for(auth_app) as admin:
        token = client.post("/login", json=CREDENTIALS).json()["access_token"]
        admin.put("/admin/faults/f1", json={"behaviour": "introspect_errors", "status": 500})
        assert client.post("/introspect", json={"token": token}).status_code == 500
        assert client.post("/login", json=CREDENTIALS).status_code == 200


def test_slow_user_store_holds_logins(auth_app: FastAPI, slept: list[float]) -> None:
    with TestClient(auth_app) as client, admin_for(auth_app) as admin:
        admin.put("/admin/faults/s", json={"behaviour": "slow_user_store", "delay_ms": 4000})
        assert client.post("/login", json=CREDENTIALS).status_code == 200
        assert slept == [4.0]
        status = admin.get("/admin/status").json()
        assert status["injected"] == 1
        assert status["faults"]["s"]["delay_ms"] == 4000


def test_admin_refuses_what_the_service_cannot_play(
    data_dir: Path, introspector: FakeIntrospector
) -> None:
    app = checkout.create_app(
        StorefrontSettings(service="checkout", data_dir=data_dir), introspector=introspector
    )
    with admin_for(app) as admin, TestClient(app) as client:
        refused = admin.put("/admin/faults/x", json={"behaviour": "slow_user_store"})
        assert refused.status_code == 422
        assert (
            admin.put("/admin/faults/x", json={"behaviour": "errors", "status": 418}).status_code
            == 422
        )
        assert (
            admin.put("/admin/faults/x", json={"behaviour": "errors", "status": 502}).status_code
            == 200
        )
        headers = {**bearer(SHOPPER_TOKEN), "Idempotency-Key": "k1"}
        assert client.post("/checkout", json=ORDER, headers=headers).status_code == 502
        admin.delete("/admin/faults")
        assert client.post("/checkout", json=ORDER, headers=headers).status_code == 201


def test_admin_status_reports_profile_knobs(data_dir: Path, introspector: FakeIntrospector) -> None:
    app = checkout.create_app(
        StorefrontSettings(service="checkout", data_dir=data_dir), introspector=introspector
    )
    with admin_for(app) as admin:
        status = admin.get("/admin/status").json()
    assert status["profile"] == "standard"
    assert status["knobs"]["auth_timeout_s"] == "2"


def test_admin_routes_answer_only_on_the_admin_port(auth_app: FastAPI) -> None:
    dispatch = by_port(auth_app, create_admin_app(auth_app.state.fault_board, dict), 9999)
    # TestClient reports server ("testserver", 80): the service's side, where /admin is unknown.
    with TestClient(dispatch) as client:
        assert client.get("/admin/status").status_code == 404
        assert client.get("/health").status_code == 200
