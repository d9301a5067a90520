"""The labels service: merchants buy shipping labels (POST /labels, optionally idempotent) and
read them back (GET /labels/{label_id}).
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import FastAPI, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from peakday.storefront.identity import Introspector
from peakday.storefront.record_service import Clock, record_service
from peakday.storefront.rules import (
    ServiceLevel,
    format_timestamp,
    format_tracking_number,
    label_cost_cents,
    label_denial,
)
from peakday.storefront.settings import StorefrontSettings
from peakday.storefront.web import (
    INTEGRAL_FLOATS_AS_INT,
    BearerCredentials,
    created_responses,
    error_responses,
    idempotency_key_openapi,
)


class LabelRequest(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    order_ref: Annotated[str, Field(min_length=1, max_length=128)]
    weight_g: Annotated[int, Field(ge=1, le=70_000), INTEGRAL_FLOATS_AS_INT]
    service_level: ServiceLevel


class Label(BaseModel):
    model_config = ConfigDict(frozen=True)

    label_id: str
    tracking_number: str
    merchant: str
    order_ref: str
    weight_g: int
    service_level: ServiceLevel
    cost_cents: int
    created_at: str


def build_label(
    label_id: str, tracking_serial: int, merchant: str, request: LabelRequest, now_s: float
) -> Label:
    return Label(
        label_id=label_id,
        tracking_number=format_tracking_number(tracking_serial, request.service_level),
        merchant=merchant,
        order_ref=request.order_ref,
        weight_g=request.weight_g,
        service_level=request.service_level,
        cost_cents=label_cost_cents(request.weight_g, request.service_level),
        created_at=format_timestamp(now_s),
    )


def create_app(
    settings: StorefrontSettings,
    *,
    introspector: Introspector | None = None,
    clock: Clock = time.time,
) -> FastAPI:
    """Build the labels app; without `introspector`, tokens are checked at `settings.auth_url`."""
    service = record_service(
        "labels", "labels", settings, introspector, id_prefix="lbl", clock=clock
    )

    @service.app.post(
        "/labels",
        status_code=201,
        response_model=Label,
        responses={**created_responses(), **error_responses(400, 401, 403, 422, 429, 503)},
        openapi_extra=idempotency_key_openapi(
            required=False, description="Optional; retries with the same key return the same label."
        ),
        summary="Buy a shipping label (merchants only)",
    )
    async def create_label(
        body: LabelRequest,
        request: Request,
        credentials: BearerCredentials,
    ) -> Response:
        return await service.create(
            "labels",
            request,
            credentials,
            body,
            key_required=False,
            denial=label_denial,
            build=lambda label_id, merchant, now_s: build_label(
                label_id, secrets.randbelow(10**12), merchant, body, now_s
            ),
        )

    @service.app.get(
        "/labels/{label_id}",
        response_model=Label,
        responses=error_responses(401, 404, 422, 429, 503),
        summary="Read one of the caller's own labels",
    )
    async def get_label(
        label_id: Annotated[str, Path(min_length=1, max_length=128)],
        credentials: BearerCredentials,
    ) -> Response:
        return await service.read("labels", label_id, credentials, "label")

    return service.app
