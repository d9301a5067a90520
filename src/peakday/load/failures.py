"""Why a request failed, as one of a few kinds: HTTP status class, timeout, connection (pure).

Matching exception classes by qualified name keeps this module free of requests/urllib3/gevent.
Both of Locust's clients are covered: HttpUser (requests, urllib3) and FastHttpUser
(geventhttpclient), so a failure is the same kind whichever client met it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

FailureKind = Literal["http_4xx", "http_5xx", "timeout", "connection", "other"]
FAILURE_KINDS: Final[tuple[FailureKind, ...]] = get_args(FailureKind)

# Ordered: the first rule naming a class in the exception's MRO wins. Matching by qualified name
# keeps this module free of requests/urllib3/gevent imports and copes with Locust unwrapping
# requests' errors down to urllib3's or the socket's own exception.
_FAILURE_RULES: Final[tuple[tuple[str, FailureKind], ...]] = (
    # urllib3 derives NewConnectionError from ConnectTimeoutError for compatibility, yet it means
    # refused or unreachable, so it must be looked at before the timeout rules.
    ("urllib3.exceptions.NewConnectionError", "connection"),
    ("requests.exceptions.Timeout", "timeout"),  # ConnectTimeout is also a ConnectionError
    ("urllib3.exceptions.TimeoutError", "timeout"),
    ("builtins.TimeoutError", "timeout"),  # socket.timeout is an alias
    ("gevent.timeout.Timeout", "timeout"),
    ("requests.exceptions.ConnectionError", "connection"),
    ("requests.exceptions.ChunkedEncodingError", "connection"),  # body cut off mid-response
    ("urllib3.exceptions.ProtocolError", "connection"),
    ("http.client.IncompleteRead", "connection"),
    # geventhttpclient: the peer closed or reset before a whole response (HTTPParseError's
    # module is its C parser, "_parser"); no answer at all on a connection.
    ("_parser.HTTPParseError", "connection"),
    ("geventhttpclient.useragent.EmptyResponse", "connection"),
    ("builtins.ConnectionError", "connection"),  # refused, reset, aborted, RemoteDisconnected
    # requests' errors derive from OSError; the rest (HTTPError, InvalidURL...) are not transport.
    ("requests.exceptions.RequestException", "other"),
    ("builtins.OSError", "connection"),  # socket.gaierror (DNS), unreachable network
)
_MAX_CHAIN_DEPTH: Final = 6


def _exception_chain(exception: BaseException) -> Iterable[BaseException]:
    """The exception, then what it wraps: urllib3's MaxRetryError.reason, geventhttpclient's
    RetriesExceeded.original, __cause__, __context__."""
    seen: set[int] = set()
    pending: list[BaseException] = [exception]
    while pending and len(seen) < _MAX_CHAIN_DEPTH:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (getattr(current, "reason", None), getattr(current, "original", None))
        for inner in (*wrapped, current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _classify_exception(exception: BaseException) -> FailureKind | None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exception).__mro__}
    for name, kind in _FAILURE_RULES:
        if name in names:
            return kind
    return None


def classify_failure(
    exception: BaseException | None,
    status_code: int | None,
    transport_error: object = None,
) -> FailureKind:
    """Why a request failed: an HTTP error status wins; else the transport error; else "other".

    `status_code` is 0 or None when no response arrived (Locust's convention). `transport_error`
    is the response's own `error`: with `catch_response`, a locustfile that calls
    `response.failure("...")` after a timeout replaces Locust's exception with its message (a
    CatchResponseError wrapping nothing), yet the response still holds what the transport met.
    """
    if status_code is not None and 400 <= status_code <= 499:
        return "http_4xx"
    if status_code is not None and 500 <= status_code <= 599:
        return "http_5xx"
    if exception is None:
        return "other"
    causes = [exception]
    if isinstance(transport_error, BaseException) and transport_error is not exception:
        causes.append(transport_error)
    for cause in causes:
        for link in _exception_chain(cause):
            kind = _classify_exception(link)
            if kind is not None:
                return kind
    return "other"
