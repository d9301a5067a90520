"""Start one storefront service:

    python -m peakday.storefront SERVICE --host 127.0.0.1 --port N --data-dir DIR
        [--auth-url URL] [--auth-timeout-s 2.0] [--token-ttl-s 3600]
        [--profile standard|naive|hardened] [--retries N] [--breaker-failures N] ...
        [--admin-port N [--admin-host 127.0.0.1]]

The profile knobs are in profiles.py; the admin endpoint (admin.py) exists only with --admin-port.

Exits 0 after a graceful shutdown on SIGTERM, 2 on bad usage, 3 when the service cannot start.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import ASGIApp

from peakday.errors import PeakdayError, format_error
from peakday.storefront.profiles import KNOB_NAMES, PROFILE_NAMES, knob_flag, resilience_for
from peakday.storefront.settings import SERVICE_NAMES, StorefrontSettings

# Seconds uvicorn waits for in-flight requests after SIGTERM before closing them anyway.
_GRACEFUL_SHUTDOWN_S = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m peakday.storefront", description="Run one mock-storefront service."
    )
    parser.add_argument("service", choices=SERVICE_NAMES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="holds SERVICE.sqlite3")
    parser.add_argument(
        "--auth-url", help="base URL of auth (required for checkout and labels), e.g. a proxy"
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
        if url.scheme not in ("http", "https") or not url.netloc:
            parser.error(f"--auth-url must be an http(s) URL, got {args.auth_url!r}")
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
    try:
        app = build_app(settings)
    except PeakdayError as exc:
        for line in format_error(exc):
            print(f"peakday.storefront {settings.service}: {line}", file=sys.stderr)
        return exc.exit_code

    import uvicorn

    from peakday.storefront.admin import by_port, create_admin_app

    served: ASGIApp = app
    if settings.admin_port is not None:
        admin = create_admin_app(app.state.fault_board, app.state.admin_status)
        served = by_port(app, admin, settings.admin_port)
    config = uvicorn.Config(
        served,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
        server_header=False,
    )
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
            return 3
    try:
        uvicorn.Server(config).run(sockets=sockets)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
