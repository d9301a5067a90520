"""HTTP/1.1 on the standard library's http.client, for the small APIs the orchestrator polls
(Toxiproxy's REST API and /metrics, readiness URLs): one kept-alive connection per object.

`requests` (and urllib3) cost every run about 85 ms of imports for three small callers, and a
new Session (and an environment proxy lookup) per call; these need neither.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# What "the server did not answer" is: refused, reset, timed out, or not HTTP.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)
# The peer closed a kept-alive connection while it sat idle (the server's idle timeout, or a
# restart): the request never reached a live server, so it is sent once more on a new one.
_CLOSED_WHILE_IDLE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
# Sent with every request, kept-alive or not.
REQUEST_HEADERS = {"User-Agent": "peakday", "Accept": "*/*"}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def _dropped(sock: socket.socket | None) -> bool:
    """True when an idle kept-alive socket is readable: the peer closed it (or sent bytes
    nobody asked for), so it must not carry the next request."""
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


class KeptAliveConnection:
    """One HTTP/1.1 connection to `address` ("host:port"), opened on first use and kept open.

    Every call waits at most `timeout_s` to connect and for each read. A connection the server
    closed while idle is replaced, and a request that failed on it is sent once more; any other
    failure closes the connection and raises (one of TRANSPORT_ERRORS). Calls from several
    threads take turns.
    """

    def __init__(self, address: str, timeout_s: float) -> None:
        self.address = address
        self._timeout_s = timeout_s
        self._connection = http.client.HTTPConnection(address, timeout=timeout_s)
        self._lock = threading.Lock()

    def request(self, method: str, path: str, json_body: object = None) -> HttpResponse:
        """Send one request (with `json_body` as JSON when given) and read the whole answer."""
        headers = dict(REQUEST_HEADERS)
        payload: bytes | None = None
        if json_body is not None:
            payload = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        with self._lock:
            connection = self._connection
            if _dropped(connection.sock):
                connection.close()
            reused = connection.sock is not None
            try:
                return self._exchange(method, path, payload, headers)
            except _CLOSED_WHILE_IDLE:
                connection.close()
                if not reused:
                    raise
            except BaseException:
                connection.close()  # a half-done exchange must not carry the next request
                raise
            try:
                return self._exchange(method, path, payload, headers)
            except BaseException:
                connection.close()
                raise

    def _exchange(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str]
    ) -> HttpResponse:
        self._connection.request(method, path, body=payload, headers=headers)
        response = self._connection.getresponse()
        return HttpResponse(response.status, response.read())

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def get_once(url: str, timeout_s: float) -> HttpResponse:
    """GET `url` on a connection of its own, closed after; redirects are not followed."""
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout_s)
    elif parts.scheme == "http":
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout_s)
    else:
        raise ValueError(f"Only http:// and https:// URLs can be fetched, not {url!r}.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers=REQUEST_HEADERS)
        response = connection.getresponse()
        return HttpResponse(response.status, response.read())
    finally:
        connection.close()
