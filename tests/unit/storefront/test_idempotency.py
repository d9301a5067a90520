from __future__ import annotations

import pytest

from peakday.storefront.idempotency import (
    IdempotencyOutcome,
    idempotency_key_problem,
    idempotency_outcome,
    request_fingerprint,
)


@pytest.mark.parametrize(
    ("key", "required", "problem"),
    [
        (None, True, "required"),
        (None, False, None),
        ("550e8400-e29b-41d4-a716-446655440000", True, None),
        ("k", True, None),
        ("k" * 128, True, None),
        ("k" * 129, True, "129 characters"),
        ("", True, "visible ASCII"),
        ("has space", True, "visible ASCII"),
        ("tab\there", False, "visible ASCII"),
        ("clé", True, "visible ASCII"),
    ],
    ids=[
        "missing-required",
        "missing-optional",
        "uuid",
        "one-char",
        "128-chars",
        "129-chars",
        "empty",
        "space",
        "tab",
        "non-ascii",
    ],
)
def test_idempotency_key_problem(key: str | None, required: bool, problem: str | None) -> None:
    found = idempotency_key_problem(key, required=required)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_fingerprint_ignores_key_order() -> None:
    a = {"channel": "online", "items": [{"sku": "A", "quantity": 1}]}
    b = {"items": [{"quantity": 1, "sku": "A"}], "channel": "online"}
    assert request_fingerprint(a) == request_fingerprint(b)


def test_fingerprint_differs_when_meaning_differs() -> None:
    a = {"channel": "online", "items": [{"sku": "A", "quantity": 1}]}
    b = {"channel": "online", "items": [{"sku": "A", "quantity": 2}]}
    assert request_fingerprint(a) != request_fingerprint(b)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, IdempotencyOutcome.CREATED),
        ("same", IdempotencyOutcome.REPLAYED),
        ("other", IdempotencyOutcome.CONFLICT),
    ],
    ids=["first-use", "same-request", "different-request"],
)
def test_idempotency_outcome(stored: str | None, expected: IdempotencyOutcome) -> None:
    assert idempotency_outcome(stored, "same") is expected
