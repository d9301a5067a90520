from __future__ import annotations

import pytest

from peakday.storefront.passwords import ScryptParams, hash_password, verify_password

CHEAP = ScryptParams(n=16, r=1, p=1)


def test_hash_then_verify() -> None:
    encoded = hash_password("pw-shopper-001", CHEAP)
    assert verify_password("pw-shopper-001", encoded)
    assert not verify_password("pw-shopper-002", encoded)
    assert not verify_password("", encoded)


def test_each_hash_gets_its_own_salt() -> None:
    assert hash_password("same", CHEAP) != hash_password("same", CHEAP)


def test_fixed_salt_is_deterministic_and_records_the_cost() -> None:
    encoded = hash_password("pw", CHEAP, salt=b"0123456789abcdef")
    assert encoded == hash_password("pw", CHEAP, salt=b"0123456789abcdef")
    assert encoded.startswith("scrypt$16$1$1$")


def test_hash_keeps_verifying_after_the_default_cost_changes() -> None:
    encoded = hash_password("pw", ScryptParams(n=32, r=2, p=1))
    assert verify_password("pw", encoded)


def test_default_cost_is_the_documented_one() -> None:
    params = ScryptParams()
    assert (params.n, params.r, params.p) == (2**11, 8, 1)
    assert params.max_memory_bytes >= 128 * params.r * params.n


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain-text-password",
        "bcrypt$16$1$1$AAAA$AAAA",
        "scrypt$16$1$1$not base64!$AAAA",
        "scrypt$15$1$1$AAAA$AAAA",
        "scrypt$x$1$1$AAAA$AAAA",
        "scrypt$16$1$1$AAAA",
    ],
    ids=["empty", "plain", "other-kdf", "bad-salt", "n-not-power-of-two", "n-not-int", "short"],
)
def test_unreadable_hashes_never_verify(encoded: str) -> None:
    assert not verify_password("anything", encoded)


@pytest.mark.parametrize("kwargs", [{"n": 3}, {"n": 1}, {"n": 2**21}, {"r": 0}, {"p": 17}], ids=str)
def test_params_reject_bad_costs(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="scrypt"):
        ScryptParams(**kwargs)
