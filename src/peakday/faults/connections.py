"""The TCP connections open to a port on this machine, as the kernel sees them: how the traffic
sampler tells a proxy is in use while Toxiproxy has not yet counted a pooled connection's bytes.

Read through netlink's sock_diag (the kernel filters the established sockets and sends a few
fixed-size records), else from /proc/net/tcp{,6}. Both give the same counts; /proc is text the
kernel formats for every socket on the machine, which costs 5-15 ms of CPU a reading on a busy
machine (hundreds of TIME_WAIT sockets), against about 1 ms through netlink, once a second for
the whole run.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

TCP_ESTABLISHED = "01"
PROC_NET_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "[::]", "[::1]")

# linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_TCP_STATE_ESTABLISHED = 1
_NLMSGHDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
# inet_diag_req_v2: family, protocol, extensions, pad, states, then a 48-byte inet_diag_sockid
_INET_DIAG_REQ_V2 = struct.Struct("=BBBBI48x")
# in an inet_diag_msg after the header: family, state, timer, retransmits, then the sockid,
# whose first field is the local (source) port in network order
_STATE_OFFSET = 1
_LOCAL_PORT = struct.Struct("!H")
_LOCAL_PORT_OFFSET = 4
_RECEIVE_BYTES = 65536
_NETLINK_TIMEOUT_S = 2.0


def parse_established(text: str, ports: Iterable[int]) -> dict[int, int]:
    """Established TCP connections accepted on each of `ports`, from /proc/net/tcp{,6} (pure).

    Only the accepting side is counted (local port = the proxy's), so a loopback client's own
    socket and Toxiproxy's connections to its upstream are not.
    """
    wanted = set(ports)
    counts = dict.fromkeys(sorted(wanted), 0)
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != TCP_ESTABLISHED or ":" not in fields[1]:
            continue
        try:
            port = int(fields[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
        if port in wanted:
            counts[port] += 1
    return counts


def local_listen_ports(listen: Mapping[str, str]) -> dict[str, int]:
    """proxy -> port, for the proxies listening on this machine (only those can be counted)."""
    ports = {}
    for proxy, address in listen.items():
        host, sep, port = address.rpartition(":")
        if sep and port.isdigit() and host in _LOCAL_HOSTS:
            ports[proxy] = int(port)
    return ports


def established_connections(ports: Iterable[int]) -> dict[int, int] | None:
    """Established connections accepted on each port on this machine (the same counting as
    parse_established); None where neither netlink nor /proc can be read."""
    wanted = list(ports)
    local_ports = netlink_local_ports()
    if local_ports is None:
        return _proc_established(wanted)
    counts = dict.fromkeys(wanted, 0)
    for port in local_ports:
        if port in counts:
            counts[port] += 1
    return counts


def _proc_established(wanted: list[int]) -> dict[int, int] | None:
    texts = []
    for path in PROC_NET_TCP:
        try:
            texts.append(path.read_text(encoding="ascii", errors="replace"))
        except OSError:
            continue
    if not texts:
        return None
    counts = dict.fromkeys(wanted, 0)
    for text in texts:
        for port, count in parse_established(text, wanted).items():
            counts[port] += count
    return counts


def netlink_local_ports() -> list[int] | None:
    """The local port of every established TCP socket (IPv4 and IPv6) in this network
    namespace, one entry a socket; None where netlink's sock_diag cannot be used."""
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as sock:
            sock.settimeout(_NETLINK_TIMEOUT_S)
            ports = _dump_local_ports(sock, socket.AF_INET, sequence=1)
            if ports is None:
                return None
            # A kernel without IPv6 refuses that family; /proc would have no tcp6 file then.
            return ports + (_dump_local_ports(sock, socket.AF_INET6, sequence=2) or [])
    except (OSError, AttributeError, IndexError, struct.error):  # not Linux; a short reply
        return None


def _dump_local_ports(sock: socket.socket, family: int, sequence: int) -> list[int] | None:
    request = _INET_DIAG_REQ_V2.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_STATE_ESTABLISHED)
    header = _NLMSGHDR.pack(
        _NLMSGHDR.size + len(request),
        _SOCK_DIAG_BY_FAMILY,
        _NLM_F_REQUEST | _NLM_F_DUMP,
        sequence,
        0,
    )
    sock.send(header + request)
    ports: list[int] = []
    while True:
        data = sock.recv(_RECEIVE_BYTES)
        if not data:
            return None
        offset = 0
        while offset + _NLMSGHDR.size <= len(data):
            length, kind, _, _, _ = _NLMSGHDR.unpack_from(data, offset)
            if kind == _NLMSG_DONE:
                return ports
            if kind == _NLMSG_ERROR or length < _NLMSGHDR.size:
                return None
            body = offset + _NLMSGHDR.size
            established = data[body + _STATE_OFFSET] == _TCP_STATE_ESTABLISHED
            if kind == _SOCK_DIAG_BY_FAMILY and established:
                ports.append(_LOCAL_PORT.unpack_from(data, body + _LOCAL_PORT_OFFSET)[0])
            offset += (length + 3) & ~3  # messages are 4-byte aligned
