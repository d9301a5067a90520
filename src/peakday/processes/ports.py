"""Is a listen address free, and if not, who holds it (for errors raised before a run starts)."""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Mapping

from peakday.errors import EnvironmentProblem
from peakday.topology import split_host_port


def port_taken(host: str, port: int) -> bool:
    """True when binding host:port fails because something holds it. SO_REUSEADDR as Go's
    listeners (toxiproxy-server) use it, so a port left in TIME_WAIT does not count."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def port_holder(port: int) -> str:
    """'pid 4242 (redis-server --port 16379)' for the process listening on `port`, or '' when
    it cannot be read (another user's process, or no permission to list sockets)."""
    import psutil

    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    continue
                process = psutil.Process(conn.pid)
                command = " ".join(process.cmdline()) or process.name()
                return f"pid {conn.pid} ({command[:120]})"
    return ""


def require_free_listens(listens: Mapping[str, str]) -> None:
    """Raise EnvironmentProblem (exit 3) naming every proxy whose fixed listen address is taken,
    the port and the process holding it where it can be read."""
    problems = []
    for proxy, address in listens.items():
        host, port = split_host_port(address)
        if port_taken(host, port):
            holder = port_holder(port)
            by = f"held by {holder}" if holder else "held by a process peakday cannot see"
            problems.append(
                f"the proxy {proxy!r} cannot listen on {address!r}: port {port} is {by}"
            )
    if problems:
        raise EnvironmentProblem(
            f"Nothing was started: {'; '.join(problems)}. Hint: stop what holds the port, or "
            "give the proxy another listen address (and point your app at it)."
        )
