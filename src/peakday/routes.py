"""Which proxy a request goes through, by its request name or URL path (pure; stdlib only).

A route table maps a request name (`login`) or a path (`/login`, which also matches `/login/...`)
to a proxy name. peakday hands it to Locust as PEAKDAY_ROUTES (JSON) beside every proxy's address
in PEAKDAY_PROXY_<NAME>; `Router` reads both and rewrites a request's URL to the proxy's address,
so one route can be faulted on a shared edge. Validation (experiment.platform_checks) and the
Locust side (load.locust_routes) check keys with the same `route_key_problem`.

Exceptions: `RouteError` (a ValueError) for a table that cannot be used, its message naming the
variable, the key and a hint.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ROUTES_ENV_VAR = "PEAKDAY_ROUTES"
PROXY_ENV_PREFIX = "PEAKDAY_PROXY_"
_ABSOLUTE_URL = re.compile(r"^https?://", re.IGNORECASE)  # as Locust's HttpSession tells them


class RouteError(ValueError):
    """The route table in the environment cannot be used; the message says why and what to do."""


def proxy_env_var(proxy: str) -> str:
    """The variable holding a proxy's host:port, such as PEAKDAY_PROXY_AUTH_LOGIN."""
    return f"{PROXY_ENV_PREFIX}{proxy.upper()}"


def routes_env(routes: Mapping[str, str]) -> dict[str, str]:
    """{PEAKDAY_ROUTES: JSON} for a non-empty table, else nothing (no variable, no routing)."""
    return {ROUTES_ENV_VAR: json.dumps(dict(sorted(routes.items())))} if routes else {}


def is_path_key(key: str) -> bool:
    """A key starting with '/' matches URL paths; any other key matches request names."""
    return key.startswith("/")


def route_key_problem(key: str) -> tuple[str, str] | None:
    """(message, hint) when `key` can never match a request, else None."""
    if not key.strip():
        return (
            "A route key must be a request name or a path; got an empty one.",
            "Use a request name such as login, or a path such as /login.",
        )
    if key != key.strip():
        return (
            f"The route key {key!r} starts or ends with whitespace, so it matches no request.",
            f"Write it as {key.strip()!r}.",
        )
    if "://" in key:
        path = urlsplit(key).path or "/"
        return (
            f"The route key {key!r} is a URL; routes match a request's name or its path, and "
            "the proxy decides the host.",
            f"Write the path only, such as {path!r}.",
        )
    if is_path_key(key) and ("?" in key or "#" in key):
        return (
            f"The route key {key!r} has a query or fragment; path routes match the path only.",
            f"Write {key.split('?')[0].split('#')[0]!r}.",
        )
    return None


def path_matches(key: str, path: str) -> bool:
    """'/login' matches '/login' and '/login/...', not '/login-help'; '/' matches every path."""
    prefix = key.rstrip("/")
    return path in (key, prefix) or path.startswith(prefix + "/")


def route_for(routes: Mapping[str, str], path: str, name: str | None = None) -> str | None:
    """The proxy a request goes through: its name's route first, then the longest path key that
    matches its path; None when no route applies."""
    if name is not None and not is_path_key(name) and name in routes:
        return routes[name]
    matching = [key for key in routes if is_path_key(key) and path_matches(key, path)]
    return routes[max(matching, key=len)] if matching else None


@dataclass(frozen=True)
class Router:
    """A route table and the proxies' addresses: rewrites a request's URL to its proxy."""

    routes: Mapping[str, str]  # request name or path -> proxy name
    addresses: Mapping[str, str]  # proxy name -> host:port

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Router:
        """The table in PEAKDAY_ROUTES and the addresses in PEAKDAY_PROXY_<NAME>.

        No PEAKDAY_ROUTES means no routes: every request goes where its URL says. A table that
        names a proxy with no address in the environment is an error, not a silent bypass of
        the proxy (and of the faults on it)."""
        environ = os.environ if environ is None else environ
        raw = environ.get(ROUTES_ENV_VAR, "").strip()
        if not raw:
            return cls(routes={}, addresses={})
        routes = _parse_table(raw)
        addresses: dict[str, str] = {}
        for key, proxy in routes.items():
            problem = route_key_problem(key)
            if problem is not None:
                message, hint = problem
                raise RouteError(f"{ROUTES_ENV_VAR}: {message} Hint: {hint}")
            address = environ.get(proxy_env_var(proxy), "").strip()
            if not address:
                raise RouteError(
                    f"{ROUTES_ENV_VAR}: the route {key!r} goes through proxy {proxy!r}, but "
                    f"{proxy_env_var(proxy)} is not set. Hint: peakday sets it for every proxy "
                    "under external.proxies; a worker started by hand needs the run's "
                    "worker.env."
                )
            addresses[proxy] = address
        return cls(routes=routes, addresses=addresses)

    def proxy_for(self, url: str, name: str | None = None) -> str | None:
        """The proxy `url` (absolute, or a path as the locustfile writes it) goes through."""
        return route_for(self.routes, urlsplit(url).path or "/", name) if self.routes else None

    def url(self, url: str, name: str | None = None, base_url: str = "") -> str:
        """The URL to request: `base_url` + `url` for a path (as Locust builds it), with the
        host and port replaced by the proxy's when a route applies; scheme, path and query
        stay."""
        complete = url if _ABSOLUTE_URL.match(url) else f"{base_url}{url}"
        proxy = self.proxy_for(url, name)
        if proxy is None:
            return complete
        parts = urlsplit(complete)
        return urlunsplit(
            (parts.scheme or "http", self.addresses[proxy], parts.path, parts.query, parts.fragment)
        )


def _parse_table(raw: str) -> dict[str, str]:
    try:
        table = json.loads(raw)
    except ValueError as exc:
        raise RouteError(
            f"{ROUTES_ENV_VAR} is not JSON ({exc}): {raw[:80]!r}. Hint: set it as "
            '\'{"/login": "auth_login"}\', or leave it unset for no routes.'
        ) from None
    if not isinstance(table, dict) or not all(
        isinstance(key, str) and isinstance(proxy, str) for key, proxy in table.items()
    ):
        raise RouteError(
            f"{ROUTES_ENV_VAR} must be a JSON object of request names or paths to proxy names, "
            f'got {raw[:80]!r}. Hint: such as \'{{"/login": "auth_login"}}\'.'
        )
    return table
