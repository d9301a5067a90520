"""Start one storefront service:

    python -m peakday.storefront SERVICE --host 127.0.0.1 --port N --data-dir DIR
        [--auth-url URL] [--auth-timeout-s 2.0] [--token-ttl-s 3600]
        [--profile standard|naive|hardened] [--retries N] [--breaker-failures N] ...
        [--admin-port N [--admin-host 127.0.0.1]] [--workers N]

The profile knobs are in profiles.py; the admin endpoint (admin.py) exists only with --admin-port.
With --workers N the process binds its sockets, forks N-1 workers that inherit them (all in its
process group, so signalling the group reaches every worker) and serves as the first one itself.

Exits 0 after a graceful shutdown on SIGTERM, 2 on bad usage, 3 when the service cannot start.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import ASGIApp

if TYPE_CHECKING:
    import uvicorn

from peakday.errors import PeakdayError, format_error
from peakday.storefront.profiles import KNOB_NAMES, PROFILE_NAMES, knob_flag, resilience_for
from peakday.storefront.settings import SERVICE_NAMES, StorefrontSettings

# Seconds uvicorn waits for in-flight requests after SIGTERM before closing them anyway.
_GRACEFUL_SHUTDOWN_S = 5
# Server processes one service may run (--workers); more than the cores only adds contention.
MAX_WORKERS = 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m peakday.storefront", description="Run one mock-storefront service."
    )
    parser.add_argument("service", choices=SERVICE_NAMES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="holds SERVICE.sqlite3")
    parser.add_argument(
        "--auth-url",
        help="http:// base URL of auth (required for checkout and labels), e.g. a proxy",
    )
    parser.add_argument(
        "--auth-timeout-s",
        type=float,
        default=None,
        help="deadline for one token check against auth, in seconds (default: the profile's)",
    )
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="standard")
    for knob in KNOB_NAMES:
        if knob != "auth_timeout_s":
            kind = int if knob in ("retries", "breaker_failures", "max_in_flight") else float
            parser.add_argument(knob_flag(knob), type=kind, default=None, dest=knob)
    parser.add_argument(
        "--admin-port", type=int, default=None, help="serve the admin endpoint on this port"
    )
    parser.add_argument("--admin-host", default="127.0.0.1", help="(default 127.0.0.1)")
    parser.add_argument(
        "--token-ttl-s", type=int, default=3600, help="lifetime of issued tokens (auth only)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the listening sockets (default 1)",
    )
    return parser


def parse_settings(argv: Sequence[str] | None = None) -> StorefrontSettings:
    """Settings from the command line; argparse exits with status 2 on bad usage."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65_535:
        parser.error(f"--port must be 0..65535, got {args.port!r}")
    if args.auth_timeout_s is not None and not 0 < args.auth_timeout_s <= 300:
        parser.error(f"--auth-timeout-s must be in (0, 300], got {args.auth_timeout_s!r}")
    if args.admin_port is not None and not 0 < args.admin_port <= 65_535:
        parser.error(f"--admin-port must be 1..65535, got {args.admin_port!r}")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be 1..{MAX_WORKERS}, got {args.workers!r}")
    if args.admin_port is not None and args.admin_port == args.port:
        parser.error("--admin-port must differ from --port")
    overrides = {k: getattr(args, k) for k in KNOB_NAMES if getattr(args, k) is not None}
    for knob, value in overrides.items():
        if value < 0:
            parser.error(f"{knob_flag(knob)} must be at least 0, got {value!r}")
    resilience = resilience_for(args.profile, overrides)
    if args.token_ttl_s < 1:
        parser.error(f"--token-ttl-s must be at least 1, got {args.token_ttl_s!r}")
    if args.service != "auth":
        if args.auth_url is None:
            parser.error(f"{args.service} needs --auth-url (the base URL it reaches auth through)")
        url = urlsplit(args.auth_url)
        if url.scheme != "http" or not url.hostname:
            # auth_client.py speaks plain HTTP/1.1: auth and its proxy are on loopback or a
            # compose network, never behind TLS.
            parser.error(f"--auth-url must be an http:// URL, got {args.auth_url!r}")
    return StorefrontSettings(
        service=args.service,
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        auth_url=args.auth_url,
        auth_timeout_s=resilience.auth_timeout_s,
        token_ttl_s=args.token_ttl_s,
        resilience=resilience,
        admin_host=args.admin_host,
        admin_port=args.admin_port,
        workers=args.workers,
    )


