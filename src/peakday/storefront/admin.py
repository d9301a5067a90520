"""The admin endpoint of a storefront service: switch service-level faults on and off, and read
the resilience profile's knobs and counters.

It is a separate ASGI app served on its own socket (`--admin-port`, bound to loopback unless
`--admin-host` says otherwise) and only when the platform enables it; `by_port` sends each
request to the admin app or the service by the port it arrived on, so /admin never answers on
the service's public port.

    GET    /admin/status            profile knobs, resilience counters, active faults
    PUT    /admin/faults/{fault_id} switch a misbehaviour on (replaces one with the same id)
    DELETE /admin/faults/{fault_id} switch it off (200 whether or not it was on)
    DELETE /admin/faults            switch every misbehaviour off
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from peakday.storefront.misbehaviour import ERROR_STATUSES, BehaviourName, FaultBoard, Misbehaviour
from peakday.storefront.web import ApiError, install_common_routes

StatusSource = Callable[[], dict[str, Any]]


class MisbehaviourBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    behaviour: BehaviourName
    status: int = 503
    fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    delay_ms: Annotated[float, Field(ge=0.0, le=600_000.0)] = 0.0
    jitter_ms: Annotated[float, Field(ge=0.0, le=600_000.0)] = 0.0

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: int) -> int:
        if value not in ERROR_STATUSES:
            raise ValueError(f"status must be one of {sorted(ERROR_STATUSES)}, got {value!r}")
        return value


FaultId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")]


def create_admin_app(board: FaultBoard, status: StatusSource) -> FastAPI:
    app = FastAPI(title=f"peakday {board.service} admin", version="1", openapi_url=None)
    install_common_routes(app, f"{board.service}-admin")

    def faults() -> dict[str, Any]:
        return {fid: dataclasses.asdict(m) for fid, m in sorted(board.active().items())}

    @app.get("/admin/status")
    async def get_status() -> dict[str, Any]:
        return {
            "service": board.service,
            **status(),
            "injected": board.injected,
            "faults": faults(),
        }

    @app.put("/admin/faults/{fault_id}")
    async def put_fault(fault_id: FaultId, body: MisbehaviourBody) -> dict[str, Any]:
        if not board.accepts(body.behaviour):
            raise ApiError(
                422,
                "unsupported_behaviour",
                f"The {board.service} service cannot do {body.behaviour!r}.",
            )
        board.put(fault_id, Misbehaviour(**body.model_dump()))
        return {"faults": faults()}

    @app.delete("/admin/faults/{fault_id}")
    async def delete_fault(fault_id: FaultId) -> dict[str, Any]:
        return {"removed": board.remove(fault_id), "faults": faults()}

    @app.delete("/admin/faults")
    async def delete_all() -> dict[str, Any]:
        board.clear()
        return {"faults": {}}

    return app


def by_port(service: ASGIApp, admin: ASGIApp, admin_port: int) -> ASGIApp:
    """One ASGI app for both sockets: requests that arrived on `admin_port` go to `admin`.

    Lifespan events go to the service only (the admin app has nothing to start or close).
    """

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        on_admin = scope["type"] == "http" and server is not None and server[1] == admin_port
        await (admin if on_admin else service)(scope, receive, send)

    return dispatch
