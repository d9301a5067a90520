"""For locustfiles: an HttpUser whose requests go through the proxy their route names.

    from peakday.load.locust_routes import RoutedHttpUser

    class Shopper(RoutedHttpUser):
        @task
        def login(self):
            self.client.post("/login", json={...}, name="login")  # -> the login route's proxy

Routes come from the run (PEAKDAY_ROUTES and PEAKDAY_PROXY_<NAME>, see peakday.routes and
docs/external.md). This module imports Locust, and so gevent's monkey-patching: only Locust
processes import it, never the orchestrator.
"""

from __future__ import annotations

import os
from typing import Any

from locust import HttpUser
from locust.clients import HttpSession, ResponseContextManager
from locust.env import Environment
from locust.event import EventHook
from locust.user.users import User
from urllib3 import PoolManager

from peakday.routes import Router

__all__ = ["RoutedHttpSession", "RoutedHttpUser", "Router"]


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
