"""The auth service: POST /login issues bearer tokens, POST /introspect says who holds one."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from peakday.storefront.accounts import AccountStore
from peakday.storefront.identity import Identity, Role
from peakday.storefront.metrics import StorefrontMetrics, install_metrics
from peakday.storefront.misbehaviour import FaultBoard
from peakday.storefront.passwords import hash_password, verify_password
from peakday.storefront.resilience import InFlight, LoadShedder, service_status
from peakday.storefront.rules import looks_like_token, seed_users
from peakday.storefront.settings import StorefrontSettings
from peakday.storefront.web import (
    ApiError,
    error_responses,
    install_common_routes,
    raise_if_injected,
    unauthorized,
)

Clock = Callable[[], float]

_BAD_CREDENTIALS = "Unknown username or wrong password."


class LoginRequest(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class LoginResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Role


class IntrospectRequest(BaseModel):
    # No length limits here: a malformed token is an invalid token (401), not a bad request.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    token: str


class IntrospectResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    active: Literal[True]
    sub: str
    role: Role
    exp: int = Field(description="Expiry as Unix seconds.")


def create_app(
    settings: StorefrontSettings,
    *,
    clock: Clock = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> FastAPI:
    """Open (and on first use seed) `settings.database_path` and build the auth app."""
    store = AccountStore(settings.database_path)
    store.seed(seed_users(), settings.scrypt, workers=settings.seed_workers)
    # Unknown usernames are checked against this hash so they cost as much as wrong passwords:
    # response time must not tell an attacker (or a load test) which usernames exist.
    decoy_hash = hash_password(secrets.token_urlsafe(16), settings.scrypt)
    ttl_s = settings.token_ttl_s
    resilience = settings.effective_resilience
    board = FaultBoard("auth")
    limit = InFlight(resilience.max_in_flight)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="peakday auth", version="1", lifespan=lifespan)
    install_common_routes(app, "auth")
    app.add_middleware(LoadShedder, limit=limit)
    app.state.fault_board = board
    app.state.admin_status = partial(service_status, resilience, limit)
    metrics = StorefrontMetrics("auth", app.state.admin_status)
    install_metrics(app, metrics)
    logins = {o: metrics.logins.labels(o) for o in ("issued", "invalid_credentials")}
    checks = {
        o: metrics.introspections.labels(o) for o in ("active", "malformed", "unknown", "expired")
    }

    # A plain `def`: FastAPI runs it on its threadpool, so the ~4 ms of scrypt (which releases
    # the GIL) does not stall the event loop that serves /introspect.
    @app.post(
        "/login",
        response_model=LoginResponse,
        responses=error_responses(400, 401, 422, 429),
        summary="Exchange a username and password for a bearer token",
    )
    def login(body: LoginRequest) -> LoginResponse:
        raise_if_injected(board, "login")
        # A slow user-store query holds this worker thread, as a real one holds a connection:
        # logins queue behind it while introspection (no user-store query) carries on.
        delay_s = board.user_store_delay_s()
        if delay_s > 0:
            sleep(delay_s)
        account = store.find_account(body.username)
        password_ok = verify_password(
            body.password, account.password_hash if account else decoy_hash
        )
        if account is None or not password_ok:
            logins["invalid_credentials"].inc()
            raise ApiError(401, "invalid_credentials", _BAD_CREDENTIALS)
        now = int(clock())
        token = secrets.token_urlsafe(32)
        store.save_token(token, Identity(account.username, account.role, now + ttl_s), now)
        logins["issued"].inc()
        return LoginResponse(
            access_token=token, token_type="bearer", expires_in=ttl_s, role=account.role
        )

    # Async on purpose: a primary-key lookup is faster than the hop to the threadpool, and this
    # is the endpoint every checkout and label request waits on.
    @app.post(
        "/introspect",
        response_model=IntrospectResponse,
        responses=error_responses(400, 401, 422, 429),
        summary="Tell who holds a bearer token",
    )
    async def introspect(body: IntrospectRequest) -> IntrospectResponse:
        raise_if_injected(board, "introspect")
        if not looks_like_token(body.token):
            checks["malformed"].inc()
            raise unauthorized("The token is malformed.")
        identity = store.find_token(body.token)
        if identity is None:
            checks["unknown"].inc()
            raise unauthorized("The token is unknown.")
        if identity.expires_at <= int(clock()):
            checks["expired"].inc()
            raise unauthorized("The token has expired; log in again.")
        checks["active"].inc()
        return IntrospectResponse(
            active=True, sub=identity.subject, role=identity.role, exp=identity.expires_at
        )

    return app
