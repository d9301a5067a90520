"""Prometheus metrics of one storefront service, served at GET /metrics.

Each app owns its registry (no process-wide default registry), so several apps in one test
process never share counters. Request counts and latency come from a small ASGI middleware;
counters the service already keeps for GET /admin/status (circuit breaker, introspection cache,
load shedding) are read only when Prometheus scrapes, so they cost nothing per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH: Final = "/metrics"

# Seconds; the storefront answers in milliseconds, faults add up to seconds.
LATENCY_BUCKETS_S: Final = (
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# Statuses a route's counter starts at 0 for: the ones faults and overload answer with.
PREPARED_ERROR_STATUSES: Final = ("429", "500", "503")

# pybreaker's state names, as a number a PromQL expression can compare.
BREAKER_STATES: Final[Mapping[str, int]] = {"closed": 0, "half-open": 1, "open": 2}

# Requests that matched no route are counted under one label, so probing unknown paths cannot
# grow the number of series without bound.
UNMATCHED_ROUTE: Final = "unmatched"

StatusSource = Callable[[], Mapping[str, Any]]

# (metric, help, key of the admin status) of the counters read at scrape time.
_STATUS_COUNTERS: Final = (
    ("peakday_shed_requests", "Requests answered 429 by load shedding.", "shed"),
    ("peakday_token_checks", "Token checks asked of the introspection cache.", "token_checks"),
    ("peakday_introspection_cache_hits", "Token checks served from the cache.", "cache_hits"),
    ("peakday_introspection_stale_hits", "Stale cache answers while auth was down.", "stale_hits"),
    ("peakday_auth_retries", "Retries of token checks.", "retries"),
)


class _StatusCollector(Collector):
    """Turns the service's admin status counters into metrics at scrape time."""

    def __init__(self, service: str, status: StatusSource) -> None:
        self._service = service
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status()
        labels = [self._service]
        in_flight = status.get("in_flight")
        if isinstance(in_flight, int):
            gauge = GaugeMetricFamily(
                "peakday_in_flight_requests", "Requests being served now.", labels=["service"]
            )
            gauge.add_metric(labels, in_flight)
            yield gauge
        for name, documentation, key in _STATUS_COUNTERS:
            value = status.get(key)
            if isinstance(value, int):
                counter = CounterMetricFamily(name, documentation, labels=["service"])
                counter.add_metric(labels, value)
                yield counter
        state = status.get("breaker_state")
        if isinstance(state, str) and state in BREAKER_STATES:
            breaker = GaugeMetricFamily(
                "peakday_breaker_state",
                "Circuit breaker on auth: 0 closed, 1 half-open, 2 open.",
                labels=["service"],
            )
            breaker.add_metric(labels, BREAKER_STATES[state])
            yield breaker


class StorefrontMetrics:
    """The metrics of one service: request counts, latency and auth outcomes."""

    def __init__(self, service: str, status: StatusSource | None = None) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "peakday_http_requests",
            "HTTP requests served, by route template, method and status.",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "peakday_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["service", "route"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.logins = Counter(
            "peakday_auth_logins",
            "Token issuance by auth's POST /login, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.introspections = Counter(
            "peakday_auth_introspections",
            "Token checks answered by auth's POST /introspect, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        if status is not None:
            self.registry.register(_StatusCollector(service, status))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children_for(route, method, status)
        children[0].inc()
        children[1].observe(seconds)

    def _children_for(self, route: str, method: str, status: int) -> tuple[Counter, Histogram]:
        """The series of one (route, method, status), looked up once: labels() takes a lock
        and builds a tuple each call, several times the cost of the increment itself."""
        if not any(r == route and m == method for r, m, _ in self._children):
            # Error series exist at 0 from a route's first request, so the first error is a rise
            # that rate() sees at the next scrape, not a new series it needs two scrapes of.
            for error in PREPARED_ERROR_STATUSES:
                self.requests.labels(self.service, route, method, error)
        children = (
            self.requests.labels(self.service, route, method, str(status)),
            self.latency.labels(self.service, route),
        )
        self._children[(route, method, status)] = children
        return children

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware counting every HTTP request but /metrics and /health by route template."""

    def __init__(self, app: ASGIApp, metrics: StorefrontMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in (METRICS_PATH, "/health"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            self.metrics.observe(
                str(route), str(scope.get("method", "")), status, time.perf_counter() - started
            )


def install_metrics(app: FastAPI, metrics: StorefrontMetrics) -> None:
    """GET /metrics (Prometheus text format) and the middleware that feeds it.

    Add it after any load-shedding middleware, so it is outermost and sheds count as 429s.
    """

    @app.get(METRICS_PATH, include_in_schema=False)
    async def get_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics
