"""Test doubles for the storefront: a fake Introspector at the seam, a fake clock, cheap scrypt."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from peakday.storefront.identity import AuthUnavailable, Identity, InvalidToken, Role
from peakday.storefront.passwords import ScryptParams

# Far below production cost so each test app seeds 140 accounts in milliseconds.
CHEAP_SCRYPT = ScryptParams(n=16, r=1, p=1)

SHOPPER_TOKEN = "shopper-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
OTHER_SHOPPER_TOKEN = "shopper-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
POS_TOKEN = "pos-token-cccccccccccccccccccccccccccccccccccccc"
MERCHANT_TOKEN = "merchant-token-dddddddddddddddddddddddddddddddd"
OTHER_MERCHANT_TOKEN = "merchant-token-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
UNKNOWN_TOKEN = "unknown-token-ffffffffffffffffffffffffffffffffff"


def default_identities() -> dict[str, Identity]:
    return {
        SHOPPER_TOKEN: Identity("shopper-001", Role.SHOPPER, 2_000_000_000),
        OTHER_SHOPPER_TOKEN: Identity("shopper-002", Role.SHOPPER, 2_000_000_000),
        POS_TOKEN: Identity("pos-001", Role.POS, 2_000_000_000),
        MERCHANT_TOKEN: Identity("merchant-001", Role.MERCHANT, 2_000_000_000),
        OTHER_MERCHANT_TOKEN: Identity("merchant-002", Role.MERCHANT, 2_000_000_000),
    }


@dataclass
class FakeIntrospector:
    """Answers from a dict; `unavailable` makes every call fail as if auth were down."""

    identities: dict[str, Identity] = field(default_factory=default_identities)
    unavailable: bool = False
    delay_s: float = 0.0
    calls: list[str] = field(default_factory=list)
    closed: bool = False

    async def introspect(self, token: str) -> Identity:
        self.calls.append(token)
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        if self.unavailable:
            raise AuthUnavailable("Auth at 'fake' could not be reached: ConnectError.")
        try:
            return self.identities[token]
        except KeyError:
            raise InvalidToken("Auth does not recognise the bearer token.") from None

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class FakeClock:
    now_s: float = 1_764_320_400.0  # 2025-11-28T09:00:00Z, a Black Friday morning

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
