"""Start one storefront service:

    python -m peakday.storefront SERVICE --host 127.0.0.1 --port N --data-dir DIR
        [--auth-url URL] [--auth-timeout-s 2.0] [--token-ttl-s 3600]

Exits 0 after a graceful shutdown on SIGTERM, 2 on bad usage, 3 when the service cannot start.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from fastapi import FastAPI

from peakday.errors import PeakdayError
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
        default=2.0,
        help="deadline for one token check against auth, in seconds (default 2.0)",
    )
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
    if not 0 < args.auth_timeout_s <= 300:
        parser.error(f"--auth-timeout-s must be in (0, 300], got {args.auth_timeout_s!r}")
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
        auth_timeout_s=args.auth_timeout_s,
        token_ttl_s=args.token_ttl_s,
    )


def build_app(settings: StorefrontSettings) -> FastAPI:
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
        print(f"peakday.storefront {settings.service}: {exc}", file=sys.stderr)
        return exc.exit_code

    import uvicorn

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
