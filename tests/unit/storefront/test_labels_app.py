from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peakday.errors import UsageError
from peakday.storefront.labels import create_app
from peakday.storefront.rules import label_cost_cents
from peakday.storefront.settings import StorefrontSettings

from .fakes import (
    MERCHANT_TOKEN,
    OTHER_MERCHANT_TOKEN,
    POS_TOKEN,
    SHOPPER_TOKEN,
    UNKNOWN_TOKEN,
    FakeClock,
    FakeIntrospector,
    bearer,
)

LABEL = {"order_ref": "ord_123", "weight_g": 1_250, "service_level": "express"}


def labels_settings(data_dir: Path) -> StorefrontSettings:
    return StorefrontSettings(service="labels", data_dir=data_dir)


@pytest.fixture
def client(
    data_dir: Path, introspector: FakeIntrospector, clock: FakeClock
) -> Iterator[TestClient]:
    app = create_app(labels_settings(data_dir), introspector=introspector, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def create(
    client: TestClient,
    token: str = MERCHANT_TOKEN,
    key: str | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/labels", json=LABEL if body is None else body, headers=headers)


def label_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "labels.sqlite3") as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM labels").fetchone()
    return int(count)


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "labels"}


def test_merchant_gets_a_label(client: TestClient) -> None:
    response = create(client)
    assert response.status_code == 201
    label = response.json()
    assert label["label_id"].startswith("lbl_")
    assert re.fullmatch(r"PDE\d{13}", label["tracking_number"])
    assert label["merchant"] == "merchant-001"
    assert label["order_ref"] == "ord_123"
    assert label["weight_g"] == 1_250
    assert label["service_level"] == "express"
    assert label["cost_cents"] == label_cost_cents(1_250, "express")
    assert label["created_at"] == "2025-11-28T09:00:00.000Z"


@pytest.mark.parametrize("token", [SHOPPER_TOKEN, POS_TOKEN], ids=["shopper", "pos"])
def test_other_roles_are_403(client: TestClient, token: str, data_dir: Path) -> None:
    response = create(client, token=token)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert label_rows(data_dir) == 0


def test_unknown_token_is_401(client: TestClient) -> None:
    assert create(client, token=UNKNOWN_TOKEN).status_code == 401
    assert client.post("/labels", json=LABEL).status_code == 401


def test_auth_unavailable_is_503(client: TestClient, introspector: FakeIntrospector) -> None:
    introspector.unavailable = True
    response = create(client)
    assert response.status_code == 503
    assert response.json()["error"] == "auth_unavailable"


def test_without_a_key_every_request_is_a_new_label(client: TestClient, data_dir: Path) -> None:
    first, second = create(client), create(client)
    assert first.json()["label_id"] != second.json()["label_id"]
    assert label_rows(data_dir) == 2


def test_with_a_key_a_retry_replays_the_label(client: TestClient, data_dir: Path) -> None:
    first = create(client, key="label-1")
    second = create(client, key="label-1")
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert label_rows(data_dir) == 1


def test_key_reused_for_another_parcel_is_422(client: TestClient) -> None:
    create(client, key="label-1")
    response = create(client, key="label-1", body={**LABEL, "weight_g": 9})
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"


def test_malformed_key_is_400(client: TestClient) -> None:
    assert create(client, key="x" * 129).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {**LABEL, "weight_g": 0},
        {**LABEL, "weight_g": 70_001},
        {**LABEL, "weight_g": 1.5},
        {**LABEL, "service_level": "overnight"},
        {**LABEL, "order_ref": ""},
        {"weight_g": 10, "service_level": "ground"},
    ],
    ids=["weight-0", "weight-70001", "weight-float", "unknown-level", "empty-ref", "no-ref"],
)
def test_invalid_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    response = create(client, body=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_owner_reads_label_back_and_others_get_404(client: TestClient) -> None:
    created = create(client)
    label_id = created.json()["label_id"]
    mine = client.get(f"/labels/{label_id}", headers=bearer(MERCHANT_TOKEN))
    assert mine.status_code == 200
    assert mine.content == created.content
    theirs = client.get(f"/labels/{label_id}", headers=bearer(OTHER_MERCHANT_TOKEN))
    assert theirs.status_code == 404
    assert client.get("/labels/lbl_nope", headers=bearer(MERCHANT_TOKEN)).status_code == 404


def test_without_introspector_an_auth_url_is_required(data_dir: Path) -> None:
    with pytest.raises(UsageError, match="--auth-url"):
        create_app(labels_settings(data_dir))


def test_openapi_declares_optional_key(client: TestClient) -> None:
    post = client.get("/openapi.json").json()["paths"]["/labels"]["post"]
    assert set(post["responses"]) == {"201", "400", "401", "403", "422", "429", "503"}
    weight = client.get("/openapi.json").json()["components"]["schemas"]["LabelRequest"]
    assert weight["properties"]["weight_g"]["minimum"] == 1
    assert weight["properties"]["weight_g"]["maximum"] == 70_000
    (key_param,) = post["parameters"]
    assert key_param["name"] == "Idempotency-Key"
    assert key_param["required"] is False
