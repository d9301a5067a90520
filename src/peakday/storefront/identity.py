"""Who is calling: roles, the identity auth vouches for, and the seam checkout/labels ask through.

Exceptions raised while serving a request (all under PeakdayError):

    PeakdayError
    └── StorefrontError      a storefront service could not serve a request as asked
        ├── InvalidToken     the bearer token is missing, malformed, unknown or expired
        ├── AuthUnavailable  auth could not be asked: unreachable, too slow, 5xx or nonsense
        └── ApiError         (web.py) an HTTP error response with status and error code
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from peakday.errors import PeakdayError


class Role(StrEnum):
    SHOPPER = "shopper"
    MERCHANT = "merchant"
    POS = "pos"


@dataclass(frozen=True)
class Identity:
    """The subject a valid token belongs to, as auth reported it."""

    subject: str
    role: Role
    expires_at: int  # Unix seconds


class StorefrontError(PeakdayError):
    """Base of the errors a storefront service raises while serving a request."""


class InvalidToken(StorefrontError):
    """The bearer token does not identify anyone (missing, malformed, unknown or expired)."""


class AuthUnavailable(StorefrontError):
    """Auth could not answer whether a token is valid; the caller must not guess."""


class Introspector(Protocol):
    """Asks auth who a bearer token belongs to.

    Raises InvalidToken when auth says the token is not valid, and AuthUnavailable when auth
    cannot be asked or gives no usable answer.
    """

    async def introspect(self, token: str) -> Identity: ...

    async def aclose(self) -> None: ...
