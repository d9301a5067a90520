"""The hardened profile's protections, built from well-kept libraries where they exist:

    retries          tenacity: bounded attempts, full-jitter exponential backoff
    retry budget     RetryBudget below (a token bucket, as in Finagle/Envoy; no library for it)
    circuit breaker  pybreaker, guarding each blocking call to auth on its worker thread
    introspection    cachetools.TTLCache of successful token checks, served stale (bounded by
    cache            the token's own expiry) while auth is unavailable
    load shedding    LoadShedder below: an ASGI middleware answering 429 + Retry-After beyond
                     `max_in_flight` requests

`build_introspector` turns a profile into the Introspector checkout and labels use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pybreaker
from cachetools import TTLCache
from starlette.types import ASGIApp, Receive, Scope, Send
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from peakday.storefront.auth_client import CallGuard, HttpIntrospector
from peakday.storefront.identity import AuthUnavailable, Identity, Introspector, InvalidToken
from peakday.storefront.profiles import Resilience
from peakday.storefront.web import RETRY_AFTER_S, error_response

Clock = Callable[[], float]
_CACHE_ENTRIES = 50_000


class RetryBudget:
    """Each call earns `ratio` of a retry; a retry spends one. Bounded by `cap`, so a long
    quiet spell cannot bank enough retries to hammer auth when it starts failing."""

    def __init__(self, ratio: float, cap: float = 20.0, initial: float = 5.0) -> None:
        self._ratio = ratio
        self._cap = cap
        self._tokens = min(cap, initial) if ratio > 0 else 0.0
        self.spent = 0
        self.refused = 0

    def earn(self) -> None:
        self._tokens = min(self._cap, self._tokens + self._ratio)

    def try_spend(self) -> bool:
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.spent += 1
            return True
        self.refused += 1
        return False


@dataclass
class _Cached:
    identity: Identity
    fetched_at: float


@dataclass
class IntrospectionStats:
    calls: int = 0
    cache_hits: int = 0
    stale_hits: int = 0


class ResilientIntrospector:
    """An Introspector around another: cache, then retries (within the budget)."""

    def __init__(
        self, inner: Introspector, resilience: Resilience, clock: Clock = time.time
    ) -> None:
        self._inner = inner
        self._resilience = resilience
        self._clock = clock
        self.budget = RetryBudget(resilience.retry_budget)
        self.stats = IntrospectionStats()
        keep_s = resilience.introspect_cache_ttl_s + resilience.introspect_stale_s
        self._cache: TTLCache[str, _Cached] | None = (
            TTLCache(maxsize=_CACHE_ENTRIES, ttl=keep_s, timer=clock)
            if resilience.introspect_cache_ttl_s > 0
            else None
        )

    async def introspect(self, token: str) -> Identity:
        self.stats.calls += 1
        now = self._clock()
        cached = self._cache.get(token) if self._cache is not None else None
        if cached is not None and cached.identity.expires_at <= now:
            cached = None  # an expired token is asked about again (auth will say 401)
        if cached is not None and now - cached.fetched_at < self._resilience.introspect_cache_ttl_s:
            self.stats.cache_hits += 1
            return cached.identity
        try:
            identity = await self._ask_with_retries(token)
        except AuthUnavailable:
            if cached is not None:
                self.stats.stale_hits += 1
                return cached.identity
            raise
        except InvalidToken:
            if self._cache is not None:
                self._cache.pop(token, None)
            raise
        if self._cache is not None:
            self._cache[token] = _Cached(identity, now)
        return identity

    async def _ask_with_retries(self, token: str) -> Identity:
        self.budget.earn()
        if self._resilience.retries <= 0:
            return await self._inner.introspect(token)

        def worth_retrying(exc: BaseException) -> bool:
            return isinstance(exc, AuthUnavailable) and self.budget.try_spend()

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._resilience.retries + 1),
            wait=wait_random_exponential(
                multiplier=self._resilience.retry_backoff_s,
                max=max(self._resilience.retry_backoff_s, 1.0),
            ),
            retry=retry_if_exception(worth_retrying),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._inner.introspect(token)
        raise AssertionError("tenacity ends with a result or the last error")  # pragma: no cover

    async def aclose(self) -> None:
        await self._inner.aclose()


def circuit_breaker(resilience: Resilience) -> pybreaker.CircuitBreaker | None:
    if resilience.breaker_failures <= 0:
        return None
    # A 401 is auth working as it should: it must not count towards opening the breaker.
    return pybreaker.CircuitBreaker(
        fail_max=resilience.breaker_failures,
        reset_timeout=resilience.breaker_reset_s,
        exclude=[InvalidToken],
        name="auth",
    )


def guarded_by(breaker: pybreaker.CircuitBreaker) -> CallGuard:
    """A guard that runs each call to auth under `breaker`, without serialising the calls.

    pybreaker's `CircuitBreaker.call` holds the breaker's lock for the whole call. Wrapping the
    call to auth in it let one token check through at a time: at 300 ms per check, the others
    queued past their deadline, and the breaker opened on timeouts it had caused itself. So
    while the breaker is closed the call runs outside it (on the event loop), and its outcome is
    then replayed through `breaker.call`, which counts it by pybreaker's own rules (fail_max,
    excluded 401s). While it is open or half-open, the call goes through `breaker.call` itself,
    on a worker thread that runs the call back on the loop: refused until `reset_timeout`, then
    one trial at a time (the others wait for the lock on their threads), which is what
    half-open means.
    """

    def refused() -> AuthUnavailable:
        return AuthUnavailable(
            "The circuit breaker on auth is open after repeated failures; not asking auth "
            f"for {breaker.reset_timeout:g} s."
        )

    async def guard(call: Callable[[], Coroutine[Any, Any, Identity]]) -> Identity:
        if breaker.current_state != pybreaker.STATE_CLOSED:

            def through_breaker() -> Identity:
                trial: Identity = breaker.call(lambda: anyio.from_thread.run(call))
                return trial

            try:
                return await anyio.to_thread.run_sync(through_breaker)
            except pybreaker.CircuitBreakerError as exc:
                raise refused() from exc

        failure: Exception | None = None
        try:
            result = await call()
        except Exception as exc:  # replayed below, so pybreaker sees every outcome
            failure = exc

        def replay() -> Identity:
            if failure is not None:
                raise failure
            return result

        try:
            replayed: Identity = breaker.call(replay)
        except pybreaker.CircuitBreakerError as exc:
            if failure is None:
                return result  # auth answered; other calls opened the breaker meanwhile
            raise refused() from exc
        return replayed

    return guard


@dataclass(frozen=True)
class AuthCaller:
    """What checkout and labels use to reach auth, and what the admin status reports on."""

    introspector: Introspector
    breaker: pybreaker.CircuitBreaker | None
    resilient: ResilientIntrospector | None

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {}
        if self.breaker is not None:
            status["breaker_state"] = self.breaker.current_state
            status["breaker_failures"] = self.breaker.fail_counter
        if self.resilient is not None:
            stats = self.resilient.stats
            status |= {
                "token_checks": stats.calls,
                "cache_hits": stats.cache_hits,
                "stale_hits": stats.stale_hits,
                "retries": self.resilient.budget.spent,
                "retries_refused_by_budget": self.resilient.budget.refused,
            }
        return status


def build_auth_caller(
    auth_url: str, resilience: Resilience, max_connections: int = 100
) -> AuthCaller:
    breaker = circuit_breaker(resilience)
    http = HttpIntrospector(
        auth_url,
        resilience.auth_timeout_s,
        max_connections,
        guard=None if breaker is None else guarded_by(breaker),
    )
    plain = (
        resilience.retries == 0
        and resilience.introspect_cache_ttl_s == 0
        and resilience.introspect_stale_s == 0
    )
    if plain:
        return AuthCaller(http, breaker, None)
    resilient = ResilientIntrospector(http, resilience)
    return AuthCaller(resilient, breaker, resilient)


@dataclass
class InFlight:
    """The load-shedding limit of one service, and what it did."""

    max_in_flight: int
    in_flight: int = 0
    shed: int = 0


class LoadShedder:
    """ASGI middleware: beyond `max_in_flight` concurrent HTTP requests, answer 429 at once.

    Shedding early keeps the requests already admitted fast instead of letting every request
    queue until all of them miss their deadline. /health is never shed.
    """

    def __init__(self, app: ASGIApp, limit: InFlight) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit
        if scope["type"] != "http" or scope.get("path") == "/health" or limit.max_in_flight <= 0:
            await self.app(scope, receive, send)
            return
        if limit.in_flight >= limit.max_in_flight:
            limit.shed += 1
            response = error_response(
                429,
                "overloaded",
                f"More than {limit.max_in_flight} requests are in flight; retry shortly.",
                {"Retry-After": str(RETRY_AFTER_S)},
            )
            await response(scope, receive, send)
            return
        limit.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            limit.in_flight -= 1


def service_status(
    resilience: Resilience, limit: InFlight, caller: AuthCaller | None = None
) -> dict[str, Any]:
    """What GET /admin/status reports besides the faults: knobs and counters."""
    status: dict[str, Any] = {
        "profile": resilience.profile,
        "knobs": {k.removeprefix("storefront."): v for k, v in resilience.knobs().items()},
        "in_flight": limit.in_flight,
        "shed": limit.shed,
    }
    if caller is not None:
        status |= caller.status()
    return status


def auth_caller_for(
    auth_url: str | None,
    resilience: Resilience,
    max_connections: int,
    introspector: Introspector | None,
) -> AuthCaller:
    """The AuthCaller of checkout or labels: over HTTP, or around a given (test) introspector."""
    if introspector is None:
        if auth_url is None:
            raise ValueError("no auth URL")
        return build_auth_caller(auth_url, resilience, max_connections)
    if resilience.retries == 0 and resilience.introspect_cache_ttl_s == 0:
        return AuthCaller(introspector, None, None)
    resilient = ResilientIntrospector(introspector, resilience)
    return AuthCaller(resilient, None, resilient)
