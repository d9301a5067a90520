"""The added latency of a proxied hop: a request straight to a local HTTP server vs through
a real toxiproxy-server proxy with no toxics, side by side in one run.

Requests alternate one by one (direct, proxied, proxied, direct, ...) so drift on a noisy machine
hits both paths alike, in two modes: `keep-alive` (one open connection per path, as Locust users
keep them) and `new-connection` (connect, request, close, as `load.connections: per-request`).
The server runs in its own process with Nagle off and writes each response in one segment; the
client is a raw socket, so the figures are the hop's, not an HTTP library's. Loopback only.

    .venv/bin/python bench/proxy_hop.py [--seconds 12] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

from peakday.faults.toxiproxy import ToxiproxyHttpClient
from peakday.processes.children import ProcessGroup, free_loopback_ports
from peakday.processes.tools import find_binary
from peakday.processes.waiting import http_ok, poll_until

REPO = Path(__file__).resolve().parent.parent
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
RESPONSE_END = b"\r\n\r\nok"
KEEP_ALIVE_REQUEST = b"GET /ping HTTP/1.1\r\nHost: bench\r\n\r\n"
CLOSE_REQUEST = b"GET /ping HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


class PingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says close
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.wfile.write(RESPONSE)  # headers and body in one write: no delayed-ACK wait

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(port_out: Connection) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PingHandler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def exchange(sock: socket.socket, request: bytes) -> None:
    sock.sendall(request)
    received = b""
    while not received.endswith(RESPONSE_END):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"the connection closed after {received!r}")
        received += chunk


class KeepAlive:
    """One open connection per path; a request is one exchange on it."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = connect(address)

    def __call__(self) -> None:
        exchange(self.sock, KEEP_ALIVE_REQUEST)

    def close(self) -> None:
        self.sock.close()


class NewConnection:
    """A request is connect, one exchange, close."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address

    def __call__(self) -> None:
        with connect(self.address) as sock:
            exchange(sock, CLOSE_REQUEST)

    def close(self) -> None:
        pass


def timed_ms(request: Callable[[], None]) -> float:
    begin = time.perf_counter_ns()
    request()
    return (time.perf_counter_ns() - begin) / 1e6


def measure_side_by_side(
    direct: Callable[[], None], proxied: Callable[[], None], seconds: float, warmup_s: float
) -> tuple[list[float], list[float]]:
    """Alternate the two paths request by request, swapping which goes first each pair."""
    samples: tuple[list[float], list[float]] = ([], [])
    start = time.monotonic()
    pair = 0
    while (elapsed := time.monotonic() - start) < warmup_s + seconds:
        order = ((0, direct), (1, proxied)) if pair % 2 == 0 else ((1, proxied), (0, direct))
        for side, request in order:
            took_ms = timed_ms(request)
            if elapsed >= warmup_s:
                samples[side].append(took_ms)
        pair += 1
    return samples


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of the raw samples (exact, no histogram)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def format_mode(mode: str, direct: list[float], proxied: list[float]) -> list[str]:
    lines = []
    for path, values in (("direct", direct), ("proxied", proxied)):
        lines.append(
            f"{mode:<15} {path:<8} {len(values):>9} {percentile(values, 50):>9.3f} "
            f"{percentile(values, 99):>9.3f}"
        )
    p50 = (percentile(direct, 50), percentile(proxied, 50))
    p99 = (percentile(direct, 99), percentile(proxied, 99))
    lines.append(
        f"{'':<15} {'ratio':<8} {'':>9} {p50[1] / p50[0]:>8.2f}x {p99[1] / p99[0]:>8.2f}x"
        f"   added: p50 {p50[1] - p50[0]:+.3f} ms, p99 {p99[1] - p99[0]:+.3f} ms"
    )
    return lines


def server_version(answer: str) -> str:
    """'2.12.0' from the API's answer, which is JSON ({"version": ...}) in Toxiproxy 2.x."""
    try:
        return str(json.loads(answer)["version"])
    except (ValueError, KeyError, TypeError):
        return answer


def tools_dirs() -> tuple[Path, ...]:
    configured = os.environ.get("PEAKDAY_TOOLS_DIR")
    return (Path(configured),) if configured else (REPO / ".tools" / "bin",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="measured, per mode")
    parser.add_argument("--warmup", type=float, default=1.0, help="discarded, per mode")
    args = parser.parse_args()
    if args.seconds <= 0 or args.seconds + args.warmup > 25:
        sys.exit(
            "--seconds must be above 0 and --seconds + --warmup at most 25 (two modes < 1 min)"
        )

    receive_port, send_port = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send_port,), daemon=True)
    server.start()
    with tempfile.TemporaryDirectory(prefix="peakday-proxy-hop-") as tmp:
        processes = ProcessGroup(Path(tmp) / "pids.json")
        try:
            upstream = ("127.0.0.1", int(receive_port.recv()))
            api_port, listen_port = free_loopback_ports(2)
            binary = find_binary("toxiproxy-server", tools_dirs())
            child = processes.start(
                "toxiproxy",
                [binary, "-host", "127.0.0.1", "-port", str(api_port)],
                Path(tmp) / "toxiproxy.log",
            )
            if not poll_until(
                http_ok(f"http://127.0.0.1:{api_port}/version"),
                timeout_s=15,
                still_worth_waiting=child.alive,
            ):
                sys.exit(f"toxiproxy-server did not answer within 15 s; see {child.log_path}")
            api = ToxiproxyHttpClient("127.0.0.1", api_port)
            api.create_proxy("hop", f"127.0.0.1:{listen_port}", f"{upstream[0]}:{upstream[1]}")
            proxy = ("127.0.0.1", listen_port)
            version = server_version(api.version())
            print(
                f"proxied hop: toxiproxy-server {version} (no toxics) vs direct, loopback, "
                f"{os.cpu_count()} CPUs; {args.seconds:g} s per mode after {args.warmup:g} s "
                "warm-up, requests alternating"
            )
            print(f"{'mode':<15} {'path':<8} {'requests':>9} {'p50 ms':>9} {'p99 ms':>9}")
            for mode, make in (("keep-alive", KeepAlive), ("new-connection", NewConnection)):
                direct_client, proxied_client = make(upstream), make(proxy)
                try:
                    direct, proxied = measure_side_by_side(
                        direct_client, proxied_client, args.seconds, args.warmup
                    )
                finally:
                    direct_client.close()
                    proxied_client.close()
                print("\n".join(format_mode(mode, direct, proxied)))
        finally:
            processes.stop_all()
            server.terminate()
            server.join(5)


if __name__ == "__main__":
    main()
