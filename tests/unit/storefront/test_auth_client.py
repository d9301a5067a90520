from __future__ import annotations

import json
import threading

import anyio
import httpx
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


def introspect_with(handler: httpx.MockTransport, timeout_s: float = 1.0) -> Identity:
    async def run() -> Identity:
        introspector = HttpIntrospector("http://auth.test/base", timeout_s, transport=handler)
        try:
            return await introspector.introspect("t" * 43)
        finally:
            await introspector.aclose()

    return anyio.run(run)


def test_posts_the_token_to_introspect_under_the_base_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=GOOD_BODY)

    identity = introspect_with(httpx.MockTransport(handler))
    assert identity.subject == "pos-003"
    assert seen[0].url == "http://auth.test/base/introspect"
    assert json.loads(seen[0].content) == {"token": "t" * 43}


def test_unknown_token_is_invalid() -> None:
    with pytest.raises(InvalidToken):
        introspect_with(httpx.MockTransport(lambda _r: httpx.Response(401, json={})))


def test_server_error_is_unavailable() -> None:
    with pytest.raises(AuthUnavailable, match="HTTP 502"):
        introspect_with(httpx.MockTransport(lambda _r: httpx.Response(502)))


def test_connection_refused_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    with pytest.raises(AuthUnavailable, match="could not be reached: ConnectError"):
        introspect_with(httpx.MockTransport(refuse))


def test_read_timeout_is_unavailable() -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(AuthUnavailable, match="timed out"):
        introspect_with(httpx.MockTransport(stall))


def test_whole_call_is_capped_by_the_deadline() -> None:
    release = threading.Event()

    def hang(_request: httpx.Request) -> httpx.Response:
        # Stands in for a proxy that trickles bytes: no per-read timeout would ever fire.
        release.wait(5)
        return httpx.Response(200, content=GOOD_BODY)

    try:
        with pytest.raises(AuthUnavailable, match=r"within 0\.1 s"):
            introspect_with(httpx.MockTransport(hang), timeout_s=0.1)
    finally:
        release.set()
