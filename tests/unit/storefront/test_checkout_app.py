from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peakday.errors import UsageError
from peakday.storefront.checkout import create_app
from peakday.storefront.rules import unit_price_cents
from peakday.storefront.settings import StorefrontSettings

from .fakes import (
    MERCHANT_TOKEN,
    OTHER_SHOPPER_TOKEN,
    POS_TOKEN,
    SHOPPER_TOKEN,
    UNKNOWN_TOKEN,
    FakeClock,
    FakeIntrospector,
    bearer,
)

ORDER = {
    "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
    "channel": "online",
}


def checkout_settings(data_dir: Path) -> StorefrontSettings:
    return StorefrontSettings(service="checkout", data_dir=data_dir)


@pytest.fixture
def client(
    data_dir: Path, introspector: FakeIntrospector, clock: FakeClock
) -> Iterator[TestClient]:
    app = create_app(checkout_settings(data_dir), introspector=introspector, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def place(
    client: TestClient,
    token: str = SHOPPER_TOKEN,
    key: str | None = "key-1",
    body: dict[str, Any] | None = None,
) -> Any:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/checkout", json=ORDER if body is None else body, headers=headers)


def order_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "checkout.sqlite3") as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM orders").fetchone()
    return int(count)


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "checkout"}


def test_health_does_not_ask_auth(client: TestClient, introspector: FakeIntrospector) -> None:
    introspector.unavailable = True
    assert client.get("/health").status_code == 200
    assert introspector.calls == []


def test_checkout_confirms_a_priced_order(client: TestClient) -> None:
    response = place(client)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    order = response.json()
    assert order["order_id"].startswith("ord_")
    assert order["status"] == "confirmed"
    assert order["subject"] == "shopper-001"
    assert order["channel"] == "online"
    assert order["created_at"] == "2025-11-28T09:00:00.000Z"
    price_1, price_2 = unit_price_cents("SKU-1"), unit_price_cents("SKU-2")
    assert order["items"] == [
        {
            "sku": "SKU-1",
            "quantity": 2,
            "unit_price_cents": price_1,
            "line_total_cents": 2 * price_1,
        },
        {"sku": "SKU-2", "quantity": 1, "unit_price_cents": price_2, "line_total_cents": price_2},
    ]
    assert order["total_cents"] == 2 * price_1 + price_2


def test_replay_returns_the_same_order_and_adds_no_row(
    client: TestClient, data_dir: Path, clock: FakeClock
) -> None:
    first = place(client, key="replay-me")
    clock.advance(30)
    second = place(client, key="replay-me")
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert order_rows(data_dir) == 1


def test_replay_matches_on_meaning_not_bytes(client: TestClient) -> None:
    first = place(client, key="k")
    reordered = {
        "channel": "online",
        "items": [{"quantity": 2, "sku": "SKU-1"}, {"quantity": 1, "sku": "SKU-2"}],
    }
    second = place(client, key="k", body=reordered)
    assert second.status_code == 201
    assert second.json()["order_id"] == first.json()["order_id"]


def test_same_key_with_a_different_body_is_422(client: TestClient, data_dir: Path) -> None:
    place(client, key="k")
    changed = {"items": [{"sku": "SKU-1", "quantity": 3}], "channel": "online"}
    response = place(client, key="k", body=changed)
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert order_rows(data_dir) == 1


def test_same_key_from_another_subject_is_a_new_order(client: TestClient, data_dir: Path) -> None:
    mine = place(client, token=SHOPPER_TOKEN, key="shared")
    theirs = place(client, token=OTHER_SHOPPER_TOKEN, key="shared")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["order_id"] != mine.json()["order_id"]
    assert order_rows(data_dir) == 2


def test_concurrent_duplicates_create_one_order(
    client: TestClient, introspector: FakeIntrospector, data_dir: Path
) -> None:
    # The delay keeps every request waiting on "auth" at once, so they all reach the insert
    # together, as retries from an impatient client would.
    introspector.delay_s = 0.05
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda _: place(client, key="storm"), range(12)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" in r.headers for r in responses) == 11
    assert order_rows(data_dir) == 1


def test_missing_idempotency_key_is_400(client: TestClient, data_dir: Path) -> None:
    response = place(client, key=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"
    assert order_rows(data_dir) == 0


@pytest.mark.parametrize(
    "key",
    [b"k" * 129, b"with space", "ключ".encode(), b""],
    ids=["too-long", "space", "non-ascii", "empty"],
)
def test_malformed_idempotency_key_is_400(client: TestClient, key: bytes) -> None:
    response = client.post(
        "/checkout", json=ORDER, headers={**bearer(SHOPPER_TOKEN), "Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"


def test_key_is_checked_before_asking_auth(
    client: TestClient, introspector: FakeIntrospector
) -> None:
    introspector.unavailable = True
    assert place(client, key=None).status_code == 400
    assert introspector.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not a token"},
        bearer(UNKNOWN_TOKEN),
    ],
    ids=["missing", "basic-scheme", "empty-bearer", "malformed", "unknown"],
)
def test_bad_credentials_are_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/checkout", json=ORDER, headers={**headers, "Idempotency-Key": "k"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_malformed_token_never_reaches_auth(
    client: TestClient, introspector: FakeIntrospector
) -> None:
    client.post(
        "/checkout", json=ORDER, headers={"Authorization": "Bearer !!", "Idempotency-Key": "k"}
    )
    assert introspector.calls == []


