"""For locustfiles: HttpUsers and FastHttpUsers whose requests go through their route's proxy.

    from peakday.load.locust_routes import RoutedHttpUser

    class Shopper(RoutedHttpUser):
        @task
        def login(self):
            self.client.post("/login", json={...}, name="login")  # -> the login route's proxy

`RoutedFastHttpUser` is the same on Locust's FastHttpUser (geventhttpclient), several times
cheaper per request. Routes come from the run (PEAKDAY_ROUTES and PEAKDAY_PROXY_<NAME>, see
peakday.routes and docs/external.md). This module imports Locust, and so gevent's
monkey-patching: only Locust processes import it, never the orchestrator.
"""

from __future__ import annotations

import os
from typing import Any

from locust import FastHttpUser, HttpUser
from locust.clients import HttpSession, ResponseContextManager
from locust.contrib.fasthttp import FastHttpSession
from locust.contrib.fasthttp import ResponseContextManager as FastResponseContextManager
from locust.env import Environment
from locust.event import EventHook
from locust.user.users import User
from urllib3 import PoolManager

from peakday.routes import Router

__all__ = [
    "RoutedFastHttpSession",
    "RoutedFastHttpUser",
    "RoutedHttpSession",
    "RoutedHttpUser",
    "Router",
]


class RoutedHttpSession(HttpSession):
    """Locust's HttpSession, with each request's URL rewritten by `router` (name or path).

    Request names are unchanged: an unnamed request is still named after its path."""

    def __init__(
        self,
        router: Router,
        base_url: str,
        request_event: EventHook,
        user: User | None,
        pool_manager: PoolManager | None = None,
    ) -> None:
        super().__init__(base_url, request_event, user, pool_manager=pool_manager)
        self.router = router

    def request(  # type: ignore[override]
        self,
        method: str | bytes,
        url: str | bytes,
        name: str | None = None,
        catch_response: bool = False,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ResponseContextManager:
        path = url.decode() if isinstance(url, bytes) else url
        routed = self.router.url(path, name or self.request_name, self.base_url)
        return super().request(method, routed, name, catch_response, context or {}, **kwargs)


class RoutedHttpUser(HttpUser):
    """An HttpUser whose client routes requests by name or path to the run's proxies.

    The route table is checked when a subclass is defined, so a table naming a proxy with no
    address stops Locust at start (naming the variable) instead of bypassing the proxy."""

    abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Router.from_env(os.environ)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)  # type: ignore[no-untyped-call]
        self.client = RoutedHttpSession(
            Router.from_env(os.environ),
            base_url=self.host or "",  # HttpUser has already refused a missing host
            request_event=environment.events.request,
            user=self,
            pool_manager=self.pool_manager,
        )
        self.client.trust_env = False  # as HttpUser does: no proxies from the environment


ROUTED_URLS_KEPT = 1024  # routed URLs remembered per session (a locustfile's distinct URLs)


class RoutedFastHttpSession(FastHttpSession):
    """Locust's FastHttpSession, with each request's URL rewritten by `router` (name or path).

    A locustfile sends the same few URLs under the same names again and again, so each
    (URL, name, base URL)'s routed URL is remembered: the route is worked out once, not on every
    request. At most ROUTED_URLS_KEPT are kept (forgotten all at once past that), so URLs with
    ids in them cannot grow the memory of a long run."""

    def __init__(self, router: Router, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.router = router
        self.routed: dict[tuple[str, str | None, str], str] = {}

    def request(  # type: ignore[override]
        self, method: str, url: str, name: str | None = None, **kwargs: Any
    ) -> FastResponseContextManager:
        name = name or self.request_name
        base_url = self.base_url or ""
        routed = self.routed.get((url, name, base_url))
        if routed is None:
            if len(self.routed) >= ROUTED_URLS_KEPT:
                self.routed.clear()
            routed = self.routed[url, name, base_url] = self.router.url(url, name, base_url)
        # Unnamed requests keep the name of their path, as with HttpUser.
        return super().request(method, routed, name or url, **kwargs)


class RoutedFastHttpUser(FastHttpUser):
    """A FastHttpUser whose client routes requests by name or path to the run's proxies.

    As with RoutedHttpUser, the route table is checked when a subclass is defined."""

    abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Router.from_env(os.environ)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        router = Router.from_env(os.environ)
        if not router.routes:
            return  # nothing to route: Locust's own session sends every URL as it is, cheaper
        self.client = RoutedFastHttpSession(
            router,
            base_url=self.host,
            request_event=environment.events.request,
            user=self,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
            max_redirects=self.max_redirects,
            max_retries=self.max_retries,
            insecure=self.insecure,
            concurrency=self.concurrency,
            client_pool=self.client_pool,
            ssl_context_factory=self.ssl_context_factory,
            headers=self.default_headers,
            proxy_host=self.proxy_host,
            proxy_port=self.proxy_port,
        )
