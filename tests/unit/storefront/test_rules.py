from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peakday.storefront.identity import Role
from peakday.storefront.rules import (
    Channel,
    checkout_denial,
    format_timestamp,
    format_tracking_number,
    label_cost_cents,
    label_denial,
    looks_like_token,
    order_total_cents,
    price_lines,
    seed_password,
    seed_users,
    unit_price_cents,
)


def test_seed_users_are_the_fixed_140_accounts_with_pw_prefix_passwords() -> None:
    users = seed_users()
    assert len(users) == 140
    assert len({u.username for u in users}) == 140
    by_role = {role: [u.username for u in users if u.role is role] for role in Role}
    assert by_role[Role.SHOPPER][0] == "shopper-000"
    assert by_role[Role.SHOPPER][-1] == "shopper-099"
    assert by_role[Role.MERCHANT] == [f"merchant-{i:03d}" for i in range(20)]
    assert by_role[Role.POS] == [f"pos-{i:03d}" for i in range(20)]
    assert all(u.password == f"pw-{u.username}" for u in users)


def test_seed_password_convention() -> None:
    assert seed_password("merchant-007") == "pw-merchant-007"


def test_seed_users_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed_users()[0].password = "changed"  # type: ignore[misc]


@given(st.text(min_size=1, max_size=64))
def test_unit_price_is_stable_and_between_1_99_and_99_99(sku: str) -> None:
    price = unit_price_cents(sku)
    assert price == unit_price_cents(sku)
    assert 199 <= price <= 9_999


def test_unit_price_differs_between_skus() -> None:
    prices = {unit_price_cents(f"SKU-{i}") for i in range(100)}
    assert len(prices) > 90


def test_order_total_sums_quantity_times_price() -> None:
    lines = price_lines([("SKU-1", 2), ("SKU-2", 3)])
    assert lines[0].line_total_cents == 2 * unit_price_cents("SKU-1")
    assert order_total_cents(lines) == 2 * unit_price_cents("SKU-1") + 3 * unit_price_cents("SKU-2")


@pytest.mark.parametrize(
    ("role", "channel", "allowed"),
    [
        (Role.SHOPPER, "online", True),
        (Role.SHOPPER, "pos", False),
        (Role.POS, "pos", True),
        (Role.POS, "online", False),
        (Role.MERCHANT, "online", False),
        (Role.MERCHANT, "pos", False),
    ],
    ids=lambda value: str(value),
)
def test_checkout_denial(role: Role, channel: Channel, allowed: bool) -> None:
    denial = checkout_denial(role, channel)
    assert (denial is None) is allowed
    if denial is not None:
        assert denial.endswith(".")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_only_merchants_may_create_labels(role: Role) -> None:
    assert (label_denial(role) is None) is (role is Role.MERCHANT)


@pytest.mark.parametrize(
    ("weight_g", "level", "expected"),
    [
        (1, "ground", 599 + 35),
        (500, "ground", 599 + 35),
        (501, "ground", 599 + 70),
        (70_000, "express", 1_499 + 140 * 90),
    ],
)
def test_label_cost(weight_g: int, level: str, expected: int) -> None:
    assert label_cost_cents(weight_g, level) == expected  # type: ignore[arg-type]


def test_label_cost_rejects_weightless_parcels() -> None:
    with pytest.raises(ValueError, match="at least 1 g"):
        label_cost_cents(0, "ground")


def test_tracking_number_format_and_check_digit() -> None:
    number = format_tracking_number(12_345, "express")
    assert re.fullmatch(r"PDE\d{13}", number)
    assert number[3:15] == "000000012345"
    digits = number[3:15]
    check = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits)) % 10
    assert number[-1] == str(check)
    assert format_tracking_number(0, "ground").startswith("PDG")


def test_tracking_number_rejects_oversized_serials() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        format_tracking_number(10**12, "ground")


@pytest.mark.parametrize(
    ("token", "ok"),
    [
        ("A" * 43, True),
        ("abc-_DEF0123456789", True),
        ("short", False),
        ("has space in the middle of it", False),
        ("x" * 257, False),
        ("ünïcödé-token-ünïcödé-token", False),
        ("", False),
    ],
    ids=["issued-shape", "urlsafe", "too-short", "space", "too-long", "non-ascii", "empty"],
)
def test_looks_like_token(token: str, ok: bool) -> None:
    assert looks_like_token(token) is ok


def test_format_timestamp_is_utc_with_milliseconds() -> None:
    assert format_timestamp(1_764_320_400.1234) == "2025-11-28T09:00:00.123Z"
