"""The real Introspector: asks auth's POST /introspect over HTTP/1.1 on the event loop, through
a small pool of kept-alive connections.

`--auth-url` usually points at a Toxiproxy proxy, so everything a fault can do to the wire
(refuse, reset, stall, trickle, return garbage) must end as AuthUnavailable within the deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from peakday.storefront.identity import AuthUnavailable, Identity, InvalidToken, Role

# Runs one token check, e.g. through a circuit breaker.
CallGuard = Callable[[Callable[[], Coroutine[Any, Any, Identity]]], Awaitable[Identity]]

# Bytes of a response head (status line and headers) and body beyond which auth's answer is
# garbage: a real one is a few hundred bytes.
_MAX_HEAD = 16_384
_MAX_BODY = 65_536


def interpret_introspection(status_code: int, content: bytes) -> Identity:
    """Auth's answer as an Identity; InvalidToken for 401, AuthUnavailable for anything else."""
    if status_code == 401:
        raise InvalidToken("Auth does not recognise the bearer token (unknown or expired).")
    if status_code != 200:
        raise AuthUnavailable(f"Auth answered the token check with HTTP {status_code}.")
    try:
        payload = json.loads(content)
        if not isinstance(payload, dict) or payload.get("active") is not True:
            raise ValueError("not an active-token answer")
        subject, role, expires_at = payload["sub"], Role(payload["role"]), payload["exp"]
        if not isinstance(subject, str) or type(expires_at) is not int:
            raise ValueError("wrong field types")
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthUnavailable(
            f"Auth answered the token check with an unreadable body: {content[:200]!r}."
        ) from exc
    return Identity(subject=subject, role=role, expires_at=expires_at)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def usable(self) -> bool:
        """False once auth (or the proxy) closed it while it sat in the pool."""
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


def parse_response_head(head: bytes) -> tuple[int, int, bool]:
    """(status, content length, keep alive) of an HTTP/1.1 response head; ValueError if it is
    not one this client can read (no Content-Length, chunked, not HTTP/1.x)."""
    status_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    version, status, *_reason = status_line.split(b" ", 2)
    if not version.startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    length: int | None = None
    keep_alive = version == b"HTTP/1.1"
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding":
            raise ValueError("chunked answers are not expected from auth")
        elif name == b"connection":
            keep_alive = value.strip().lower() == b"keep-alive"
    if length is None or not 0 <= length <= _MAX_BODY:
        raise ValueError(f"unusable Content-Length: {length!r}")
    return int(status), length, keep_alive


class HttpIntrospector:
    """Checks tokens on the event loop over kept-alive HTTP/1.1 connections to auth.

    Why not httpx: its sync client had to run on worker threads (httpx.AsyncClient cost ~1 ms
    of CPU per call here), and each socket call there waited for the GIL the event loop held;
    the whole hop was ~80% of a standard checkout's server CPU (docs/benchmarks.md, knee).
    This client does one write and two reads per call on the loop itself. At most
    `max_connections` calls are in flight; more wait for a connection inside the deadline.
    The deadline caps the whole call (connect, send, wait, read), so a proxy trickling bytes
    cannot hold it longer; a connection a call was interrupted on is closed, never reused.
    """

    def __init__(
        self,
        auth_url: str,
        timeout_s: float,
        max_connections: int = 100,
        guard: CallGuard | None = None,
    ) -> None:
        url = urlsplit(auth_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"auth URL must be http://host:port[/base], got {auth_url!r}")
        self._auth_url = auth_url
        self._host = url.hostname
        self._port = url.port or 80
        self._path = url.path.rstrip("/") + "/introspect"
        self._host_header = url.netloc
        self._guard = guard
        self._deadline_s = timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []

    async def introspect(self, token: str) -> Identity:
        if self._guard is None:
            return await self._ask_auth(token)
        return await self._guard(lambda: self._ask_auth(token))

    async def _ask_auth(self, token: str) -> Identity:
        body = json.dumps({"token": token}).encode()
        request = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host_header}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            async with asyncio.timeout(self._deadline_s), self._slots:
                status, content = await self._exchange(request)
        except TimeoutError as exc:
            raise AuthUnavailable(
                f"Auth at {self._auth_url!r} did not answer the token check within "
                f"{self._deadline_s:g} s."
            ) from exc
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            # IncompleteReadError is an EOFError: the connection closed mid-answer.
            raise AuthUnavailable(
                f"Auth at {self._auth_url!r} could not be reached: {type(exc).__name__}: {exc}."
            ) from exc
        return interpret_introspection(status, content)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        connection = self._pooled()
        if connection is None:
            reader, writer = await asyncio.open_connection(self._host, self._port)
            connection = _Connection(reader, writer)
        reusable = False
        try:
            connection.writer.write(request)
            head = await connection.reader.readuntil(b"\r\n\r\n")
            if len(head) > _MAX_HEAD:
                raise ValueError("response head too long")
            status, length, keep_alive = parse_response_head(head)
            content = await connection.reader.readexactly(length)
            reusable = keep_alive
            return status, content
        finally:
            # Also on cancellation (the deadline): a half-read answer must not reach the next call.
            if reusable:
                self._idle.append(connection)
            else:
                connection.close()

    def _pooled(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
            connection.close()
        return None

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()