def build_app(settings: StorefrontSettings) -> FastAPI:
    """The service's app (its `state` holds the fault board and status the admin app uses)."""
    # Import only the service being started: auth does not need httpx, and each import costs
    # startup time the orchestrator waits for.
    if settings.service == "auth":
        from peakday.storefront import auth

        return auth.create_app(settings)
    if settings.service == "checkout":
        from peakday.storefront import checkout

        return checkout.create_app(settings)
    from peakday.storefront import labels

    return labels.create_app(settings)


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound listening socket for uvicorn whose accepted connections get TCP_NODELAY.

    uvicorn's own `Config.bind_socket()` creates the socket with protocol 0, and asyncio sets
    TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP, so every connection accepted
    from it kept Nagle's algorithm on. uvicorn writes a response's headers and body separately,
    and on a kept-alive connection the body then waited for the client's delayed ACK: 40-44 ms
    per request."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # uvicorn handles SIGTERM itself (graceful shutdown), then re-raises it to the handler that
    # was installed before it started; with this one the process exits 0 instead of dying by
    # signal, so the orchestrator can tell a clean stop from a crash.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    sockets = _listen(settings)
    if sockets is None:
        return 3
    if settings.workers == 1:
        served = _build(settings)
        return served if isinstance(served, int) else _run(settings, served, sockets)
    # Fork before any app exists: no SQLite connection, thread or event loop crosses a fork.
    # The workers wait on a pipe until this process has built its app (auth seeds its database
    # once, here), then each opens its own connection to the same WAL-mode file.
    ready_r, ready_w = os.pipe()
    workers: list[int] = []
    first = os.getpid()
    for _ in range(settings.workers - 1):
        pid = os.fork()
        if pid == 0:
            os.close(ready_w)
            _end_with_parent(first)
            os._exit(_worker(settings, sockets, ready_r))
        workers.append(pid)
    os.close(ready_r)
    try:
        served = _build(settings)
        if isinstance(served, int):
            return served
        os.write(ready_w, b"." * len(workers))
        os.close(ready_w)
        return _run(settings, served, sockets)
    finally:
        with contextlib.suppress(OSError):
            os.close(ready_w)  # a worker still waiting reads end-of-file and exits 3
        _stop_workers(workers)


def _listen(settings: StorefrontSettings) -> list[socket.socket] | None:
    """The service's (and admin endpoint's) bound sockets, or None after printing why not."""
    addresses = [(settings.host, settings.port)]
    if settings.admin_port is not None:
        addresses.append((settings.admin_host, settings.admin_port))
    sockets: list[socket.socket] = []
    for host, port in addresses:
        try:
            sockets.append(tcp_listener(host, port))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            print(
                f"peakday.storefront {settings.service}: cannot listen on {host}:{port}: {exc}. "
                "Hint: another process may hold the port; `peakday clean` stops leftovers.",
                file=sys.stderr,
            )
            return None
    return sockets


def _build(settings: StorefrontSettings) -> ASGIApp | int:
    """The app to serve (with the admin endpoint if asked for), or the exit code of a failure."""
    try:
        app = build_app(settings)
    except PeakdayError as exc:
        for line in format_error(exc):
            print(f"peakday.storefront {settings.service}: {line}", file=sys.stderr)
        return exc.exit_code

    from peakday.storefront.admin import by_port, create_admin_app

    if settings.admin_port is None:
        return app
    admin = create_admin_app(app.state.fault_board, app.state.admin_status)
    return by_port(app, admin, settings.admin_port)


def server_config(settings: StorefrontSettings, served: ASGIApp) -> uvicorn.Config:
    """How uvicorn serves a storefront process.

    http and loop stay "auto": with httptools and uvloop installed (peakday depends on both)
    uvicorn parses HTTP in C and runs uvloop, which cut a checkout's server CPU by about a third
    against h11 and asyncio's own loop; without them it falls back to those, unchanged.
    No proxy sets X-Forwarded-* in front of the storefront (Toxiproxy is plain TCP), so the
    middleware that reads them is off: one layer less on every request.
    """
    import uvicorn

    return uvicorn.Config(
        served,
        host=settings.host,
        port=settings.port,
        http="auto",
        loop="auto",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
        server_header=False,
        proxy_headers=False,
    )


def _run(settings: StorefrontSettings, served: ASGIApp, sockets: list[socket.socket]) -> int:
    import uvicorn

    config = server_config(settings, served)
    try:
        uvicorn.Server(config).run(sockets=sockets)
    except KeyboardInterrupt:
        return 130
    return 0


def _end_with_parent(parent: int) -> None:
    """Linux: SIGTERM this worker when the first process dies, even alone (OOM killer, a
    SIGKILL of its pid only), so no worker keeps serving the port without it."""
    if sys.platform != "linux":
        return  # elsewhere only signals to the whole group (what peakday sends) reach workers
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(settings: StorefrontSettings, sockets: list[socket.socket], ready_r: int) -> int:
    """A forked worker: wait for the first process's app, then serve the inherited sockets."""
    try:
        go = os.read(ready_r, 1)
        os.close(ready_r)
        if not go:  # the first process failed to start and said why
            return 3
        served = _build(settings)
        return served if isinstance(served, int) else _run(settings, served, sockets)
    except SystemExit as exc:  # SIGTERM (_exit_cleanly) or a signal before serving
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _stop_workers(pids: list[int]) -> None:
    """SIGTERM the forked workers (a no-op when the group was signalled), reap them, SIGKILL
    whoever outlives the graceful shutdown."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _GRACEFUL_SHUTDOWN_S + 2
    waiting = set(pids)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            with contextlib.suppress(ChildProcessError):
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    continue
            waiting.discard(pid)
        time.sleep(0.05)
    for pid in waiting:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    raise SystemExit(main())
