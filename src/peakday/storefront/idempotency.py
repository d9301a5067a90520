"""Idempotency keys as pure rules: what a valid key is, what "the same request" means, and
what to do when a key has been seen before.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any

MAX_KEY_LENGTH = 128
# Visible ASCII only: keys travel in an HTTP header, and spaces or control characters there are
# either stripped or rejected by proxies, so two clients could disagree on what the key was.
KEY_PATTERN = r"^[\x21-\x7E]{1,128}$"
_KEY = re.compile(KEY_PATTERN)


class IdempotencyOutcome(StrEnum):
    CREATED = "created"  # no earlier request under this key: this one made the record
    REPLAYED = "replayed"  # the same request again: answer with the stored record
    CONFLICT = "conflict"  # the key was used for a different request


def idempotency_key_problem(key: str | None, *, required: bool) -> str | None:
    """Why this Idempotency-Key header is unacceptable, or None when it is fine."""
    if key is None:
        if required:
            return "The Idempotency-Key header is required; send a unique value, e.g. a UUID."
        return None
    if len(key) > MAX_KEY_LENGTH:
        return (
            f"The Idempotency-Key header is {len(key)} characters long; "
            f"the limit is {MAX_KEY_LENGTH}."
        )
    if _KEY.fullmatch(key) is None:
        return (
            f"The Idempotency-Key header {key!r} must be 1 to {MAX_KEY_LENGTH} visible ASCII "
            "characters without spaces."
        )
    return None


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A digest of the request's meaning: key order and whitespace do not make it different."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def idempotency_outcome(stored_fingerprint: str | None, fingerprint: str) -> IdempotencyOutcome:
    """Decide from the fingerprint stored under the key (None when this request stored it)."""
    if stored_fingerprint is None:
        return IdempotencyOutcome.CREATED
    if stored_fingerprint == fingerprint:
        return IdempotencyOutcome.REPLAYED
    return IdempotencyOutcome.CONFLICT
