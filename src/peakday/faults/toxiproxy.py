"""The one module that talks to a Toxiproxy server's REST API (v2).

ToxiproxyHttpClient keeps one HTTP/1.1 connection to the server (standard library only: no
`requests` import on the run path) and gives every call a timeout, so a hung Toxiproxy turns
into a ToxiproxyError instead of a hung game day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from peakday.errors import ToxiproxyError
from peakday.http_connection import TRANSPORT_ERRORS, HttpResponse, KeptAliveConnection


@dataclass(frozen=True)
class ToxicSpec:
    """A toxic as Toxiproxy's API takes it."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, float]


class ToxiproxyApi(Protocol):
    """What peakday needs from a Toxiproxy server; fakes implement this in unit tests."""

    def version(self) -> str: ...

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        """Create (or replace) a proxy and return the address it listens on."""
        ...

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None: ...

    def remove_toxic(self, proxy: str, toxic_name: str) -> None: ...

    def set_enabled(self, proxy: str, enabled: bool) -> None: ...

    def reset(self) -> None:
        """Remove every toxic and enable every proxy."""
        ...

    def active_toxics(self) -> dict[str, list[str]]:
        """Toxic names per proxy, and 'disabled' for a disabled proxy."""
        ...


@dataclass(frozen=True)
class ProxyState:
    """One proxy as a Toxiproxy server reports it."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[str, ...]


class ToxiproxyServerApi(ToxiproxyApi, Protocol):
    """The whole of a server, for code that must see what else is on it (scoped.py, clean)."""

    def proxies(self) -> dict[str, ProxyState]:
        """Every proxy on the server, with its toxics' names."""
        ...

    def delete_proxy(self, name: str) -> None: ...


_T = TypeVar("_T")


def _error_text(response: HttpResponse) -> str:
    """Toxiproxy's {"error": "...", "status": N} message, else the body as it came."""
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else response.text.strip()


def _proxy_state(name: str, values: Any) -> ProxyState:
    return ProxyState(
        name=name,
        listen=str(values["listen"]),
        upstream=str(values["upstream"]),
        enabled=bool(values["enabled"]),
        toxics=tuple(sorted(str(t["name"]) for t in values.get("toxics") or [])),
    )


class ToxiproxyHttpClient:
    """ToxiproxyServerApi over Toxiproxy's REST API: one kept-alive HTTP/1.1 connection, every
    call bounded by `timeout_s`, safe to share between threads (calls take turns)."""

    def __init__(self, host: str, port: int, timeout_s: float = 3.0) -> None:
        self._address = f"{host}:{port}"
        self._timeout_s = timeout_s
        connect_to = f"[{host}]:{port}" if ":" in host else self._address
        self._http = KeptAliveConnection(connect_to, timeout_s)

    def close(self) -> None:
        self._http.close()

    def _send(self, what: str, method: str, path: str, body: object = None) -> HttpResponse:
        """One API call, whatever its status; a ToxiproxyError if the server did not answer."""
        try:
            return self._http.request(method, path, body)
        except TRANSPORT_ERRORS as exc:
            if isinstance(exc, TimeoutError):
                detail = f"no answer within {self._timeout_s:g} s"
            else:
                detail = str(exc) or type(exc).__name__
            raise ToxiproxyError(
                f"Toxiproxy at {self._address} did not answer while trying to {what}: {detail}. "
                "Hint: check that toxiproxy-server is running and its API port is right."
            ) from exc

    def _checked(
        self, what: str, response: HttpResponse, *, proxy: str | None = None
    ) -> HttpResponse:
        """`response` if it is a 2xx; else a ToxiproxyError with the server's reason."""
        if response.ok:
            return response
        message = _error_text(response)
        if proxy is not None and response.status == 404 and message.startswith("proxy not found"):
            raise ToxiproxyError(f"Toxiproxy at {self._address} has no proxy named {proxy!r}.")
        raise ToxiproxyError(
            f"Toxiproxy at {self._address} refused to {what}: {response.status} {message}."
        )

    def _request(
        self, what: str, method: str, path: str, body: object = None, *, proxy: str | None = None
    ) -> HttpResponse:
        return self._checked(what, self._send(what, method, path, body), proxy=proxy)

    def _parsed(self, what: str, response: HttpResponse, parse: Callable[[Any], _T]) -> _T:
        """`parse` applied to the JSON body; a body of another shape is a ToxiproxyError."""
        try:
            return parse(response.json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ToxiproxyError(
                f"Toxiproxy at {self._address} answered a request to {what} with "
                f"{response.text[:200]!r}, which is not what its API sends ({exc!r}). "
                "Hint: check that this address is toxiproxy-server's API port."
            ) from exc

    def version(self) -> str:
        return self._request("report its version", "GET", "/version").text.strip()

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        what = f"create proxy {name!r}"
        if name in self._proxies(what):  # replaced, as a proxy left by an earlier run would be
            self._request(what, "DELETE", _proxy_path(name), proxy=name)
        body = {"name": name, "listen": listen, "upstream": upstream}
        response = self._send(what, "POST", "/proxies", body)
        if response.status != 201 and response.status not in (400, 404, 409):
            # such as 500 {"error": "listen tcp 127.0.0.1:16379: bind: address already in use"}
            raise ToxiproxyError(
                f"Toxiproxy at {self._address} could not create proxy {name!r} listening on "
                f"{listen!r}: {_error_text(response)}. Hint: another process may hold that "
                "port; free it or pick another listen address."
            )
        created = self._checked(what, response)
        return self._parsed(what, created, lambda proxy: str(proxy["listen"]))

    def delete_proxy(self, name: str) -> None:
        self._request(f"delete proxy {name!r}", "DELETE", _proxy_path(name), proxy=name)

    def proxies(self) -> dict[str, ProxyState]:
        return self._proxies("list proxies")

    def _proxies(self, what: str) -> dict[str, ProxyState]:
        listed = self._request(what, "GET", "/proxies")
        return self._parsed(
            what,
            listed,
            lambda found: {str(name): _proxy_state(str(name), v) for name, v in found.items()},
        )

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        body = {
            "name": toxic.name,
            "type": toxic.type,
            "stream": toxic.stream,
            "toxicity": toxic.toxicity,
            "attributes": dict(toxic.attributes),
        }
        what = f"add toxic {toxic.name!r} to proxy {proxy!r}"
        self._request(what, "POST", f"{_proxy_path(proxy)}/toxics", body, proxy=proxy)

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self._request(
            f"remove toxic {toxic_name!r} from proxy {proxy!r}",
            "DELETE",
            f"{_proxy_path(proxy)}/toxics/{quote(toxic_name, safe='')}",
            proxy=proxy,
        )

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        what = f"{'enable' if enabled else 'disable'} proxy {proxy!r}"
        self._request(what, "POST", _proxy_path(proxy), {"enabled": enabled}, proxy=proxy)

    def reset(self) -> None:
        self._request("reset all proxies and toxics", "POST", "/reset")

    def active_toxics(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, state in self._proxies("list proxies and toxics").items():
            names = list(state.toxics)
            if not state.enabled:
                names.append("disabled")
            found[name] = names
        return found


def _proxy_path(name: str) -> str:
    return f"/proxies/{quote(name, safe='')}"
