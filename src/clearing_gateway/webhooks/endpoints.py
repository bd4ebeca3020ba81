from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, RuntimeDep, SessionDep
from clearing_gateway.idempotency.service import SEALED_RESPONSE_STATE
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.listing import MAX_LIMIT
from clearing_gateway.kit.schemas import documented
from clearing_gateway.webhooks import service
from clearing_gateway.webhooks.schemas import (
    CreateWebhookRequest,
    DeliveryOut,
    DeliveryStatus,
    RequestIdOnly,
    RetryOut,
    RetryRequest,
    SecretOut,
    UpdateWebhookRequest,
    WebhookOut,
    WebhookWithSecretOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["Webhooks"])
WebhookIdPath = Annotated[str, Path(max_length=64, description="Webhook identifier (UUID)")]


@router.post(
    "", status_code=201, responses=documented(WebhookWithSecretOut, 201), summary="Create Webhook"
)
async def create_webhook(
    request: Request,
    body: CreateWebhookRequest,
    session: SessionDep,
    merchant: MerchantDep,
    runtime: RuntimeDep,
) -> Response:
    # The response carries the signing secret: its replayable copy is stored encrypted.
    setattr(request.state, SEALED_RESPONSE_STATE, True)
    webhook, secret = await service.create_webhook(
        session, runtime.settings, service.resolver_for(runtime), merchant.id, body
    )
    data = {**service.webhook_out(webhook), "secret": secret}
    return EnvelopeResponse(data, code=201, request_id=body.requestId)


@router.get("", responses=documented(list[WebhookOut]), summary="List Webhooks")
async def list_webhooks(session: SessionDep, merchant: MerchantDep) -> Response:
    webhooks = await service.list_webhooks(session, merchant.id)
    return EnvelopeResponse([service.webhook_out(w) for w in webhooks])


@router.get(
    "/deliveries", responses=documented(list[DeliveryOut]), summary="List Delivery Attempts"
)
async def list_deliveries(
    session: SessionDep,
    merchant: MerchantDep,
    transactionId: Annotated[str | None, Query(max_length=64)] = None,
    webhookId: Annotated[str | None, Query(max_length=64)] = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[
        int, Query(ge=1, description=f"at most {MAX_LIMIT}; a larger value is clamped")
    ] = 100,
) -> Response:
    deliveries = await service.list_deliveries(
        session,
        merchant.id,
        transaction_id=transactionId,
        webhook_id=webhookId,
        status=status.value if status else None,
        limit=min(limit, MAX_LIMIT),
    )
    return EnvelopeResponse([service.delivery_out(d) for d in deliveries])


@router.post("/retry", responses=documented(RetryOut), summary="Retry Webhook")
async def retry_webhook(body: RetryRequest, session: SessionDep, merchant: MerchantDep) -> Response:
    data = await service.redeliver_transaction(session, merchant.id, body.transactionId)
    return EnvelopeResponse(data, request_id=body.requestId)


@router.put("/{webhookId}", responses=documented(WebhookOut), summary="Update Webhook")
@router.patch("/{webhookId}", responses=documented(WebhookOut), summary="Update Webhook (PATCH)")
async def update_webhook(
    webhookId: WebhookIdPath,
    body: UpdateWebhookRequest,
    session: SessionDep,
    merchant: MerchantDep,
    runtime: RuntimeDep,
) -> Response:
    webhook = await service.update_webhook(
        session, runtime.settings, service.resolver_for(runtime), merchant.id, webhookId, body
    )
    return EnvelopeResponse(service.webhook_out(webhook), request_id=body.requestId)


@router.delete("/{webhookId}", responses=documented(None), summary="Delete Webhook")
async def delete_webhook(
    webhookId: WebhookIdPath, body: RequestIdOnly, session: SessionDep, merchant: MerchantDep
) -> Response:
    await service.delete_webhook(session, merchant.id, webhookId)
    return EnvelopeResponse(reason="Webhook deleted successfully", request_id=body.requestId)


@router.post(
    "/{webhookId}/rotate-secret", responses=documented(SecretOut), summary="Rotate Signing Secret"
)
async def rotate_secret(
    request: Request,
    webhookId: WebhookIdPath,
    body: RequestIdOnly,
    session: SessionDep,
    merchant: MerchantDep,
    runtime: RuntimeDep,
) -> Response:
    setattr(request.state, SEALED_RESPONSE_STATE, True)
    webhook, secret = await service.rotate_secret(session, runtime.settings, merchant.id, webhookId)
    data = SecretOut(
        id=str(webhook.id),
        secret=secret,
        previousSecretExpiresAt=isoformat(webhook.previous_secret_expires_at),
    ).model_dump()
    return EnvelopeResponse(data, request_id=body.requestId)
