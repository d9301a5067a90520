from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import pytest

from peakday.storefront.auth_client import HttpIntrospector, interpret_introspection
from peakday.storefront.identity import AuthUnavailable, Identity, InvalidToken, Role

GOOD_BODY = json.dumps({"active": True, "sub": "pos-003", "role": "pos", "exp": 1_900_000_000})


def test_interpret_active_token() -> None:
    assert interpret_introspection(200, GOOD_BODY.encode()) == Identity(
        "pos-003", Role.POS, 1_900_000_000
    )


def test_interpret_401_is_invalid_token() -> None:
    with pytest.raises(InvalidToken):
        interpret_introspection(401, b'{"error":"invalid_token"}')


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"oops"),
        (503, b""),
        (404, b'{"detail":"Not Found"}'),
        (422, b"{}"),
        (200, b"not json"),
        (200, b"[]"),
        (200, b'{"active": false}'),
        (200, b'{"active": true, "sub": "x", "role": "admin", "exp": 1}'),
        (200, b'{"active": true, "sub": 7, "role": "pos", "exp": 1}'),
        (200, b'{"active": true, "sub": "x", "role": "pos", "exp": "soon"}'),
        (200, b'{"active": true, "role": "pos", "exp": 1}'),
    ],
    ids=[
        "500",
        "503",
        "404-wrong-url",
        "422",
        "not-json",
        "json-list",
        "inactive",
        "unknown-role",
        "sub-not-str",
        "exp-not-int",
        "no-sub",
    ],
)
def test_interpret_anything_else_is_auth_unavailable(status: int, body: bytes) -> None:
    with pytest.raises(AuthUnavailable):
        interpret_introspection(status, body)


# One connection's conversation: read what the client sent, answer (or not) on the writer.
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answer(status: int, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


def introspect_with(
    handler: Handler, timeout_s: float = 1.0, calls: int = 1, base: str = "/base"
) -> list[Identity | Exception]:
    """Run a real TCP server on loopback that answers with `handler`, and `calls` sequential
    token checks against it through one HttpIntrospector (so pooled connections are reused)."""

    async def run() -> list[Identity | Exception]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        introspector = HttpIntrospector(f"http://127.0.0.1:{port}{base}", timeout_s)
        results: list[Identity | Exception] = []
        try:
            for _ in range(calls):
                try:
                    results.append(await introspector.introspect("t" * 43))
                except (AuthUnavailable, InvalidToken) as exc:
                    results.append(exc)
        finally:
            await introspector.aclose()
            server.close()
        return results

    return asyncio.run(run())


def one(handler: Handler, timeout_s: float = 1.0) -> Identity:
    (result,) = introspect_with(handler, timeout_s)
    if isinstance(result, Exception):
        raise result
    return result


def always(status: int, body: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                writer.write(answer(status, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return handler


def test_posts_the_token_to_introspect_under_the_base_url() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(answer(200, GOOD_BODY.encode()))
        await writer.drain()
        writer.close()

    identity = one(handler)
    assert identity.subject == "pos-003"
    head, body = seen[0]
    assert head.startswith(b"POST /base/introspect HTTP/1.1\r\n")
    assert json.loads(body) == {"token": "t" * 43}


def test_kept_alive_connections_are_reused() -> None:
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await always(200, GOOD_BODY.encode())(reader, writer)

    results = introspect_with(handler, calls=5)
    assert all(isinstance(r, Identity) for r in results)
    assert len(connections) == 1


def test_a_connection_auth_closed_in_the_pool_is_not_reused() -> None:
    """Auth restarted, or a proxy reset idle connections: the next call opens a new one."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await read_request(reader)
        writer.write(answer(200, GOOD_BODY.encode()))  # keep-alive promised, then closed
        await writer.drain()
        writer.close()

    async def run() -> list[Identity]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        introspector = HttpIntrospector(f"http://127.0.0.1:{port}", 1.0)
        first = await introspector.introspect("t" * 43)
        await asyncio.sleep(0.1)  # the close reaches the pooled connection
        second = await introspector.introspect("t" * 43)
        await introspector.aclose()
        server.close()
        return [first, second]

    assert len(asyncio.run(run())) == 2
    assert len(connections) == 2


def test_unknown_token_is_invalid() -> None:
    with pytest.raises(InvalidToken):
        one(always(401, b"{}"))


def test_server_error_is_unavailable() -> None:
    with pytest.raises(AuthUnavailable, match="HTTP 502"):
        one(always(502, b""))


def test_connection_refused_is_unavailable() -> None:
    async def run() -> None:
        server = await asyncio.start_server(always(200, b""), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        await HttpIntrospector(f"http://127.0.0.1:{port}", 1.0).introspect("t" * 43)

    with pytest.raises(AuthUnavailable, match="could not be reached: ConnectionRefusedError"):
        asyncio.run(run())


def test_reset_mid_answer_is_unavailable() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(200, GOOD_BODY.encode())[:30])
        await writer.drain()
        writer.transport.abort()  # RST, as Toxiproxy's reset_peer does

    with pytest.raises(AuthUnavailable, match="could not be reached"):
        one(handler)


@pytest.mark.parametrize(
    "garbage",
    [b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nno-colon\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"],
    ids=["not-http", "bad-header", "no-length"],
)
def test_garbage_is_unavailable(garbage: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(garbage)
        await writer.drain()
        writer.close()

    with pytest.raises(AuthUnavailable):
        one(handler)


def test_a_stall_is_unavailable_within_the_deadline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    with pytest.raises(AuthUnavailable, match=r"within 0\.1 s"):
        one(handler, timeout_s=0.1)


def test_whole_call_is_capped_by_the_deadline() -> None:
    """A proxy trickling bytes: each read gets something, the whole call still ends in time,
    and the half-read connection is not reused."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        with contextlib.suppress(ConnectionError):
            for byte in answer(200, GOOD_BODY.encode()):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.02)

    results = introspect_with(trickle, timeout_s=0.1, calls=2)
    assert all(isinstance(r, AuthUnavailable) and "within 0.1 s" in str(r) for r in results)


def test_a_connection_a_call_gave_up_on_is_never_reused() -> None:
    """The late answer to a timed-out check must not be read as the answer to the next one."""
    late = json.dumps({"active": True, "sub": "someone-else", "role": "pos", "exp": 1_900_000_000})
    requests: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                requests.append(1)
                if len(requests) == 1:
                    await asyncio.sleep(0.2)  # past the 0.1 s deadline
                    writer.write(answer(200, late.encode()))
                else:
                    writer.write(answer(200, GOOD_BODY.encode()))
                await writer.drain()

    first, second = introspect_with(handler, timeout_s=0.1, calls=2)
    assert isinstance(first, AuthUnavailable)
    assert isinstance(second, Identity) and second.subject == "pos-003"
