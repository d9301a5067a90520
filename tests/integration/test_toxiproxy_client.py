"""The standard-library HTTP clients against real servers: ToxiproxyHttpClient and
ToxiproxyMetrics against a real toxiproxy-server (stopped, restarted, without metrics), a
socket that accepts and never answers, a port already taken; http_ok against a plain HTTP
server's 200, redirect and error answers."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from integration.peakday_process import REPO
from peakday.errors import ToxiproxyError
from peakday.faults.toxiproxy import ToxicSpec, ToxiproxyHttpClient
from peakday.faults.traffic import MetricsUnavailable, ToxiproxyMetrics
from peakday.http_connection import KeptAliveConnection
from peakday.processes.children import free_loopback_ports
from peakday.processes.tools import find_binary
from peakday.processes.waiting import http_ok, poll_until

pytestmark = pytest.mark.integration

LATENCY = ToxicSpec("slow", "latency", "downstream", 1.0, {"latency": 50})


@dataclass
class ToxiproxyServer:
    """A toxiproxy-server on a fixed loopback port, which the test can stop and start again."""

    port: int
    metrics: bool = True
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        tools = [Path(d) for d in (os.environ.get("PEAKDAY_TOOLS_DIR"),) if d]
        binary = find_binary("toxiproxy-server", [*tools, REPO / ".tools" / "bin"])
        args = [binary, "-host", "127.0.0.1", "-port", str(self.port)]
        self.process = subprocess.Popen(
            [*args, *(["-proxy-metrics"] if self.metrics else [])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{self.port}/version"
        assert poll_until(http_ok(url), timeout_s=10), "toxiproxy-server did not come up"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def server() -> Iterator[ToxiproxyServer]:
    (port,) = free_loopback_ports(1)
    running = ToxiproxyServer(port)
    running.start()
    yield running
    running.stop()


def connections_to(port: int) -> list[tuple[str, int]]:
    """This process's established TCP connections to 127.0.0.1:`port` (their local ends)."""
    return [
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


def test_every_call_of_the_api_works_on_one_kept_alive_connection(
    server: ToxiproxyServer,
) -> None:
    client = ToxiproxyHttpClient("127.0.0.1", server.port)
    (listen_port,) = free_loopback_ports(1)
    assert "2.12.0" in client.version()
    listen = client.create_proxy("db", f"127.0.0.1:{listen_port}", "127.0.0.1:9")
    assert listen == f"127.0.0.1:{listen_port}"
    first = connections_to(server.port)
    client.add_toxic("db", LATENCY)
    client.set_enabled("db", False)
    assert client.active_toxics() == {"db": ["slow", "disabled"]}
    state = client.proxies()["db"]
    assert (state.listen, state.upstream, state.enabled, state.toxics) == (
        listen,
        "127.0.0.1:9",
        False,
        ("slow",),
    )
    client.reset()
    assert client.active_toxics() == {"db": []}
    client.add_toxic("db", LATENCY)
    client.remove_toxic("db", "slow")
    # create_proxy replaces a proxy of that name (its toxics go with it)
    client.add_toxic("db", LATENCY)
    assert client.create_proxy("db", listen, "127.0.0.1:10") == listen
    assert client.proxies()["db"].upstream == "127.0.0.1:10"
    assert client.active_toxics() == {"db": []}
    client.delete_proxy("db")
    assert client.proxies() == {}
    assert len(first) == 1 and connections_to(server.port) == first, "one connection, kept"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.add_toxic("nope", LATENCY), "has no proxy named 'nope'"),
        (lambda c: c.remove_toxic("nope", "slow"), "has no proxy named 'nope'"),
        (lambda c: c.set_enabled("nope", True), "has no proxy named 'nope'"),
        (lambda c: c.delete_proxy("nope"), "has no proxy named 'nope'"),
        (
            lambda c: c.remove_toxic("db", "absent"),
            "refused to remove toxic 'absent' from proxy 'db': 404 toxic not found",
        ),
        (
            lambda c: c.add_toxic("db", LATENCY),
            "refused to add toxic 'slow' to proxy 'db': 409 toxic already exists",
        ),
        (
            lambda c: c.add_toxic("db", ToxicSpec("x", "no-such-type", "downstream", 1.0, {})),
            "refused to add toxic 'x' to proxy 'db': 400 invalid toxic type",
        ),
    ],
    ids=[
        "toxic-on-missing-proxy",
        "remove-from-missing-proxy",
        "enable-missing-proxy",
        "delete-missing-proxy",
        "missing-toxic",
        "toxic-twice",
        "unknown-toxic-type",
    ],
)
def test_what_the_server_refuses_is_a_toxiproxy_error_with_its_reason(
    server: ToxiproxyServer, call: Callable[[ToxiproxyHttpClient], object], message: str
) -> None:
    client = ToxiproxyHttpClient("127.0.0.1", server.port)
    (listen_port,) = free_loopback_ports(1)
    client.create_proxy("db", f"127.0.0.1:{listen_port}", "127.0.0.1:9")
    client.add_toxic("db", LATENCY)
    with pytest.raises(ToxiproxyError, match=message):
        call(client)


def test_a_server_that_is_not_running_is_a_toxiproxy_error_with_a_hint() -> None:
    (port,) = free_loopback_ports(1)
    client = ToxiproxyHttpClient("127.0.0.1", port, timeout_s=2.0)
    with pytest.raises(ToxiproxyError) as raised:
        client.reset()
    text = str(raised.value)
    assert f"Toxiproxy at 127.0.0.1:{port} did not answer while trying to reset" in text
    assert "refused" in text.lower()
    assert "Hint: check that toxiproxy-server is running" in text


