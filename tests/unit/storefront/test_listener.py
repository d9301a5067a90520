"""The services' listening sockets: accepted connections must not keep Nagle's algorithm on.

With it on, a kept-alive client waited 40-44 ms for each response body (uvicorn writes headers
and body separately; the body waited for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import errno
import os
import socket

import pytest

from peakday.storefront.__main__ import tcp_listener


def _server_side_nodelay(listener: socket.socket, *, uvloop: bool = False) -> int:
    """Accept one connection through asyncio (or uvloop), as uvicorn does, and read its
    TCP_NODELAY."""
    seen: list[int] = []

    async def main() -> None:
        accepted = asyncio.Event()

        def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            accepted.set()

        server = await asyncio.start_server(on_connect, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), timeout=5)
        writer.close()
        server.close()
        await server.wait_closed()

    if uvloop:
        import uvloop as uv

        uv.run(main())
    else:
        asyncio.run(main())
    return seen[0]


def test_accepted_connections_get_tcp_nodelay() -> None:
    listener = tcp_listener("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert _server_side_nodelay(listener) != 0
    finally:
        listener.close()


def test_accepted_connections_get_tcp_nodelay_under_uvloop_too() -> None:
    """uvicorn runs the services on uvloop when it is installed (server_config: loop "auto")."""
    pytest.importorskip("uvloop")
    listener = tcp_listener("127.0.0.1", 0)
    try:
        assert _server_side_nodelay(listener, uvloop=True) != 0
    finally:
        listener.close()


def test_a_socket_made_without_the_protocol_would_keep_nagle_on() -> None:
    """The control: the way uvicorn's bind_socket() makes it (protocol 0)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    try:
        assert _server_side_nodelay(listener) == 0
    finally:
        listener.close()


def _open_sockets() -> set[str]:
    """This process's open socket descriptors, as 'fd -> socket:[inode]'."""
    found: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # listdir's own descriptor, already closed
            continue
        if target.startswith("socket:"):
            found.add(f"{fd} -> {target}")
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts sockets in /proc/self/fd")
def test_a_taken_port_is_an_os_error_and_leaks_no_socket() -> None:
    """The socket made for a port that cannot be bound is closed before the error propagates.

    pytest.raises keeps the traceback, and with it tcp_listener's frame, alive: a socket the
    function forgot to close is still open (not yet collected) when the descriptors are counted.
    """
    first = tcp_listener("127.0.0.1", 0)
    first.listen()
    try:
        port = first.getsockname()[1]
        before = _open_sockets()
        # SO_REUSEADDR does not allow two listeners on one port on Linux.
        with pytest.raises(OSError) as raised:
            tcp_listener("127.0.0.1", port)
        assert raised.value.errno == errno.EADDRINUSE
        leaked = _open_sockets() - before
        assert leaked == set(), f"tcp_listener left a socket open after failing: {leaked}"
    finally:
        first.close()
