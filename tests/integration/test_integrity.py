"""Order integrity for real: retries forced by reset_peer lose and duplicate nothing, and
reconciliation catches an order removed from the store behind the client's back.

Clients reach checkout through an extra Toxiproxy proxy whose downstream is delayed and then
reset: checkout commits the order, the client sees "connection reset", and retries with the
same Idempotency-Key, as a careful client does.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integration.peakday_process import REPO
from peakday.faults.toxiproxy import ToxicSpec
from peakday.integrity.io import STORES, read_store
from peakday.integrity.model import Confirmation, IntegrityReport
from peakday.integrity.reconcile import reconcile
from peakday.platforms.base import Endpoints
from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.topology import storefront_topology

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDER = {"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "online"}
SHOPPERS = [f"shopper-{i:03d}" for i in range(8)]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[LocalPlatform, Endpoints]]:
    processes = ProcessGroup(tmp_path / "pids.json")
    local = LocalPlatform(
        storefront_topology(), tmp_path / "run", (REPO / ".tools" / "bin",), processes
    )
    try:
        yield local, local.start()
    finally:
        local.stop()


def login(auth_url: str, username: str) -> str:
    response = httpx.post(
        f"{auth_url}/login", json={"username": username, "password": f"pw-{username}"}
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def checkout_until_confirmed(
    url: str, token: str, username: str, attempts: int = 12
) -> tuple[Confirmation, int]:
    """POST one order, retrying with the same key until a 201; returns it and the resets."""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    resets = 0
    for _ in range(attempts):
        try:
            # A new connection per attempt: Toxiproxy decides toxicity per connection.
            response = httpx.post(f"{url}/checkout", json=ORDER, headers=headers, timeout=5)
        except httpx.TransportError:
            resets += 1
            continue
        assert response.status_code == 201, response.text
        confirmation = Confirmation(
            kind="order",
            id=response.json()["order_id"],
            key=key,
            user=username,
            replayed=response.headers.get("Idempotent-Replayed") == "true",
        )
        return confirmation, resets
    raise AssertionError(f"no 201 after {attempts} attempts")


def reconcile_stores(endpoints: Endpoints, confirmations: list[Confirmation]) -> IntegrityReport:
    stored = []
    for kind, (service, filename, table) in STORES.items():
        stored += read_store(Path(endpoints.data_dirs[service]) / filename, table, kind)
    return reconcile(confirmations, stored)


def test_retries_through_reset_peer_lose_and_duplicate_nothing_and_tampering_is_caught(
    platform: tuple[LocalPlatform, Endpoints],
) -> None:
    local, endpoints = platform
    toxiproxy = local.toxiproxy()
    checkout_host = endpoints.services["checkout"].removeprefix("http://")
    edge = toxiproxy.create_proxy("checkout_edge", "127.0.0.1:0", checkout_host)
    # The answer is held 300 ms, and half the connections are reset after 100 ms: the order is
    # committed by then, but the client never hears of it.
    toxiproxy.add_toxic(
        "checkout_edge",
        ToxicSpec("slow-answer", "latency", "downstream", 1.0, {"latency": 300, "jitter": 0}),
    )
    toxiproxy.add_toxic(
        "checkout_edge",
        ToxicSpec("reset", "reset_peer", "downstream", 0.5, {"timeout": 100}),
    )
    auth_url = f"http://{endpoints.proxies['auth_login']}"
    tokens = {user: login(auth_url, user) for user in SHOPPERS}

    confirmations = []
    resets = 0
    for _round in range(3):
        for user in SHOPPERS:
            confirmation, reset_here = checkout_until_confirmed(
                f"http://{edge}", tokens[user], user
            )
            confirmations.append(confirmation)
            resets += reset_here
    local.stop()  # every store closed (WAL checkpointed) before it is read

    report = reconcile_stores(endpoints, confirmations)
    (orders, _labels) = report.kinds
    assert resets > 5, "the reset_peer toxic should have forced retries"
    assert orders.replays > 0, "some retries should have been answered from the stored order"
    assert orders.confirmed == orders.stored == len(confirmations) == 24
    assert (report.lost, report.duplicated, report.unconfirmed_but_stored) == (0, 0, 0)

    # Tamper: an order the client was told about disappears from the store.
    with sqlite3.connect(Path(endpoints.data_dirs["checkout"]) / "checkout.sqlite3") as conn:
        conn.execute("DELETE FROM orders WHERE record_id = ?", (confirmations[3].id,))
    tampered = reconcile_stores(endpoints, confirmations)
    assert tampered.lost == 1
    assert tampered.kinds[0].lost_examples == (confirmations[3].id,)
