"""`--workers 2`: each storefront service runs two server processes on one pre-bound socket.

Started exactly as a run starts them (LocalPlatform), the test sees /health answered by two
distinct processes of every service, both in the process group peakday tracks; concurrent
checkouts, each sent twice at once under one Idempotency-Key so the two copies may land on
different processes, reconcile with nothing lost or duplicated; stopping the platform ends
every worker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from integration.peakday_process import REPO
from peakday.integrity.io import STORES, read_store
from peakday.integrity.model import Confirmation
from peakday.integrity.reconcile import reconcile
from peakday.platforms.base import Endpoints
from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.processes.waiting import http_ok, poll_until
from peakday.storefront.web import SERVER_PID_HEADER
from peakday.topology import storefront_topology

pytestmark = pytest.mark.integration

ORDER = {"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "online"}
SHOPPERS = [f"shopper-{i:03d}" for i in range(6)]
ORDERS_PER_SHOPPER = 10


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[LocalPlatform, Endpoints]]:
    processes = ProcessGroup(tmp_path / "pids.json")
    tools = os.environ.get("PEAKDAY_TOOLS_DIR")
    local = LocalPlatform(
        storefront_topology(),
        tmp_path / "run",
        (*([Path(tools)] if tools else []), REPO / ".tools" / "bin"),
        processes,
        storefront_extra=["--workers", "2"],
    )
    try:
        yield local, local.start()
    finally:
        local.stop()


def answering_pids(url: str, attempts: int = 200) -> set[int]:
    """The pids that answer GET /health, one new connection per request, until two are seen
    (a worker may still be importing for the first few requests)."""
    seen: set[int] = set()
    for _ in range(attempts):
        response = httpx.get(f"{url}/health", timeout=5)
        assert response.status_code == 200
        seen.add(int(response.headers[SERVER_PID_HEADER]))
        if len(seen) == 2:
            break
    return seen


def gone(pid: int) -> bool:
    """No such process, or a zombie (dead, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def login(auth_url: str, username: str) -> str:
    response = httpx.post(
        f"{auth_url}/login", json={"username": username, "password": f"pw-{username}"}
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def place_twice(url: str, token: str, user: str) -> list[Confirmation]:
    """One order sent twice at once with the same key, each on its own connection."""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(f"{url}/checkout", json=ORDER, headers=headers, timeout=10),
                range(2),
            )
        )
    confirmations = []
    for response in answers:
        assert response.status_code == 201, response.text
        confirmations.append(
            Confirmation(
                kind="order",
                id=response.json()["order_id"],
                key=key,
                user=user,
                replayed=response.headers.get("Idempotent-Replayed") == "true",
            )
        )
    assert confirmations[0].id == confirmations[1].id, "one key must name one order"
    return confirmations


def test_two_workers_serve_each_service_and_keep_orders_exact(
    platform: tuple[LocalPlatform, Endpoints],
) -> None:
    local, endpoints = platform
    workers: dict[str, set[int]] = {}
    for name, url in endpoints.services.items():
        workers[name] = answering_pids(url)
        assert len(workers[name]) == 2, f"{name} answered from {workers[name]} only"
        tracked = local.service_process(name).pid
        for pid in workers[name]:
            assert os.getpgid(pid) == tracked, f"{name} worker {pid} is outside its group"

    auth_url = f"http://{endpoints.proxies['auth_login']}"
    tokens = {user: login(auth_url, user) for user in SHOPPERS}
    with ThreadPoolExecutor(len(SHOPPERS)) as pool:
        batches = list(
            pool.map(
                lambda user: [
                    c
                    for _ in range(ORDERS_PER_SHOPPER)
                    for c in place_twice(endpoints.services["checkout"], tokens[user], user)
                ],
                SHOPPERS,
            )
        )
    confirmations = [c for batch in batches for c in batch]
    local.stop()  # every worker stopped (stores closed) before the stores are read

    for pid in set().union(*workers.values()):
        assert gone(pid), f"worker {pid} outlived the platform's stop"
    stored = []
    for kind, (service, filename, table) in STORES.items():
        stored += read_store(Path(endpoints.data_dirs[service]) / filename, table, kind)
    report = reconcile(confirmations, stored)
    (orders, _labels) = report.kinds
    assert orders.replays == len(SHOPPERS) * ORDERS_PER_SHOPPER
    assert orders.confirmed == orders.stored == len(SHOPPERS) * ORDERS_PER_SHOPPER
    assert (report.lost, report.duplicated, report.unconfirmed_but_stored) == (0, 0, 0)


def test_a_kill_fault_and_a_restart_reach_every_worker(
    platform: tuple[LocalPlatform, Endpoints],
) -> None:
    local, endpoints = platform
    url = endpoints.services["labels"]
    before = answering_pids(url)
    assert len(before) == 2, before
    local.services().kill("labels")
    # SIGKILL of the group, not just the tracked process (a forked worker whose parent died
    # with it stays a zombie until init reaps it: dead all the same).
    assert poll_until(lambda: all(gone(pid) for pid in before), timeout_s=5), before
    local.restart_service("labels")
    assert poll_until(http_ok(f"{url}/health"), timeout_s=20)
    after = answering_pids(url)
    assert len(after) == 2 and not after & before, (before, after)
