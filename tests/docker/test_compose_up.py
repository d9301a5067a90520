"""`docker compose -f compose/docker-compose.yml up --wait` with the locally built images, end to
end: a shopper logs in through Toxiproxy's auth_login proxy and checks out with the token (checkout
asks auth through the auth_introspect proxy, by container name); a latency toxic added through
Toxiproxy's HTTP API slows logins by about that much and leaves checkout alone.

Needs the Docker Compose v2 plugin (.ci/install-compose): skipped without it, failed instead when
PEAKDAY_REQUIRE_DOCKER=1. Each run is its own compose project at free 127.0.0.1 ports
(PEAKDAY_PORT_<NAME>), so it runs beside other docker tests and a stack started by hand.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "compose" / "docker-compose.yml"
PORT_NAMES = ("toxiproxy_api", "auth_login", "auth_introspect", "auth", "checkout", "labels")
LATENCY_MS = 400
SAMPLES = 5
SHOPPER = "shopper-042"


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now, all different (held open together while picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def median_ms(call: Callable[[], httpx.Response], expected_status: int) -> float:
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected_status, response.text
    return statistics.median(times)


def test_compose_up_serves_the_storefront_through_toxiproxy(compose_cli: None) -> None:
    project = f"peakday-test-compose-{uuid.uuid4().hex[:8]}"
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    env = {**os.environ, **{f"PEAKDAY_PORT_{n.upper()}": str(p) for n, p in ports.items()}}

    def compose(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "-p", project, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def url(name: str, path: str) -> str:
        return f"http://127.0.0.1:{ports[name]}{path}"

    try:
        up = compose("up", "-d", "--wait", "--wait-timeout", "120", timeout_s=180)
        logs = "" if up.returncode == 0 else compose("logs", "--no-color", "--tail", "30").stdout
        assert up.returncode == 0, f"{up.stdout}{up.stderr}\n{logs}"

        # No HTTP(S)_PROXY from the environment: every request here stays on 127.0.0.1.
        with httpx.Client(trust_env=False, timeout=10) as client:
            credentials = {"username": SHOPPER, "password": f"pw-{SHOPPER}"}

            def login() -> httpx.Response:
                return client.post(url("auth_login", "/login"), json=credentials)

            first = login()
            assert first.status_code == 200, first.text
            token = first.json()["access_token"]

            def checkout() -> httpx.Response:
                return client.post(
                    url("checkout", "/checkout"),
                    json={"items": [{"sku": "SKU-7", "quantity": 2}], "channel": "online"},
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )

            placed = checkout()
            assert placed.status_code == 201, placed.text
            assert placed.json()["subject"] == SHOPPER

            proxies = client.get(url("toxiproxy_api", "/proxies")).json()
            assert sorted(proxies) == ["auth_introspect", "auth_login"]
            baseline_ms = median_ms(login, 200)

            toxic = {
                "name": "login_latency",
                "type": "latency",
                "stream": "downstream",
                "attributes": {"latency": LATENCY_MS, "jitter": 0},
            }
            added = client.post(url("toxiproxy_api", "/proxies/auth_login/toxics"), json=toxic)
            assert added.status_code == 200, added.text
            slowed_ms = median_ms(login, 200)
            checkout_ms = median_ms(checkout, 201)

            removed = client.delete(
                url("toxiproxy_api", "/proxies/auth_login/toxics/login_latency")
            )
            assert removed.status_code == 204, removed.text
            recovered_ms = median_ms(login, 200)

        timings = (
            f"login baseline {baseline_ms:.0f} ms, with the {LATENCY_MS} ms toxic "
            f"{slowed_ms:.0f} ms, after removing it {recovered_ms:.0f} ms; "
            f"checkout with the toxic {checkout_ms:.0f} ms"
        )
        print(timings)  # shown with pytest -rP
        assert 0.8 * LATENCY_MS <= slowed_ms - baseline_ms <= 2 * LATENCY_MS, timings
        assert checkout_ms < LATENCY_MS / 2, timings  # the toxic is on auth_login only
        assert recovered_ms < baseline_ms + LATENCY_MS / 2, timings
    finally:
        down = compose("down", "-v", "--remove-orphans", "--timeout", "5", timeout_s=120)
    assert down.returncode == 0, down.stdout + down.stderr
    project_label = f"label=com.docker.compose.project={project}"
    left = subprocess.run(
        ["docker", "ps", "-a", "--filter", project_label, "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    networks = subprocess.run(
        ["docker", "network", "ls", "--filter", project_label, "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert left == [] and networks == [], (left, networks)
