"""Checkout and labels against the real auth app (in memory): tokens that must not work."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peakday.storefront import auth, checkout, labels
from peakday.storefront.auth_client import interpret_introspection
from peakday.storefront.identity import Identity
from peakday.storefront.settings import StorefrontSettings

from .fakes import CHEAP_SCRYPT, FakeClock

ORDER = {"items": [{"sku": "SKU-1", "quantity": 1}], "channel": "online"}
LABEL = {"order_ref": "ORD-1", "weight_g": 500, "service_level": "ground"}


class AuthAppIntrospector:
    """The Introspector seam answered by the real auth app, as HttpIntrospector would."""

    def __init__(self, client: TestClient) -> None:
        self._client = client

    async def introspect(self, token: str) -> Identity:
        response = self._client.post("/introspect", json={"token": token})
        return interpret_introspection(response.status_code, response.content)

    async def aclose(self) -> None:
        return None


@pytest.fixture
def clients(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[TestClient, ...]]:
    def settings(service: str) -> StorefrontSettings:
        return StorefrontSettings(
            service=service,  # type: ignore[arg-type]
            data_dir=tmp_path / service,
            scrypt=CHEAP_SCRYPT,
            token_ttl_s=60,
        )

    with TestClient(auth.create_app(settings("auth"), clock=clock)) as auth_client:
        seam = AuthAppIntrospector(auth_client)
        shop = checkout.create_app(settings("checkout"), introspector=seam, clock=clock)
        ship = labels.create_app(settings("labels"), introspector=seam, clock=clock)
        with TestClient(shop) as shop_client, TestClient(ship) as ship_client:
            yield auth_client, shop_client, ship_client


def token_for(auth_client: TestClient, username: str) -> str:
    body = {"username": username, "password": f"pw-{username}"}
    token: str = auth_client.post("/login", json=body).json()["access_token"]
    return token


def place(shop: TestClient, authorization: str | None, body: dict[str, object] = ORDER) -> int:
    headers = {"Idempotency-Key": secrets.token_hex(8)}
    if authorization is not None:
        headers["Authorization"] = authorization
    return shop.post("/checkout", json=body, headers=headers).status_code


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic c2hvcHBlcjpwdw==",
        "Bearer not a token",
        "Bearer " + "x" * 300,
        "Bearer " + secrets.token_urlsafe(32),  # well-formed, but auth never issued it
    ],
    ids=["missing", "empty", "basic", "malformed", "too-long", "forged"],
)
def test_checkout_refuses_tokens_auth_did_not_issue(
    clients: tuple[TestClient, ...], authorization: str | None
) -> None:
    _auth, shop, _ship = clients
    assert place(shop, authorization) == 401


def test_a_real_token_works_until_it_expires(
    clients: tuple[TestClient, ...], clock: FakeClock
) -> None:
    auth_client, shop, _ship = clients
    token = token_for(auth_client, "shopper-001")
    assert place(shop, f"Bearer {token}") == 201
    clock.advance(61)
    assert place(shop, f"Bearer {token}") == 401


def test_roles_cannot_escalate(clients: tuple[TestClient, ...]) -> None:
    auth_client, shop, ship = clients
    shopper = token_for(auth_client, "shopper-001")
    merchant = token_for(auth_client, "merchant-001")
    pos_sale = {**ORDER, "channel": "pos"}
    headers = {"Authorization": f"Bearer {shopper}"}
    assert ship.post("/labels", json=LABEL, headers=headers).status_code == 403
    assert place(shop, f"Bearer {shopper}", pos_sale) == 403
    assert place(shop, f"Bearer {merchant}") == 403
    merchant_headers = {"Authorization": f"Bearer {merchant}"}
    assert ship.post("/labels", json=LABEL, headers=merchant_headers).status_code == 201
