"""Failure kinds from real servers, through real Locust with the peakday plugin.

A tiny raw-socket server answers every request one way: HTTP 500, silence past the request
timeout, a TCP reset (SO_LINGER 0), a response whose body is cut off by a reset, or a close with
no answer; a closed port refuses. The storefront journeys (FastHttpUser) and a user's own
locustfile on HttpUser and on FastHttpUser must report each as the same kind, also when the
locustfile marks the failure with its own message (catch_response). Also: the
storefront's three connection modes open the TCP connections they promise (what `toxicity`
applies to, docs/load.md).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from integration.test_locust_plugin import (
    STOREFRONT,
    _CountingServer,
    _StorefrontHandler,
    locust_argv,
    run_locust,
    storefront_env,
    write_plan,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REQUEST_TIMEOUT_S = 0.5


class MisbehavingServer:
    """Accepts connections on loopback and answers each request as `mode` says."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            while connection.recv(65536):  # one request per read is enough for these clients
                with self._lock:
                    self.requests += 1
                if self.mode == "http_5xx":
                    body = b'{"detail": "broken"}'
                    connection.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    continue
                if self.mode == "timeout":
                    time.sleep(REQUEST_TIMEOUT_S * 4)
                    return
                if self.mode == "closed":
                    return  # a FIN, no answer
                if self.mode == "cut-off":  # the status line and part of the body, then a reset
                    connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"acc')
                    time.sleep(0.05)
                linger_zero = struct.pack("ii", 1, 0)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
                return  # closing with SO_LINGER 0 sends RST

    def close(self) -> None:
        self._closed = True
        self.listener.close()


def closed_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: refused


@pytest.fixture
def misbehaving() -> Iterator[Callable[[str], str]]:
    servers: list[MisbehavingServer] = []

    def start(mode: str) -> str:
        if mode == "refused":
            return closed_port_url()
        server = MisbehavingServer(mode)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.close()


CASES = [
    ("http_5xx", "http_5xx"),
    ("timeout", "timeout"),
    ("reset", "connection"),
    ("cut-off", "connection"),
    ("closed", "connection"),
    ("refused", "connection"),
]


@pytest.mark.parametrize(("mode", "kind"), CASES, ids=[mode for mode, _ in CASES])
def test_storefront_login_failures_are_classified_by_kind(
    tmp_path: Path, misbehaving: Callable[[str], str], mode: str, kind: str
) -> None:
    auth_url = misbehaving(mode)
    plan_path, metrics = write_plan(tmp_path, users=4, request_timeout_s=REQUEST_TIMEOUT_S)

    run = run_locust(
        locust_argv(STOREFRONT),
        storefront_env(plan_path, auth_url, closed_port_url()),
        metrics,
        tmp_path,
    )

    assert run.returncode == 0, run.output
    by_step = run.requests_by_step()
    assert set(by_step) == {"login"}, run.output
    assert by_step["login"] >= 4
    assert run.failures_by_step() == {"login": Counter({kind: by_step["login"]})}


USER_LOCUSTFILE = """
from locust import FastHttpUser, HttpUser, constant, task

URLS = {urls!r}


def caught(response):
    # What locustfiles often write: their own message, which replaces Locust's exception.
    if response.status_code == 0 or response.status_code >= 500:
        response.failure(f"HTTP {{response.status_code}}: {{response.error}}")


class Plain(HttpUser):
    host = "http://127.0.0.1:9"
    wait_time = constant(0.1)

    @task
    def each(self):
        for mode, url in URLS.items():
            self.client.get(url + "/x", name="http-" + mode, timeout={timeout})
            with self.client.get(
                url + "/x", name="http-caught-" + mode, timeout={timeout}, catch_response=True
            ) as response:
                caught(response)


class Fast(FastHttpUser):
    host = "http://127.0.0.1:9"
    wait_time = constant(0.1)
    network_timeout = connection_timeout = {timeout}

    @task
    def each(self):
        for mode, url in URLS.items():
            self.client.get(url + "/x", name="fast-" + mode)
            with self.client.get(
                url + "/x", name="fast-caught-" + mode, catch_response=True
            ) as response:
                caught(response)
"""


def test_a_users_httpuser_and_fasthttpuser_report_the_same_kinds(
    tmp_path: Path, misbehaving: Callable[[str], str]
) -> None:
    urls = {mode: misbehaving(mode) for mode, _ in CASES}
    locustfile = tmp_path / "user_locust.py"
    locustfile.write_text(USER_LOCUSTFILE.format(urls=urls, timeout=REQUEST_TIMEOUT_S))
    plan_path, metrics = write_plan(tmp_path, users=2, weights={"Plain": 1.0, "Fast": 1.0})

    run = run_locust(locust_argv(locustfile), storefront_env(plan_path, "", ""), metrics, tmp_path)

    assert run.returncode == 0, run.output
    by_step = run.requests_by_step()
    failures = run.failures_by_step()
    for client in ("http", "fast", "http-caught", "fast-caught"):
        for mode, kind in CASES:
            step = f"{client}-{mode}"
            assert by_step.get(step, 0) >= 1, (step, by_step, run.output)
            assert failures[step] == Counter({kind: by_step[step]}), step


class _ConnectionCountingServer(_CountingServer):
    def __init__(self) -> None:
        super().__init__(_StorefrontHandler)

    def process_request(self, request: object, client_address: object) -> None:
        self.count("connections")
        super().process_request(request, client_address)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["keep-alive", "per-journey", "per-request"])
def test_storefront_connection_modes_open_the_connections_they_promise(
    tmp_path: Path, mode: str
) -> None:
    server = _ConnectionCountingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    users = 4
    plan_path, metrics = write_plan(
        tmp_path, users=users, connections=mode, weights={"Merchant": 1.0}
    )
    try:
        run = run_locust(
            locust_argv(STOREFRONT),
            storefront_env(plan_path, server.url, server.url),
            metrics,
            tmp_path,
        )
    finally:
        server.shutdown()
        server.server_close()

    assert run.returncode == 0, run.output
    assert run.failures_by_step() == {step: Counter() for step in run.requests_by_step()}
    by_step = run.requests_by_step()
    requests = sum(by_step.values())
    connections = server.counts["connections"]
    assert requests > 4 * users, by_step
    if mode == "keep-alive":
        assert connections == users  # one per user for its whole life (auth and labels: one host)
    elif mode == "per-journey":
        # A journey is a label, with a login first every 5 labels: one connection for both. The
        # login in on_start shares the first journey's; a journey cut off at the end may not.
        assert by_step["label"] <= connections <= by_step["label"] + users, (connections, by_step)
        assert connections < requests - users
    else:
        assert connections == requests, (connections, by_step)