def test_a_server_that_accepts_and_never_answers_is_an_error_within_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts connections; nobody ever reads or answers
        port = silent.getsockname()[1]
        client = ToxiproxyHttpClient("127.0.0.1", port, timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(ToxiproxyError) as raised:
            client.add_toxic("db", LATENCY)
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0, elapsed
    assert "did not answer while trying to add toxic 'slow' to proxy 'db'" in str(raised.value)
    assert "no answer within 0.5 s" in str(raised.value)
    assert "Hint:" in str(raised.value)


def test_a_kept_alive_connection_the_server_closed_is_replaced(server: ToxiproxyServer) -> None:
    client = ToxiproxyHttpClient("127.0.0.1", server.port)
    metrics = ToxiproxyMetrics(f"127.0.0.1:{server.port}")
    assert client.proxies() == {}
    assert metrics.read() == {}
    before = connections_to(server.port)
    assert len(before) == 2, "one connection each, kept open"
    server.stop()
    server.start()  # the same port; both connections were closed by the old server
    (listen_port,) = free_loopback_ports(1)
    assert client.create_proxy("db", f"127.0.0.1:{listen_port}", "127.0.0.1:9")
    assert metrics.read() == {}
    after = connections_to(server.port)
    assert len(after) == 2 and not set(after) & set(before)


def serve_each(listener: socket.socket, accepted: list[int], answers: list[bytes | None]) -> None:
    """A scripted server: on each connection it accepts, reads one request per item of
    `answers`, sends that answer, and closes the connection at the first None (the request
    that came with it dropped unanswered). Counts the connections in `accepted`."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        accepted.append(1)
        with connection:
            for answer in answers:
                connection.recv(65536)
                if answer is None:
                    break
                connection.sendall(answer)


def scripted_server(accepted: list[int], answers: list[bytes | None]) -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    thread = threading.Thread(target=serve_each, args=(listener, accepted, answers), daemon=True)
    thread.start()
    return listener


VERSION_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n" + b'{"version": "2.12.0"}\n'


def test_a_request_the_server_dropped_on_a_reused_connection_is_sent_once_more() -> None:
    accepted: list[int] = []
    # Each connection answers its first request and drops the second, as a server dropping an
    # idle kept-alive connection just as a request is sent.
    with scripted_server(accepted, [VERSION_ANSWER, None]) as listener:
        connection = KeptAliveConnection(f"127.0.0.1:{listener.getsockname()[1]}", 2.0)
        answers = [connection.request("GET", "/version").status for _ in range(3)]
    assert answers == [200, 200, 200]
    assert len(accepted) == 3, "each dropped request was sent again on a new connection"


def test_a_fresh_connection_that_fails_is_not_retried() -> None:
    accepted: list[int] = []
    with scripted_server(accepted, [None]) as listener:  # drops every first request
        client = ToxiproxyHttpClient("127.0.0.1", listener.getsockname()[1], timeout_s=2.0)
        with pytest.raises(ToxiproxyError, match="did not answer while trying to reset"):
            client.reset()
    assert len(accepted) == 1


def test_creating_a_proxy_on_a_port_already_taken_says_so_with_a_hint(
    server: ToxiproxyServer,
) -> None:
    client = ToxiproxyHttpClient("127.0.0.1", server.port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        with pytest.raises(ToxiproxyError) as raised:
            client.create_proxy("db", taken, "127.0.0.1:9")
    text = str(raised.value)
    assert f"could not create proxy 'db' listening on {taken!r}" in text
    assert "address already in use" in text
    assert "Hint: another process may hold that port" in text
    assert client.proxies() == {}


def test_threads_sharing_one_client_each_get_their_own_answers(server: ToxiproxyServer) -> None:
    client = ToxiproxyHttpClient("127.0.0.1", server.port)
    ports = free_loopback_ports(4)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        name = f"p{index}"
        try:
            client.create_proxy(name, f"127.0.0.1:{ports[index]}", "127.0.0.1:9")
            for _ in range(25):
                client.add_toxic(name, LATENCY)
                assert client.proxies()[name].toxics == ("slow",)
                client.remove_toxic(name, "slow")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(client.proxies()) == ["p0", "p1", "p2", "p3"]


def test_metrics_of_a_server_without_proxy_metrics_are_unavailable() -> None:
    (port,) = free_loopback_ports(1)
    plain = ToxiproxyServer(port, metrics=False)
    plain.start()
    try:
        with pytest.raises(MetricsUnavailable, match="started without -proxy-metrics"):
            ToxiproxyMetrics(f"127.0.0.1:{port}").read()
    finally:
        plain.stop()


class Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = {"/ok": 200, "/moved": 302, "/starting": 503}.get(self.path, 404)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("path", "ready"),
    [("/ok", True), ("/moved", False), ("/starting", False), ("/missing", False)],
)
def test_a_readiness_check_is_ready_on_200_only_and_follows_no_redirect(
    path: str, ready: bool
) -> None:
    web = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    web.daemon_threads = True
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        check = http_ok(f"http://127.0.0.1:{web.server_address[1]}{path}")
        assert check() is ready
    finally:
        web.shutdown()
        web.server_close()
