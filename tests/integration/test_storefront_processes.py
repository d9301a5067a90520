"""The three storefront services as real processes on loopback, started exactly as the
orchestrator starts them (`python -m peakday.storefront ...`), then stopped with SIGTERM.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

HEALTHY_WITHIN_S = 10.0  # generous for a loaded CI machine; typically well under 1 s
EXIT_WITHIN_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2_000:]


@dataclass
class Storefront:
    tmp_path: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self, name: str, *extra: str, port: int | None = None) -> ServiceProcess:
        port = port or free_port()
        data = self.tmp_path / "data"
        data.mkdir(exist_ok=True)
        log_path = self.tmp_path / f"{name}-{port}.log"
        command = [
            sys.executable,
            "-m",
            "peakday.storefront",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            *extra,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        service = ServiceProcess(name, f"http://127.0.0.1:{port}", process, log_path)
        self.services[name] = service
        wait_healthy(service)
        return service

    def stop(self, name: str) -> int:
        service = self.services.pop(name)
        service.process.send_signal(signal.SIGTERM)
        try:
            return service.process.wait(timeout=EXIT_WITHIN_S)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
            pytest.fail(
                f"{name} did not exit within {EXIT_WITHIN_S} s of SIGTERM; log:\n"
                f"{service.log_tail()}"
            )

    def kill_all(self) -> None:
        for service in self.services.values():
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait()
        self.services.clear()


def wait_healthy(service: ServiceProcess) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(
                f"{service.name} exited with {service.process.returncode} before becoming "
                f"healthy; log:\n{service.log_tail()}"
            )
        try:
            response = httpx.get(f"{service.url}/health", timeout=1.0)
            if response.status_code == 200:
                assert response.json() == {"status": "ok", "service": service.name}
                return
            last_error = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last_error = repr(exc)
        time.sleep(0.02)
    pytest.fail(
        f"{service.name} was not healthy within {HEALTHY_WITHIN_S} s (last: {last_error}); "
        f"log:\n{service.log_tail()}"
    )


@pytest.fixture
def storefront(tmp_path: Path) -> Iterator[Storefront]:
    running = Storefront(tmp_path)
    try:
        yield running
    finally:
        running.kill_all()


def start_all(storefront: Storefront, auth_timeout_s: float = 2.0) -> dict[str, str]:
    auth = storefront.start("auth")
    to_auth = ("--auth-url", auth.url, "--auth-timeout-s", str(auth_timeout_s))
    checkout = storefront.start("checkout", *to_auth)
    labels = storefront.start("labels", *to_auth)
    return {"auth": auth.url, "checkout": checkout.url, "labels": labels.url}


def login(auth_url: str, username: str) -> str:
    response = httpx.post(
        f"{auth_url}/login", json={"username": username, "password": f"pw-{username}"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def headers(token: str, key: str | None = None) -> dict[str, str]:
    found = {"Authorization": f"Bearer {token}"}
    if key is not None:
        found["Idempotency-Key"] = key
    return found


def test_journeys_against_real_processes_then_clean_sigterm(storefront: Storefront) -> None:
    urls = start_all(storefront)
    shopper, merchant, pos = (
        login(urls["auth"], name) for name in ("shopper-042", "merchant-007", "pos-019")
    )
    order = {"items": [{"sku": "SKU-7", "quantity": 3}], "channel": "online"}

    with httpx.Client() as client:
        placed = client.post(
            f"{urls['checkout']}/checkout", json=order, headers=headers(shopper, "k1")
        )
        assert placed.status_code == 201, placed.text
        assert placed.json()["subject"] == "shopper-042"

        replay = client.post(
            f"{urls['checkout']}/checkout", json=order, headers=headers(shopper, "k1")
        )
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["order_id"] == placed.json()["order_id"]

        changed = {**order, "items": [{"sku": "SKU-7", "quantity": 4}]}
        conflict = client.post(
            f"{urls['checkout']}/checkout", json=changed, headers=headers(shopper, "k1")
        )
        assert conflict.status_code == 422

        read_back = client.get(
            f"{urls['checkout']}/orders/{placed.json()['order_id']}", headers=headers(shopper)
        )
        assert read_back.json() == placed.json()

        till = client.post(
            f"{urls['checkout']}/checkout",
            json={**order, "channel": "pos"},
            headers=headers(pos, str(uuid.uuid4())),
        )
        assert till.status_code == 201, till.text

        merchant_checkout = client.post(
            f"{urls['checkout']}/checkout", json=order, headers=headers(merchant, "m1")
        )
        assert merchant_checkout.status_code == 403

        label = client.post(
            f"{urls['labels']}/labels",
            json={
                "order_ref": placed.json()["order_id"],
                "weight_g": 900,
                "service_level": "ground",
            },
            headers=headers(merchant, "label-1"),
        )
        assert label.status_code == 201, label.text
        assert label.json()["tracking_number"].startswith("PDG")

        shopper_label = client.post(
            f"{urls['labels']}/labels",
            json={"order_ref": "x", "weight_g": 1, "service_level": "express"},
            headers=headers(shopper),
        )
        assert shopper_label.status_code == 403

        forged = client.post(
            f"{urls['checkout']}/checkout", json=order, headers=headers("A" * 43, "k2")
        )
        assert forged.status_code == 401

    for name in ("labels", "checkout", "auth"):
        assert storefront.stop(name) == 0, f"{name} did not exit cleanly on SIGTERM"


def test_concurrent_duplicate_checkouts_make_one_order(storefront: Storefront) -> None:
    urls = start_all(storefront)
    token = login(urls["auth"], "shopper-001")
    order = {"items": [{"sku": "SKU-1", "quantity": 1}], "channel": "online"}

    def place(_: int) -> httpx.Response:
        return httpx.post(
            f"{urls['checkout']}/checkout", json=order, headers=headers(token, "same-key")
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(place, range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19


def test_auth_down_gives_503_and_tokens_survive_an_auth_restart(storefront: Storefront) -> None:
    urls = start_all(storefront, auth_timeout_s=0.5)
    token = login(urls["auth"], "shopper-003")
    order = {"items": [{"sku": "SKU-3", "quantity": 1}], "channel": "online"}
    auth_port = int(urls["auth"].rsplit(":", 1)[1])

    assert storefront.stop("auth") == 0
    started = time.monotonic()
    down = httpx.post(f"{urls['checkout']}/checkout", json=order, headers=headers(token, "a"))
    assert down.status_code == 503
    assert down.json()["error"] == "auth_unavailable"
    assert time.monotonic() - started < 2.0
    label_down = httpx.post(
        f"{urls['labels']}/labels",
        json={"order_ref": "x", "weight_g": 1, "service_level": "ground"},
        headers=headers(token),
    )
    assert label_down.status_code == 503

    # Same port and data dir: checkout's --auth-url still points at it.
    storefront.start("auth", port=auth_port)
    up = httpx.post(f"{urls['checkout']}/checkout", json=order, headers=headers(token, "a"))
    assert up.status_code == 201, up.text
    assert storefront.stop("auth") == 0


@pytest.mark.slow
def test_checkout_sustains_load_without_errors(
    storefront: Storefront, record_property: Callable[[str, object], None]
) -> None:
    """A bounded 3 s loop of unique checkouts from 4 keep-alive clients: every one is a 201.

    The rate goes into the JUnit report (`checkout_req_per_s`); the floor only catches a
    collapse, since this machine's two cores also run the client and auth.
    """
    urls = start_all(storefront)
    token = login(urls["auth"], "shopper-050")
    order = {"items": [{"sku": "SKU-1", "quantity": 1}], "channel": "online"}
    duration_s = 3.0
    stop_at = time.monotonic() + duration_s

    def client_loop(_: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=urls["checkout"], timeout=5.0) as client:
            while time.monotonic() < stop_at:
                response = client.post(
                    "/checkout", json=order, headers=headers(token, uuid.uuid4().hex)
                )
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = [status for chunk in pool.map(client_loop, range(4)) for status in chunk]
    rate = len(statuses) / duration_s
    record_property("checkout_req_per_s", round(rate))
    assert set(statuses) == {201}
    assert rate > 50, f"only {rate:.0f} checkouts/s"
