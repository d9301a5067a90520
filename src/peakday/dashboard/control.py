"""Who may see the dashboard and press its stop buttons (pure: request facts in, a decision out).

The control token is printed on the terminal and carried in the URL; a press needs it (header
X-Peakday-Token), viewing needs it too when the page is served off loopback. A press from a page
of another origin is refused (CSRF), and on loopback a Host header naming another host is
refused (DNS rebinding). A refused request changes nothing.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from dataclasses import dataclass

from peakday.errors import UsageError
from peakday.scoring.manual import ManualAction, ManualStop, ManualStops

TOKEN_HEADER = "X-Peakday-Token"
LOOPBACK_NAMES = ("localhost",)
_ACTIONS: tuple[ManualAction, ...] = ("end_faults", "end_run")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    token: str
    loopback: bool  # served on loopback only: viewing needs no token


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, object]


def _refuse(status: int, reason: str) -> Reply:
    return Reply(status, {"accepted": False, "error": reason})


def _token_ok(given: str | None, access: Access) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), access.token.encode())


def check_host(host_header: str | None, access: Access) -> Reply | None:
    """On loopback, a page reached under another name is a DNS-rebinding attempt."""
    if not access.loopback:
        return None
    host = (host_header or "").rsplit(":", 1)[0] if host_header else ""
    if host and is_loopback(host):
        return None
    return _refuse(403, f"Host {host_header!r} is not this machine's loopback address.")


def check_view(host_header: str | None, token: str | None, access: Access) -> Reply | None:
    """None when the page (or its live stream) may be shown."""
    refused = check_host(host_header, access)
    if refused is not None:
        return refused
    if access.loopback or _token_ok(token, access):
        return None
    return _refuse(403, "This dashboard is served off loopback: open the URL with its token.")


def check_press(
    host_header: str | None, origin: str | None, token: str | None, access: Access
) -> Reply | None:
    """None when a stop button press may go ahead."""
    refused = check_host(host_header, access)
    if refused is not None:
        return refused
    if origin is not None and origin != f"http://{host_header}":
        return _refuse(403, f"Requests from another origin ({origin!r}) are refused.")
    if not _token_ok(token, access):
        return _refuse(403, "A stop needs the run's control token (printed on its terminal).")
    return None


def parse_press(body: bytes) -> tuple[ManualAction, str] | Reply:
    """The action and the presser's name from the request body {"action": ..., "who": ...}."""
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _refuse(400, 'The body must be JSON: {"action": "end_faults" | "end_run"}.')
    action = data.get("action") if isinstance(data, dict) else None
    if action not in _ACTIONS:
        return _refuse(400, f"Unknown action {action!r}; use 'end_faults' or 'end_run'.")
    who = data.get("who") if isinstance(data, dict) else None
    name = who.strip()[:60] if isinstance(who, str) and who.strip() else "someone"
    return action, name


def who_pressed(name: str, address: str, user_agent: str | None) -> str:
    browser = (user_agent or "no user agent").split(" ")[-1][:40]
    return f"{name} ({address}, {browser})"


def press(stops: ManualStops, stop: ManualStop) -> Reply:
    """Hands the press to the run; a second press of the same button changes nothing."""
    if stops.closed:
        return _refuse(409, "The run is over; there is nothing left to stop.")
    if stops.press(stop):
        return Reply(202, {"accepted": True, "action": stop.action, "by": stop.by})
    return Reply(200, {"accepted": False, "action": stop.action, "already": True})


DEFAULT_BIND = "127.0.0.1:0"
_HOST = re.compile(r"[A-Za-z0-9.\-]+|[0-9A-Fa-f:]+")
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def parse_bind(value: str) -> tuple[str, int]:
    """HOST:PORT for --dashboard (PORT 0: a free one); a bare HOST or PORT is accepted too."""
    if value.isdigit():
        host, port_text = "127.0.0.1", value
    elif value.startswith("[") or value.count(":") == 1:
        host, _, port_text = value.rpartition(":")
    else:
        host, port_text = value, "0"
    host = host.removeprefix("[").removesuffix("]")
    looks_like_host = bool(_HOST.fullmatch(host)) and not host.endswith(_SPEC_SUFFIXES)
    if not looks_like_host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(
            f"--dashboard {value!r} is not HOST:PORT. Hint: --dashboard alone serves on "
            "127.0.0.1 and a free port; --dashboard 0.0.0.0:8089 serves the whole network "
            "(the token is then needed to view the page too). Put EXPERIMENT before "
            "--dashboard, or write --dashboard=HOST:PORT."
        )
    return host, int(port_text)
