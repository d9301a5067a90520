from __future__ import annotations

import random

import pytest

from peakday.storefront.misbehaviour import (
    FaultBoard,
    Misbehaviour,
    injected_status,
    user_store_delay_s,
)


@pytest.mark.parametrize(
    ("behaviour", "point", "expected"),
    [
        ("errors", "login", 503),
        ("errors", "checkout", 503),
        ("login_errors", "login", 503),
        ("login_errors", "introspect", None),
        ("introspect_errors", "introspect", 503),
        ("introspect_errors", "login", None),
        ("slow_user_store", "login", None),
    ],
    ids=lambda v: str(v),
)
def test_each_behaviour_fails_only_its_points(
    behaviour: str, point: str, expected: int | None
) -> None:
    active = {"f": Misbehaviour(behaviour)}  # type: ignore[arg-type]
    assert injected_status(active, point, draw=0.0) == expected  # type: ignore[arg-type]


def test_fraction_decides_by_the_draw() -> None:
    active = {"f": Misbehaviour("errors", status=429, fraction=0.3)}
    assert injected_status(active, "login", draw=0.29) == 429
    assert injected_status(active, "login", draw=0.3) is None


def test_slow_user_store_adds_delay_within_jitter() -> None:
    active = {"f": Misbehaviour("slow_user_store", delay_ms=1000, jitter_ms=200)}
    assert user_store_delay_s(active, draw=0.0, spread=0.0) == 1.0
    assert user_store_delay_s(active, draw=0.0, spread=-1.0) == pytest.approx(0.8)
    assert user_store_delay_s({}, draw=0.0, spread=0.0) == 0.0


def test_board_counts_injections_and_forgets_removed_faults() -> None:
    board = FaultBoard("auth", rng=random.Random(1))
    board.put("a", Misbehaviour("login_errors", status=500))
    assert board.status_for("login") == 500
    assert board.status_for("introspect") is None
    assert board.injected == 1
    assert board.remove("a") is True
    assert board.remove("a") is False
    assert board.status_for("login") is None


def test_a_fraction_of_requests_fail() -> None:
    board = FaultBoard("checkout", rng=random.Random(7))
    board.put("a", Misbehaviour("errors", fraction=0.25))
    failed = sum(board.status_for("checkout") is not None for _ in range(4000))
    assert 800 < failed < 1200


def test_services_accept_only_their_behaviours() -> None:
    assert FaultBoard("auth").accepts("slow_user_store")
    assert not FaultBoard("checkout").accepts("login_errors")
    assert FaultBoard("labels").accepts("errors")
