"""HTTP pieces every storefront service shares: the error body, error handlers that keep every
error in that one shape, /health, and bearer-token authentication through an Introspector.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from peakday.storefront.idempotency import (
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    IdempotencyOutcome,
    idempotency_key_problem,
    idempotency_outcome,
    request_fingerprint,
)
from peakday.storefront.identity import (
    AuthUnavailable,
    Identity,
    Introspector,
    InvalidToken,
    StorefrontError,
)
from peakday.storefront.misbehaviour import FaultBoard, Point
from peakday.storefront.rules import looks_like_token
from peakday.storefront.store import NewRecord, RecordStore

# Response header of GET /health naming the server process that answered.
SERVER_PID_HEADER: Final = "X-Peakday-Pid"

# The `Authorization: Bearer` credentials of a request, or None; endpoints answer 401 themselves
# (auto_error=False) so the body is an ErrorBody. A module-level alias because FastAPI resolves
# postponed annotations in module globals, where a local inside create_app cannot be seen.
BearerCredentials = Annotated[
    HTTPAuthorizationCredentials | None,
    Depends(HTTPBearer(auto_error=False, description="A token from auth's POST /login.")),
]

# Seconds a client should wait before retrying while auth is unavailable.
RETRY_AFTER_S: Final = 1


def _integral_number_to_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Makes a strict `int` field mean what "integer" means in JSON Schema: 3 and 3.0 are integers,
# "3" and true are not (strict int alone refuses 3.0; lax int accepts "3"). Put it after the
# Field(...) constraints, or they vanish from the OpenAPI schema.
INTEGRAL_FLOATS_AS_INT = BeforeValidator(_integral_number_to_int)


class ErrorBody(BaseModel):
    """Every non-2xx response: a stable machine-readable code and a sentence for people."""

    model_config = ConfigDict(frozen=True)

    error: str
    detail: str


class Health(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["ok"]
    service: str


class ApiError(StorefrontError):
    """Raised by an endpoint to answer with `status` and an ErrorBody."""

    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "The body is not readable (e.g. not UTF-8), or a header is missing or malformed "
    "(e.g. the Idempotency-Key).",
    401: "Missing, malformed, unknown or expired credentials.",
    403: "The caller's role may not do this.",
    404: "No such resource visible to the caller.",
    422: "The request body or parameters are invalid, or an idempotency key was reused for a "
    "different request.",
    429: "Too many requests in flight (load shedding); retry after Retry-After seconds.",
    503: "A dependency (auth) is unavailable; retry later.",
}


_HTTP_ERROR_CODES: Final[Mapping[int, str]] = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all with the ErrorBody schema."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


def error_response(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=error, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def format_validation_errors(errors: Any) -> str:
    """One line per problem, `body.items.0.quantity: Input should be ...`, capped in length."""
    parts = []
    for error in errors if isinstance(errors, list | tuple) else []:
        if isinstance(error, dict):
            where = ".".join(str(piece) for piece in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
    text = "; ".join(parts) or "The request is invalid."
    return text if len(text) <= 2_000 else text[:1_997] + "..."


def install_common_routes(app: FastAPI, service: str) -> None:
    """Error handlers for every error shape, and GET /health."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", format_validation_errors(exc.errors()))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        # Raised by Starlette/FastAPI themselves: unknown route, wrong method, unreadable body.
        assert isinstance(exc, StarletteHTTPException)
        error = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, error, str(exc.detail), exc.headers)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)

    health = Health(status="ok", service=service)

    # /health is liveness only: it must not depend on auth, or an auth outage would make the
    # orchestrator think checkout and labels had died too.
    # The header names the process that answered: with --workers N, N processes share the port.
    pid = str(os.getpid())

    @app.get("/health", response_model=Health, tags=["health"])
    async def get_health(response: Response) -> Health:
        response.headers[SERVER_PID_HEADER] = pid
        return health


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The token from an `Authorization: Bearer` header, or ApiError 401."""
    if credentials is None:
        raise unauthorized("Send an 'Authorization: Bearer <token>' header from POST /login.")
    if not looks_like_token(credentials.credentials):
        raise unauthorized("The bearer token is malformed.")
    return credentials.credentials


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "invalid_token", detail, {"WWW-Authenticate": "Bearer"})


async def authenticate(
    introspector: Introspector, credentials: HTTPAuthorizationCredentials | None
) -> Identity:
    """Ask auth who the caller is; 401 when nobody, 503 when auth cannot say."""
    token = bearer_token(credentials)
    try:
        return await introspector.introspect(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc
    except AuthUnavailable as exc:
        raise ApiError(
            503, "auth_unavailable", str(exc), {"Retry-After": str(RETRY_AFTER_S)}
        ) from exc


def raise_if_injected(board: FaultBoard, point: Point) -> None:
    """Answer with the status a service-level fault asks for at this point, if any."""
    status = board.status_for(point)
    if status is not None:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
        raise ApiError(
            status,
            "injected_fault",
            f"A service-level fault injected by peakday answers HTTP {status} here.",
            headers,
        )


REPLAYED_HEADER = "Idempotent-Replayed"


def created_responses() -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a 201 that may be a replay of an earlier request under the same key."""
    return {
        201: {
            "description": "Created, or the stored result of an earlier identical request.",
            "headers": {
                REPLAYED_HEADER: {
                    "description": "Present (`true`) when this is a replay under a reused key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        }
    }


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


def idempotency_key_openapi(*, required: bool, description: str) -> dict[str, Any]:
    """`openapi_extra` declaring the Idempotency-Key header.

    The endpoint reads the header itself rather than through a FastAPI parameter: a bad or
    missing key must be a 400 with our message (a parameter would make it FastAPI's 422), and a
    `str | None` parameter would document the header as nullable, which no header can be.
    """
    return {
        "parameters": [
            {
                "name": IDEMPOTENCY_KEY_HEADER,
                "in": "header",
                "required": required,
                "description": description,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": KEY_PATTERN,
                },
            }
        ]
    }


def idempotency_key(request: Request, *, required: bool) -> str | None:
    """The request's Idempotency-Key, None when absent and optional, else ApiError 400."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    problem = idempotency_key_problem(key, required=required)
    if problem is not None:
        raise ApiError(400, "invalid_idempotency_key", problem)
    return key


def create_or_replay(
    records: RecordStore,
    *,
    record_id: str,
    subject: str,
    key: str | None,
    request: BaseModel,
    response: BaseModel,
    created_at: float,
) -> Response:
    """Store `response` as the record `request` created unless its key was used before: 201 with
    the body of whichever request created the record, or 422 when the key was used for a
    different request.
    """
    new = NewRecord(
        record_id=record_id,
        subject=subject,
        idempotency_key=key,
        fingerprint=request_fingerprint(request.model_dump(mode="json")),
        body=response.model_dump_json().encode(),
        created_at=created_at,
    )
    stored = records.insert_or_get(new)
    outcome = idempotency_outcome(None if stored is None else stored.fingerprint, new.fingerprint)
    if outcome is IdempotencyOutcome.CREATED:
        return Response(new.body, status_code=201, media_type="application/json")
    if outcome is IdempotencyOutcome.REPLAYED and stored is not None:
        return Response(
            stored.body,
            status_code=201,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    raise ApiError(
        422,
        "idempotency_key_reused",
        f"Idempotency-Key {new.idempotency_key!r} was already used for a different request; "
        "use a new key for a new request.",
    )


def read_own(records: RecordStore, record_id: str, subject: str, noun: str) -> Response:
    """The stored record if `subject` owns it; someone else's record is reported as missing,
    so record ids cannot be probed."""
    record = records.get(record_id)
    if record is None or record.subject != subject:
        raise ApiError(404, "not_found", f"No {noun} {record_id!r} for this account.")
    return Response(record.body, media_type="application/json")
