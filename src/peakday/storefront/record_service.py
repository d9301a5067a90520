"""What checkout and labels share: a FastAPI app whose records need a valid token, and the
steps of creating a record (once per Idempotency-Key) and of reading one of the caller's own."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from peakday.errors import UsageError
from peakday.storefront.identity import Introspector, Role
from peakday.storefront.metrics import StorefrontMetrics, install_metrics
from peakday.storefront.misbehaviour import FaultBoard, Point
from peakday.storefront.resilience import InFlight, LoadShedder, auth_caller_for, service_status
from peakday.storefront.settings import StorefrontSettings
from peakday.storefront.store import Database, RecordStore, record_table_schema
from peakday.storefront.web import (
    ApiError,
    authenticate,
    create_or_replay,
    idempotency_key,
    install_common_routes,
    raise_if_injected,
    read_own,
)

Clock = Callable[[], float]
# A role's reason it may not create this record, or None.
Denial = Callable[[Role], str | None]
# The record to store: built from its new id, the caller's subject and the time.
Build = Callable[[str, str, float], BaseModel]


@dataclass(frozen=True)
class RecordService:
    app: FastAPI
    auth: Introspector
    board: FaultBoard
    store: RecordStore
    id_prefix: str  # record ids are f"{id_prefix}_<32 hex digits>"
    clock: Clock = time.time

    async def create(
        self,
        point: Point,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        body: BaseModel,
        *,
        key_required: bool,
        denial: Denial,
        build: Build,
    ) -> Response:
        """POST: the record `build` makes, stored once per Idempotency-Key (create_or_replay).

        Shape checks come before the call to auth: a malformed request gets its 400 even while
        auth is down, and costs auth nothing. Nothing is awaited after auth answers, so
        duplicate requests racing on one key cannot interleave between "insert" and "read back"
        (and the UNIQUE constraint backs that up).
        """
        raise_if_injected(self.board, point)
        key = idempotency_key(request, required=key_required)
        identity = await authenticate(self.auth, credentials)
        denied = denial(identity.role)
        if denied is not None:
            raise ApiError(403, "forbidden", denied)
        now_s = self.clock()
        record_id = f"{self.id_prefix}_{uuid.uuid4().hex}"
        return create_or_replay(
            self.store,
            record_id=record_id,
            subject=identity.subject,
            key=key,
            request=body,
            response=build(record_id, identity.subject, now_s),
            created_at=now_s,
        )

    async def read(
        self,
        point: Point,
        record_id: str,
        credentials: HTTPAuthorizationCredentials | None,
        noun: str,
    ) -> Response:
        """GET: the caller's own record `record_id`; anyone else's is a 404 (read_own)."""
        raise_if_injected(self.board, point)
        identity = await authenticate(self.auth, credentials)
        return read_own(self.store, record_id, identity.subject, noun)


def record_service(
    name: str,
    table: str,
    settings: StorefrontSettings,
    introspector: Introspector | None,
    *,
    id_prefix: str,
    clock: Clock = time.time,
) -> RecordService:
    """An app for `name` storing records in `table`, checking tokens through the profile's caller.

    Without `introspector`, tokens are checked at `settings.auth_url`.
    """
    if introspector is None and settings.auth_url is None:
        raise UsageError(f"{name.capitalize()} needs the URL of auth. Hint: pass --auth-url.")
    resilience = settings.effective_resilience
    caller = auth_caller_for(
        settings.auth_url, resilience, settings.auth_max_connections, introspector
    )
    auth: Introspector = caller.introspector
    board = FaultBoard(name)
    limit = InFlight(resilience.max_in_flight)
    database = Database(settings.database_path, record_table_schema(table))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await auth.aclose()
        database.close()

    app = FastAPI(title=f"peakday {name}", version="1", lifespan=lifespan)
    install_common_routes(app, name)
    app.add_middleware(LoadShedder, limit=limit)
    app.state.fault_board = board
    app.state.admin_status = lambda: service_status(resilience, limit, caller)
    install_metrics(app, StorefrontMetrics(name, app.state.admin_status))
    return RecordService(
        app=app,
        auth=auth,
        board=board,
        store=RecordStore(database, table),
        id_prefix=id_prefix,
        clock=clock,
    )
