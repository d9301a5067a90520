"""Business rules of the storefront as pure functions: seeded accounts, prices, who may do what.

Nothing here touches HTTP, SQLite or the clock, so every rule is tested directly.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from peakday.storefront.identity import Role

Channel = Literal["online", "pos"]
ServiceLevel = Literal["ground", "express"]

# How many accounts of each role auth seeds; Locust journeys pick usernames from these ranges.
SEEDED_ACCOUNTS_PER_ROLE: tuple[tuple[Role, int], ...] = (
    (Role.SHOPPER, 100),
    (Role.MERCHANT, 20),
    (Role.POS, 20),
)

# secrets.token_urlsafe(32) gives 43 characters; anything far outside this shape is not a token
# we issued, so it is rejected without a database lookup (or, in checkout, a call to auth).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,256}")


@dataclass(frozen=True)
class SeedUser:
    username: str
    password: str
    role: Role


def seed_password(username: str) -> str:
    """The fixed password convention the load journeys rely on: `pw-<username>`."""
    return f"pw-{username}"


def seed_users() -> tuple[SeedUser, ...]:
    """Every account auth creates in a new database.

    shopper-000..shopper-099, merchant-000..merchant-019 and pos-000..pos-019, in that order.
    """
    return tuple(
        SeedUser(username=name, password=seed_password(name), role=role)
        for role, count in SEEDED_ACCOUNTS_PER_ROLE
        for name in (f"{role.value}-{index:03d}" for index in range(count))
    )


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


def unit_price_cents(sku: str) -> int:
    """A stable price between 1.99 and 99.99 derived from the SKU, so runs are reproducible."""
    digest = hashlib.sha256(sku.encode("utf-8", "surrogatepass")).digest()
    return 199 + int.from_bytes(digest[:4], "big") % 9_801


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


def price_lines(items: Iterable[tuple[str, int]]) -> tuple[PricedLine, ...]:
    return tuple(PricedLine(sku, quantity, unit_price_cents(sku)) for sku, quantity in items)


def order_total_cents(lines: Iterable[PricedLine]) -> int:
    return sum(line.line_total_cents for line in lines)


def checkout_denial(role: Role, channel: Channel) -> str | None:
    """Why this role may not check out on this channel, or None when it may."""
    if role is Role.MERCHANT:
        return "Merchants cannot place orders; sign in as a shopper or a POS terminal."
    if channel == "pos" and role is not Role.POS:
        return f"Channel 'pos' is for POS terminals only, not role {role.value!r}."
    if channel == "online" and role is not Role.SHOPPER:
        return f"Channel 'online' is for shoppers only, not role {role.value!r}."
    return None


def label_denial(role: Role) -> str | None:
    """Why this role may not buy shipping labels, or None when it may."""
    if role is Role.MERCHANT:
        return None
    return f"Only merchants can create shipping labels, not role {role.value!r}."


_LABEL_BASE_CENTS: Final[Mapping[ServiceLevel, int]] = {"ground": 599, "express": 1_499}
_LABEL_PER_500G_CENTS: Final[Mapping[ServiceLevel, int]] = {"ground": 35, "express": 90}


def label_cost_cents(weight_g: int, service_level: ServiceLevel) -> int:
    """A flat fee per service level plus a charge for each started 500 g."""
    if weight_g < 1:
        raise ValueError(f"A parcel must weigh at least 1 g, got {weight_g!r}.")
    started_half_kilos = math.ceil(weight_g / 500)
    return (
        _LABEL_BASE_CENTS[service_level] + started_half_kilos * _LABEL_PER_500G_CENTS[service_level]
    )


def format_tracking_number(serial: int, service_level: ServiceLevel) -> str:
    """`PD` + service letter + 12 digits + a mod-10 check digit, e.g. `PDG0000000012345`."""
    if not 0 <= serial < 10**12:
        raise ValueError(f"A tracking serial has at most 12 digits, got {serial!r}.")
    digits = f"{serial:012d}"
    check = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits)) % 10
    letter = "G" if service_level == "ground" else "E"
    return f"PD{letter}{digits}{check}"


def format_timestamp(unix_s: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. `2025-11-28T09:00:00.123Z`."""
    moment = datetime.fromtimestamp(unix_s, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
