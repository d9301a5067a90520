"""Resilience profiles of the storefront (pure): how checkout and labels treat calls to auth,
and how every service protects itself from overload.

    standard  what the storefront did before profiles: a 2 s deadline per token check, no more
    naive     a long deadline (30 s), no retries, no breaker, no caching, no load shedding
    hardened  short deadline, bounded jittered retries within a retry budget, a circuit breaker
              on auth, a short-lived introspection cache (served stale while auth is down), and
              load shedding (429 + Retry-After) beyond a number of requests in flight

An experiment picks a profile and may override single knobs (spec `storefront:`); the knobs
travel to each service as command-line flags (`profile_argv`) and into the result's environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

ProfileName = Literal["standard", "naive", "hardened"]
PROFILE_NAMES: Final[tuple[ProfileName, ...]] = ("standard", "naive", "hardened")


@dataclass(frozen=True)
class Resilience:
    profile: ProfileName
    # Deadline for one whole token check (connect + send + wait + read), per attempt.
    auth_timeout_s: float
    # Extra attempts after a token check fails because auth is unavailable (never on 401).
    retries: int
    # Base of the full-jitter exponential backoff between attempts.
    retry_backoff_s: float
    # Retries allowed per token check, on average (a token bucket: 0.2 = one retry per 5 calls).
    retry_budget: float
    # Consecutive failed token checks that open the circuit breaker; 0 = no breaker.
    breaker_failures: int
    # Seconds the breaker stays open before letting one trial call through.
    breaker_reset_s: float
    # Seconds a successful token check is reused without asking auth; 0 = no cache.
    introspect_cache_ttl_s: float
    # Seconds past that a cached answer may still be used while auth is unavailable.
    introspect_stale_s: float
    # Requests in flight beyond which a service answers 429 with Retry-After; 0 = never.
    max_in_flight: int

    def knobs(self) -> dict[str, str]:
        """The knobs as strings, for the result's environment section."""
        return {
            f"storefront.{field.name}": _format(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }


KNOB_NAMES: Final[tuple[str, ...]] = tuple(
    field.name for field in dataclasses.fields(Resilience) if field.name != "profile"
)

_STANDARD: Final = Resilience(
    profile="standard",
    auth_timeout_s=2.0,
    retries=0,
    retry_backoff_s=0.05,
    retry_budget=0.0,
    breaker_failures=0,
    breaker_reset_s=5.0,
    introspect_cache_ttl_s=0.0,
    introspect_stale_s=0.0,
    max_in_flight=0,
)

PROFILES: Final[Mapping[ProfileName, Resilience]] = {
    "standard": _STANDARD,
    # standard with a long deadline: waits out a slow auth instead of failing fast
    "naive": dataclasses.replace(_STANDARD, profile="naive", auth_timeout_s=30.0),
    "hardened": Resilience(
        profile="hardened",
        auth_timeout_s=0.5,
        retries=2,
        retry_backoff_s=0.05,
        retry_budget=0.2,
        breaker_failures=20,
        breaker_reset_s=2.0,
        introspect_cache_ttl_s=10.0,
        introspect_stale_s=300.0,
        max_in_flight=64,
    ),
}


def resilience_for(
    profile: ProfileName, overrides: Mapping[str, float | int] | None = None
) -> Resilience:
    """The profile with some knobs replaced; ValueError names an unknown knob."""
    base = PROFILES[profile]
    changes = dict(overrides or {})
    unknown = sorted(set(changes) - set(KNOB_NAMES))
    if unknown:
        raise ValueError(f"Unknown resilience knob(s) {unknown!r}; known: {list(KNOB_NAMES)!r}.")
    typed: dict[str, float | int] = {}
    for name, value in changes.items():
        typed[name] = int(value) if isinstance(getattr(base, name), int) else float(value)
    return dataclasses.replace(base, **typed)  # type: ignore[arg-type]


def profile_argv(resilience: Resilience) -> list[str]:
    """Command-line flags for `python -m peakday.storefront` that give exactly these knobs.

    The deadline is always given: platforms put a default `--auth-timeout-s` earlier on the
    command line, and these flags come last, so they win.
    """
    argv = ["--profile", resilience.profile]
    base = PROFILES[resilience.profile]
    for name in KNOB_NAMES:
        value = getattr(resilience, name)
        if value != getattr(base, name) or name == "auth_timeout_s":
            argv += [knob_flag(name), _format(value)]
    return argv


def knob_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
