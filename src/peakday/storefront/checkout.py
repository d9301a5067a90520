"""The checkout service: POST /checkout places an order for a shopper (online) or a POS
terminal (pos), once per Idempotency-Key; GET /orders/{order_id} reads it back.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import FastAPI, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from peakday.storefront.identity import Introspector
from peakday.storefront.record_service import Clock, record_service
from peakday.storefront.rules import (
    Channel,
    checkout_denial,
    format_timestamp,
    order_total_cents,
    price_lines,
)
from peakday.storefront.settings import StorefrontSettings
from peakday.storefront.web import (
    INTEGRAL_FLOATS_AS_INT,
    BearerCredentials,
    created_responses,
    error_responses,
    idempotency_key_openapi,
)


class OrderItem(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=100), INTEGRAL_FLOATS_AS_INT]


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    items: Annotated[list[OrderItem], Field(min_length=1, max_length=50)]
    channel: Channel


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    status: Literal["confirmed"]
    subject: str
    channel: Channel
    items: list[OrderLine]
    total_cents: int
    created_at: str


def build_order(order_id: str, subject: str, request: CheckoutRequest, now_s: float) -> Order:
    lines = price_lines((item.sku, item.quantity) for item in request.items)
    return Order(
        order_id=order_id,
        status="confirmed",
        subject=subject,
        channel=request.channel,
        items=[
            OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                line_total_cents=line.line_total_cents,
            )
            for line in lines
        ],
        total_cents=order_total_cents(lines),
        created_at=format_timestamp(now_s),
    )


def create_app(
    settings: StorefrontSettings,
    *,
    introspector: Introspector | None = None,
    clock: Clock = time.time,
) -> FastAPI:
    """Build the checkout app; without `introspector`, tokens are checked at `settings.auth_url`."""
    service = record_service(
        "checkout", "orders", settings, introspector, id_prefix="ord", clock=clock
    )

    @service.app.post(
        "/checkout",
        status_code=201,
        response_model=Order,
        responses={**created_responses(), **error_responses(400, 401, 403, 422, 429, 503)},
        openapi_extra=idempotency_key_openapi(
            required=True,
            description="Unique per order; retries with the same key return the same order.",
        ),
        summary="Place an order (once per Idempotency-Key)",
    )
    async def checkout(
        body: CheckoutRequest,
        request: Request,
        credentials: BearerCredentials,
    ) -> Response:
        return await service.create(
            "checkout",
            request,
            credentials,
            body,
            key_required=True,
            denial=lambda role: checkout_denial(role, body.channel),
            build=lambda order_id, subject, now_s: build_order(order_id, subject, body, now_s),
        )

    @service.app.get(
        "/orders/{order_id}",
        response_model=Order,
        responses=error_responses(401, 404, 422, 429, 503),
        summary="Read one of the caller's own orders",
    )
    async def get_order(
        order_id: Annotated[str, Path(min_length=1, max_length=128)],
        credentials: BearerCredentials,
    ) -> Response:
        return await service.read("orders", order_id, credentials, "order")

    return service.app
