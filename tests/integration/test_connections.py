"""Connections counted on real loopback sockets: netlink's sock_diag and /proc/net/tcp{,6} agree,
and count only established connections on the accepting side."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from peakday.faults.connections import (
    _proc_established,
    established_connections,
    netlink_local_ports,
)

pytestmark = pytest.mark.integration


@contextmanager
def accepted(
    family: socket.AddressFamily, host: str, count: int
) -> Iterator[tuple[int, list[socket.socket]]]:
    """A listener on `host` with `count` accepted connections: (its port, the client sockets)."""
    with ExitStack() as stack:
        server = stack.enter_context(socket.create_server((host, 0), family=family))
        port = server.getsockname()[1]
        clients = []
        for _ in range(count):
            client = stack.enter_context(socket.create_connection((host, port)))
            stack.enter_context(server.accept()[0])
            clients.append(client)
        yield port, clients


def test_netlink_counts_what_proc_counts_on_the_accepting_side_only() -> None:
    if netlink_local_ports() is None:
        pytest.skip("netlink sock_diag is not available here")
    with accepted(socket.AF_INET, "127.0.0.1", 3) as (port, clients):
        client_port = clients[0].getsockname()[1]
        unused = socket.create_server(("127.0.0.1", 0))  # listening only: not established
        idle_port = unused.getsockname()[1]
        with unused:
            wanted = [port, client_port, idle_port]
            # 3 accepted on the listener's port (the clients' own ends, whose remote port it
            # is, are not); a client's end counts on its own local port only
            expected = {port: 3, client_port: 1, idle_port: 0}
            assert established_connections(wanted) == expected
            assert _proc_established(wanted) == expected


def test_netlink_counts_ipv6_connections_too() -> None:
    if netlink_local_ports() is None or not socket.has_ipv6:
        pytest.skip("netlink sock_diag or IPv6 is not available here")
    try:
        context = accepted(socket.AF_INET6, "::1", 2)
        port, _ = context.__enter__()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert established_connections([port]) == {port: 2} == _proc_established([port])
    finally:
        context.__exit__(None, None, None)


def test_a_closed_connection_is_no_longer_counted() -> None:
    with accepted(socket.AF_INET, "127.0.0.1", 2) as (port, clients):
        clients[0].close()
        # The accepting side of the closed one is in CLOSE_WAIT now: not established.
        assert established_connections([port]) == {port: 1}
