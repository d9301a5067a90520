from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peakday.storefront.accounts import token_digest
from peakday.storefront.auth import create_app
from peakday.storefront.settings import StorefrontSettings

from .fakes import CHEAP_SCRYPT, FakeClock


def auth_settings(data_dir: Path, token_ttl_s: int = 3600) -> StorefrontSettings:
    return StorefrontSettings(
        service="auth", data_dir=data_dir, token_ttl_s=token_ttl_s, scrypt=CHEAP_SCRYPT
    )


@pytest.fixture
def client(data_dir: Path, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(auth_settings(data_dir), clock=clock)) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str | None = None) -> str:
    response = client.post(
        "/login", json={"username": username, "password": password or f"pw-{username}"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "auth"}


@pytest.mark.parametrize(
    ("username", "role"),
    [("shopper-000", "shopper"), ("merchant-007", "merchant"), ("pos-019", "pos")],
)
def test_seeded_accounts_log_in(client: TestClient, username: str, role: str) -> None:
    response = client.post("/login", json={"username": username, "password": f"pw-{username}"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["role"] == role
    assert len(body["access_token"]) == 43


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient) -> None:
    wrong = client.post("/login", json={"username": "shopper-001", "password": "pw-shopper-002"})
    unknown = client.post("/login", json={"username": "nobody", "password": "pw-nobody"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "shopper-001"},
        {"username": "", "password": "x"},
        {"username": "shopper-001", "password": 7},
        {"username": "u" * 65, "password": "x"},
        {"username": "shopper-001", "password": "pw-shopper-001", "extra": True},
    ],
    ids=["no-password", "empty-username", "password-not-str", "long-username", "extra-field"],
)
def test_bad_login_bodies_are_422_with_the_error_shape(
    client: TestClient, body: dict[str, object]
) -> None:
    response = client.post("/login", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert isinstance(response.json()["detail"], str)


def test_login_rejects_non_json(client: TestClient) -> None:
    response = client.post("/login", content=b"username=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 422


def test_introspect_reports_subject_role_and_expiry(client: TestClient, clock: FakeClock) -> None:
    token = login(client, "merchant-003")
    response = client.post("/introspect", json={"token": token})
    assert response.status_code == 200
    assert response.json() == {
        "active": True,
        "sub": "merchant-003",
        "role": "merchant",
        "exp": int(clock.now_s) + 3600,
    }


@pytest.mark.parametrize(
    "token",
    ["", "short", "has spaces but is long enough", "x" * 10_000, "A" * 43],
    ids=["empty", "too-short", "spaces", "huge", "forged-well-formed"],
)
def test_introspect_rejects_tokens_it_did_not_issue(client: TestClient, token: str) -> None:
    response = client.post("/introspect", json={"token": token})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_introspect_without_token_field_is_422(client: TestClient) -> None:
    assert client.post("/introspect", json={}).status_code == 422
    assert client.post("/introspect", json={"token": 12345}).status_code == 422


def test_tokens_expire(client: TestClient, clock: FakeClock) -> None:
    token = login(client, "shopper-005")
    clock.advance(3599)
    assert client.post("/introspect", json={"token": token}).status_code == 200
    clock.advance(1)
    response = client.post("/introspect", json={"token": token})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_ttl_is_configurable(data_dir: Path, clock: FakeClock) -> None:
    with TestClient(create_app(auth_settings(data_dir, token_ttl_s=60), clock=clock)) as client:
        response = client.post("/login", json={"username": "pos-001", "password": "pw-pos-001"})
        assert response.json()["expires_in"] == 60


def test_only_a_digest_of_the_token_is_stored(client: TestClient, data_dir: Path) -> None:
    token = login(client, "shopper-010")
    with sqlite3.connect(data_dir / "auth.sqlite3") as conn:
        rows = conn.execute("SELECT token_sha256, subject FROM tokens").fetchall()
    assert rows == [(token_digest(token), "shopper-010")]
    for stored_file in data_dir.iterdir():  # the main file and its WAL
        assert token.encode() not in stored_file.read_bytes()


def test_tokens_survive_a_restart_and_seeding_happens_once(
    data_dir: Path, clock: FakeClock
) -> None:
    with TestClient(create_app(auth_settings(data_dir), clock=clock)) as first:
        token = login(first, "pos-002")
    with sqlite3.connect(data_dir / "auth.sqlite3") as conn:
        hashes_before = conn.execute("SELECT password_hash FROM users ORDER BY username").fetchall()
    with TestClient(create_app(auth_settings(data_dir), clock=clock)) as second:
        response = second.post("/introspect", json={"token": token})
        assert response.status_code == 200
        assert response.json()["sub"] == "pos-002"
    with sqlite3.connect(data_dir / "auth.sqlite3") as conn:
        hashes_after = conn.execute("SELECT password_hash FROM users ORDER BY username").fetchall()
    assert len(hashes_after) == 140
    assert hashes_after == hashes_before


def test_passwords_are_stored_as_salted_scrypt_hashes(client: TestClient, data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "auth.sqlite3") as conn:
        hashes = [h for (h,) in conn.execute("SELECT password_hash FROM users")]
    assert len(hashes) == 140  # every seeded account
    assert all(h.startswith("scrypt$") for h in hashes)
    assert len({h.split("$")[4] for h in hashes}) == len(hashes)  # every salt differs
    assert not any("pw-" in h for h in hashes)


def test_expired_tokens_are_purged_on_later_logins(
    client: TestClient, clock: FakeClock, data_dir: Path
) -> None:
    login(client, "shopper-020")
    clock.advance(3600)
    login(client, "shopper-021")
    with sqlite3.connect(data_dir / "auth.sqlite3") as conn:
        subjects = [s for (s,) in conn.execute("SELECT subject FROM tokens")]
    assert subjects == ["shopper-021"]


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unreadable_body_is_400_with_the_error_shape(client: TestClient) -> None:
    response = client.post(
        "/login", content=b'{"username": "\x80"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_openapi_declares_error_shape_for_every_error(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    login_responses = schema["paths"]["/login"]["post"]["responses"]
    assert set(login_responses) == {"200", "400", "401", "422", "429"}
    assert login_responses["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
