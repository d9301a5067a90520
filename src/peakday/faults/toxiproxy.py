"""The one module that talks to a Toxiproxy server, through toxiproxy-python.

toxiproxy-python keeps the server address in class attributes and calls `requests` without a
timeout; this adapter points it at one server and gives every API call a timeout, so a hung
Toxiproxy turns into a ToxiproxyError instead of a hung game day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from peakday.errors import ToxiproxyError


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


class _TimeoutRequests:
    """Stands in for the `requests` module inside toxiproxy-python, adding a timeout."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout_s)
        return requests.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout_s)
        return requests.post(url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout_s)
        return requests.delete(url, **kwargs)


class ToxiproxyPythonClient:
    """ToxiproxyApi over toxiproxy-python, bound to one server (the library allows only one)."""

    def __init__(self, host: str, port: int, timeout_s: float = 3.0) -> None:
        import toxiproxy.api as toxiproxy_api
        from toxiproxy import Toxiproxy

        toxiproxy_api.requests = _TimeoutRequests(timeout_s)
        self._server = Toxiproxy()
        self._server.update_api_consumer(host, port)
        self._address = f"{host}:{port}"
        self._api = toxiproxy_api.APIConsumer

    def _call(self, what: str, action: Any) -> Any:
        from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

        try:
            return action()
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise ToxiproxyError(
                f"Toxiproxy at {self._address} did not answer while trying to {what}: {exc}. "
                "Hint: check that toxiproxy-server is running and its API port is right."
            ) from exc
        except (InvalidToxic, NotFound, ProxyExists) as exc:
            raise ToxiproxyError(
                f"Toxiproxy at {self._address} refused to {what}: {exc!r}."
            ) from exc

    def version(self) -> str:
        content = self._call("report its version", lambda: self._api.get("/version").content)
        return bytes(content).decode(errors="replace").strip()

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        def create() -> str:
            existing = self._server.get_proxy(name)
            if existing is not None:
                existing.destroy()
            body = {"name": name, "listen": listen, "upstream": upstream}
            response = self._api.post("/proxies", json=body)
            if response.status_code != 201:
                # such as 500 {"error": "listen tcp 127.0.0.1:16379: bind: address already in use"}
                raise ToxiproxyError(
                    f"Toxiproxy at {self._address} could not create proxy {name!r} listening on "
                    f"{listen!r}: {response.text.strip()}. Hint: another process may hold that "
                    "port; free it or pick another listen address."
                )
            return str(response.json()["listen"])

        return str(self._call(f"create proxy {name!r}", create))

    def delete_proxy(self, name: str) -> None:
        self._call(f"delete proxy {name!r}", lambda: self._proxy(name).destroy())

    def proxies(self) -> dict[str, ProxyState]:
        def collect() -> dict[str, ProxyState]:
            listed = self._api.get("/proxies").json()
            return {
                str(name): ProxyState(
                    name=str(name),
                    listen=str(values["listen"]),
                    upstream=str(values["upstream"]),
                    enabled=bool(values["enabled"]),
                    toxics=tuple(sorted(str(t["name"]) for t in values.get("toxics") or [])),
                )
                for name, values in listed.items()
            }

        result: dict[str, ProxyState] = self._call("list proxies", collect)
        return result

    def _proxy(self, name: str) -> Any:
        proxy = self._server.get_proxy(name)
        if proxy is None:
            raise ToxiproxyError(f"Toxiproxy at {self._address} has no proxy named {name!r}.")
        return proxy

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        def add() -> None:
            self._proxy(proxy).add_toxic(
                name=toxic.name,
                type=toxic.type,
                stream=toxic.stream,
                toxicity=toxic.toxicity,
                attributes=dict(toxic.attributes),
            )

        self._call(f"add toxic {toxic.name!r} to proxy {proxy!r}", add)

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self._call(
            f"remove toxic {toxic_name!r} from proxy {proxy!r}",
            lambda: self._proxy(proxy).destroy_toxic(toxic_name),
        )

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        def toggle() -> None:
            target = self._proxy(proxy)
            if enabled:
                target.enable()
            else:
                target.disable()

        self._call(f"{'enable' if enabled else 'disable'} proxy {proxy!r}", toggle)

    def reset(self) -> None:
        self._call("reset all proxies and toxics", self._server.reset)

    def active_toxics(self) -> dict[str, list[str]]:
        def collect() -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for name, proxy in self._server.proxies().items():
                names = sorted(proxy.toxics().keys())
                if not proxy.enabled:
                    names.append("disabled")
                found[str(name)] = names
            return found

        result: dict[str, list[str]] = self._call("list proxies and toxics", collect)
        return result
