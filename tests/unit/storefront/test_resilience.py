"""The hardened profile's protections against a fake auth (no HTTP)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import anyio
import pybreaker
import pytest
from fastapi.testclient import TestClient

from peakday.storefront import checkout
from peakday.storefront.auth_client import CallGuard
from peakday.storefront.identity import AuthUnavailable, Identity, InvalidToken, Role
from peakday.storefront.profiles import PROFILES, profile_argv, resilience_for
from peakday.storefront.resilience import (
    ResilientIntrospector,
    RetryBudget,
    circuit_breaker,
    guarded_by,
)
from peakday.storefront.settings import StorefrontSettings

from .fakes import SHOPPER_TOKEN, UNKNOWN_TOKEN, FakeClock, FakeIntrospector, bearer

HARDENED = dataclasses.replace(PROFILES["hardened"], retry_backoff_s=0.0)


def ask(introspector: ResilientIntrospector, token: str = SHOPPER_TOKEN) -> Identity:
    return anyio.run(introspector.introspect, token)


def test_cache_answers_within_the_ttl_then_asks_again(clock: FakeClock) -> None:
    fake = FakeIntrospector()
    resilient = ResilientIntrospector(fake, HARDENED, clock=clock)
    ask(resilient)
    ask(resilient)
    assert len(fake.calls) == 1
    clock.advance(HARDENED.introspect_cache_ttl_s + 1)
    ask(resilient)
    assert len(fake.calls) == 2


def test_stale_answer_is_served_while_auth_is_unavailable(clock: FakeClock) -> None:
    fake = FakeIntrospector()
    resilient = ResilientIntrospector(fake, HARDENED, clock=clock)
    ask(resilient)
    clock.advance(60)
    fake.unavailable = True
    assert ask(resilient).subject == "shopper-001"
    assert resilient.stats.stale_hits == 1


def test_unknown_tokens_are_never_cached_or_retried(clock: FakeClock) -> None:
    fake = FakeIntrospector()
    resilient = ResilientIntrospector(fake, HARDENED, clock=clock)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            ask(resilient, UNKNOWN_TOKEN)
    assert fake.calls == [UNKNOWN_TOKEN, UNKNOWN_TOKEN]


def test_retries_are_bounded_by_attempts_and_by_the_budget(clock: FakeClock) -> None:
    fake = FakeIntrospector(unavailable=True)
    knobs = dataclasses.replace(HARDENED, introspect_cache_ttl_s=0.0, retry_budget=0.1)
    resilient = ResilientIntrospector(fake, knobs, clock=clock)
    with pytest.raises(AuthUnavailable):
        ask(resilient)
    assert len(fake.calls) == 1 + knobs.retries
    for _ in range(20):
        with pytest.raises(AuthUnavailable):
            ask(resilient)
    # The initial reserve (5) and 0.1 per call: far fewer retries than 2 per call.
    assert resilient.budget.spent < 10
    assert resilient.budget.refused > 0


def test_retry_budget_earns_a_fraction_per_call() -> None:
    budget = RetryBudget(0.5, cap=2.0, initial=0.0)
    assert not budget.try_spend()
    budget.earn()
    budget.earn()
    assert budget.try_spend()
    assert not budget.try_spend()


def guard_call(guard: CallGuard, call: Callable[[], Coroutine[Any, Any, Identity]]) -> Identity:
    async def run() -> Identity:
        return await guard(call)

    return anyio.run(run)


def test_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    breaker = circuit_breaker(dataclasses.replace(HARDENED, breaker_failures=3))
    assert breaker is not None
    guard = guarded_by(breaker)
    calls = []

    async def failing() -> Identity:
        calls.append(1)
        raise AuthUnavailable("down")

    for _ in range(3):
        with pytest.raises(AuthUnavailable):
            guard_call(guard, failing)
    assert breaker.current_state == pybreaker.STATE_OPEN
    with pytest.raises(AuthUnavailable, match="circuit breaker"):
        guard_call(guard, failing)
    assert len(calls) == 3  # the open breaker did not call auth


def test_invalid_tokens_do_not_open_the_breaker() -> None:
    breaker = circuit_breaker(dataclasses.replace(HARDENED, breaker_failures=2))
    assert breaker is not None

    async def unknown() -> Identity:
        raise InvalidToken("no")

    for _ in range(5):
        with pytest.raises(InvalidToken):
            guard_call(guarded_by(breaker), unknown)
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_breaker_lets_concurrent_token_checks_overlap() -> None:
    # pybreaker's CircuitBreaker.call holds the breaker's lock for the whole call: wrapping the
    # network call in it let one token check through at a time, so a 300 ms brownout queued
    # every other check past its deadline and the breaker opened on timeouts it had caused.
    breaker = circuit_breaker(HARDENED)
    assert breaker is not None
    guard = guarded_by(breaker)
    callers = 4

    async def run() -> list[Identity]:
        all_inside = asyncio.Barrier(callers)

        async def slow_check() -> Identity:
            async with asyncio.timeout(2.0):  # fails unless every caller is inside at once
                await all_inside.wait()
            return Identity("shopper-001", Role.SHOPPER, expires_at=2_000_000_000)

        return list(await asyncio.gather(*(guard(slow_check) for _ in range(callers))))

    assert len(asyncio.run(run())) == callers
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_breaker_half_opens_after_its_reset_timeout() -> None:
    breaker = circuit_breaker(
        dataclasses.replace(HARDENED, breaker_failures=1, breaker_reset_s=0.05)
    )
    assert breaker is not None
    guard = guarded_by(breaker)

    async def failing() -> Identity:
        raise AuthUnavailable("down")

    with pytest.raises(AuthUnavailable):
        guard_call(guard, failing)
    assert breaker.current_state == pybreaker.STATE_OPEN
    time.sleep(0.06)
    identity = Identity("shopper-001", Role.SHOPPER, expires_at=2_000_000_000)

    async def working() -> Identity:
        return identity

    assert guard_call(guard, working) == identity
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    breaker = circuit_breaker(
        dataclasses.replace(HARDENED, breaker_failures=1, breaker_reset_s=0.05)
    )
    assert breaker is not None
    guard = guarded_by(breaker)

    async def failing() -> Identity:
        raise AuthUnavailable("down")

    with pytest.raises(AuthUnavailable):
        guard_call(guard, failing)
    time.sleep(0.06)
    inside = 0
    most_inside = 0

    async def trial() -> Identity:
        nonlocal inside, most_inside
        inside += 1
        most_inside = max(most_inside, inside)
        await asyncio.sleep(0.05)
        inside -= 1
        raise AuthUnavailable("still down")

    async def run() -> list[Identity | BaseException]:
        return list(await asyncio.gather(*(guard(trial) for _ in range(3)), return_exceptions=True))

    results = asyncio.run(run())
    assert all(isinstance(r, AuthUnavailable) for r in results)
    assert most_inside == 1
    assert breaker.current_state == pybreaker.STATE_OPEN


@pytest.fixture
def shedding_client(data_dir: Path, clock: FakeClock) -> Iterator[TestClient]:
    settings = StorefrontSettings(
        service="checkout",
        data_dir=data_dir,
        resilience=dataclasses.replace(HARDENED, max_in_flight=1),
    )
    slow = FakeIntrospector(delay_s=0.3)
    app = checkout.create_app(settings, introspector=slow, clock=clock)
    with TestClient(app) as client:
        yield client


def test_load_shedding_answers_429_with_retry_after(shedding_client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    order = {"items": [{"sku": "S", "quantity": 1}], "channel": "online"}

    def post(i: int) -> int:
        headers = {**bearer(SHOPPER_TOKEN), "Idempotency-Key": f"k{i}"}
        return shedding_client.post("/checkout", json=order, headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, range(4)))
    assert 201 in statuses and 429 in statuses, statuses
    assert shedding_client.get("/health").status_code == 200


def test_profiles_round_trip_through_the_command_line(tmp_path: Path) -> None:
    from peakday.storefront.__main__ import parse_settings

    knobs = resilience_for("hardened", {"retries": 1, "auth_timeout_s": 0.25})
    argv = ["checkout", "--port", "1", "--data-dir", str(tmp_path)]
    argv += ["--auth-url", "http://x:1", "--auth-timeout-s", "2.0", *profile_argv(knobs)]
    settings = parse_settings(argv)
    assert settings.effective_resilience == knobs
    assert settings.auth_timeout_s == 0.25


def test_unknown_knob_is_refused() -> None:
    with pytest.raises(ValueError, match="retrys"):
        resilience_for("naive", {"retrys": 1})


def test_naive_has_no_protection_and_knobs_reach_the_environment() -> None:
    naive = PROFILES["naive"]
    assert (naive.retries, naive.breaker_failures, naive.introspect_cache_ttl_s) == (0, 0, 0)
    assert naive.auth_timeout_s >= 30
    assert PROFILES["hardened"].knobs()["storefront.max_in_flight"] == "64"
    assert Role.SHOPPER  # the fake's identities are shoppers
