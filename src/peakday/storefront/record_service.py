"""The scaffolding checkout and labels share: a FastAPI app whose records need a valid token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from peakday.errors import UsageError
from peakday.storefront.identity import Introspector
from peakday.storefront.metrics import StorefrontMetrics, install_metrics
from peakday.storefront.misbehaviour import FaultBoard
from peakday.storefront.resilience import InFlight, LoadShedder, auth_caller_for, service_status
from peakday.storefront.settings import StorefrontSettings
from peakday.storefront.store import Database, RecordStore, record_table_schema
from peakday.storefront.web import install_common_routes


@dataclass(frozen=True)
class RecordService:
    app: FastAPI
    auth: Introspector
    board: FaultBoard
    store: RecordStore


def record_service(
    name: str, table: str, settings: StorefrontSettings, introspector: Introspector | None
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
    return RecordService(app=app, auth=auth, board=board, store=RecordStore(database, table))