def test_auth_unavailable_is_503_not_500(
    client: TestClient, introspector: FakeIntrospector, data_dir: Path
) -> None:
    introspector.unavailable = True
    response = place(client)
    assert response.status_code == 503
    assert response.json()["error"] == "auth_unavailable"
    assert "could not be reached" in response.json()["detail"]
    assert response.headers["Retry-After"] == "1"
    assert order_rows(data_dir) == 0


@pytest.mark.parametrize(
    ("token", "channel", "status"),
    [
        (SHOPPER_TOKEN, "online", 201),
        (SHOPPER_TOKEN, "pos", 403),
        (POS_TOKEN, "pos", 201),
        (POS_TOKEN, "online", 403),
        (MERCHANT_TOKEN, "online", 403),
        (MERCHANT_TOKEN, "pos", 403),
    ],
    ids=[
        "shopper-online",
        "shopper-pos",
        "pos-pos",
        "pos-online",
        "merchant-online",
        "merchant-pos",
    ],
)
def test_role_rules(client: TestClient, token: str, channel: str, status: int) -> None:
    response = place(client, token=token, body={**ORDER, "channel": channel})
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    "body",
    [
        {"items": [], "channel": "online"},
        {"items": [{"sku": "A", "quantity": 1}] * 51, "channel": "online"},
        {"items": [{"sku": "A", "quantity": 0}], "channel": "online"},
        {"items": [{"sku": "A", "quantity": 101}], "channel": "online"},
        {"items": [{"sku": "A", "quantity": "1"}], "channel": "online"},
        {"items": [{"sku": "A", "quantity": True}], "channel": "online"},
        {"items": [{"sku": "A", "quantity": 1.5}], "channel": "online"},
        {"items": [{"sku": "", "quantity": 1}], "channel": "online"},
        {"items": [{"sku": "A", "quantity": 1}], "channel": "phone"},
        {"items": [{"sku": "A", "quantity": 1}]},
        {"items": [{"sku": "A", "quantity": 1}], "channel": "online", "coupon": "X"},
    ],
    ids=[
        "no-items",
        "51-items",
        "quantity-0",
        "quantity-101",
        "quantity-string",
        "quantity-bool",
        "quantity-fraction",
        "empty-sku",
        "unknown-channel",
        "no-channel",
        "extra-field",
    ],
)
def test_invalid_bodies_are_422(
    client: TestClient, body: dict[str, Any], introspector: FakeIntrospector
) -> None:
    response = place(client, body=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert introspector.calls == []


def test_lone_surrogates_are_422_not_a_crash_when_echoed(client: TestClient) -> None:
    # Valid JSON, but not encodable as UTF-8: echoing it back in the order would fail.
    response = client.post(
        "/checkout",
        content=b'{"items": [{"sku": "\\ud800", "quantity": 1}], "channel": "online"}',
        headers={
            **bearer(SHOPPER_TOKEN),
            "Idempotency-Key": "k",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 422


def test_integral_floats_are_integers_as_json_schema_says(client: TestClient) -> None:
    response = place(client, body={"items": [{"sku": "A", "quantity": 3.0}], "channel": "online"})
    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 3


def test_boundary_bodies_are_accepted(client: TestClient) -> None:
    body = {"items": [{"sku": f"S{i}", "quantity": 100} for i in range(50)], "channel": "online"}
    assert place(client, body=body).status_code == 201


def test_owner_reads_order_back(client: TestClient) -> None:
    created = place(client)
    order_id = created.json()["order_id"]
    response = client.get(f"/orders/{order_id}", headers=bearer(SHOPPER_TOKEN))
    assert response.status_code == 200
    assert response.content == created.content


def test_other_subjects_and_unknown_ids_get_404(client: TestClient) -> None:
    order_id = place(client).json()["order_id"]
    assert client.get(f"/orders/{order_id}", headers=bearer(OTHER_SHOPPER_TOKEN)).status_code == 404
    response = client.get("/orders/ord_missing", headers=bearer(SHOPPER_TOKEN))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_reading_an_order_needs_a_token(client: TestClient) -> None:
    order_id = place(client).json()["order_id"]
    assert client.get(f"/orders/{order_id}").status_code == 401


def test_reading_an_order_while_auth_is_down_is_503(
    client: TestClient, introspector: FakeIntrospector
) -> None:
    order_id = place(client).json()["order_id"]
    introspector.unavailable = True
    assert client.get(f"/orders/{order_id}", headers=bearer(SHOPPER_TOKEN)).status_code == 503


def test_shutdown_closes_the_introspector(data_dir: Path, introspector: FakeIntrospector) -> None:
    with TestClient(create_app(checkout_settings(data_dir), introspector=introspector)):
        pass
    assert introspector.closed


def test_without_introspector_an_auth_url_is_required(data_dir: Path) -> None:
    with pytest.raises(UsageError, match="--auth-url"):
        create_app(checkout_settings(data_dir))


def test_openapi_is_truthful(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/checkout"]["post"]
    assert set(post["responses"]) == {"201", "400", "401", "403", "422", "429", "503"}
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
    (key_param,) = post["parameters"]
    assert key_param["name"] == "Idempotency-Key"
    assert key_param["in"] == "header"
    assert key_param["required"] is True
    assert key_param["schema"]["type"] == "string"
    assert key_param["schema"]["maxLength"] == 128
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    quantity = schema["components"]["schemas"]["OrderItem"]["properties"]["quantity"]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, 100)
    get = schema["paths"]["/orders/{order_id}"]["get"]
    assert set(get["responses"]) == {"200", "401", "404", "422", "429", "503"}
