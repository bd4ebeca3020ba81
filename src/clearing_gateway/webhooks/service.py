"""Rules of merchant webhooks: configuration, publishing events, manual redelivery.

Services never commit: the request (or the job) is the unit of work.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.config import Settings
from clearing_gateway.kit.clock import isoformat, utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError, not_found, validation_error
from clearing_gateway.kit.ids import new_id, parse_uuid
from clearing_gateway.merchants.crypto import secret_box
from clearing_gateway.webhooks.addresses import (
    BlockedAddressError,
    Resolver,
    SystemResolver,
    check_url,
)
from clearing_gateway.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from clearing_gateway.webhooks.repository import WebhookRepository
from clearing_gateway.webhooks.schemas import (
    CreateWebhookRequest,
    DeliveryOut,
    EventType,
    RetryOut,
    ScheduledDeliveryOut,
    Trigger,
    UpdateWebhookRequest,
    WebhookOut,
)
from clearing_gateway.webhooks.signing import new_secret

FAN_OUT = "webhooks.fan_out"
DELIVER = "webhooks.deliver"
RESOLVER_KEY = "webhooks.resolver"


def resolver_for(runtime: Runtime) -> Resolver:
    """The DNS resolver used for the address rule (tests inject one: no real DNS)."""
    resolver: Resolver = runtime.extras.get(RESOLVER_KEY) or SystemResolver()
    return resolver


def webhook_out(webhook: Webhook) -> dict[str, Any]:
    return WebhookOut(
        id=str(webhook.id),
        webhookId=str(webhook.id),
        eventType=webhook.event_type,
        url=webhook.url,
        headers=dict(webhook.headers or {}),
        isActive=webhook.is_active,
        description=webhook.description,
        disabledReason=webhook.disabled_reason,
        createdAt=isoformat(webhook.created_at) or "",
        updatedAt=isoformat(webhook.updated_at) or "",
    ).model_dump()


def delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return DeliveryOut(
        id=str(delivery.id),
        webhookId=str(delivery.webhook_id),
        eventId=str(delivery.event_id),
        eventType=delivery.event_type,
        transactionId=delivery.transaction_id,
        url=delivery.url,
        attempt=delivery.attempt,
        trigger=delivery.trigger,
        status=delivery.status,
        statusCode=delivery.status_code,
        latencyMs=delivery.latency_ms,
        responseBody=delivery.response_body,
        error=delivery.error,
        nextAttemptAt=isoformat(delivery.next_attempt_at),
        createdAt=isoformat(delivery.created_at) or "",
    ).model_dump()


# --- configuration ---------------------------------------------------------------------


async def _check_url(url: str, settings: Settings, resolver: Resolver) -> None:
    try:
        await check_url(url, settings, resolver)
    except BlockedAddressError as exc:
        raise validation_error("url", str(exc)) from None


async def create_webhook(
    session: AsyncSession,
    settings: Settings,
    resolver: Resolver,
    merchant_id: uuid.UUID,
    request: CreateWebhookRequest,
) -> tuple[Webhook, str]:
    """The new webhook and its signing secret (returned only now, stored encrypted)."""
    await _check_url(request.url, settings, resolver)
    secret = new_secret()
    now = utcnow()
    webhook = Webhook(
        merchant_id=merchant_id,
        event_type=request.eventType.value,
        url=request.url,
        headers=dict(request.headers or {}),
        is_active=request.isActive,
        description=request.description,
        secret_ciphertext=secret_box(settings).seal(secret),
        created_at=now,
        updated_at=now,
    )
    return await WebhookRepository(session).add(webhook), secret


async def get_webhook(session: AsyncSession, merchant_id: uuid.UUID, webhook_id: str) -> Webhook:
    parsed = parse_uuid(webhook_id)
    webhook = await WebhookRepository(session).find(merchant_id, parsed) if parsed else None
    if webhook is None:
        raise not_found(f"webhookId {webhook_id!r}")
    return webhook


async def list_webhooks(session: AsyncSession, merchant_id: uuid.UUID) -> list[Webhook]:
    return await WebhookRepository(session).list_for(merchant_id)


async def update_webhook(
    session: AsyncSession,
    settings: Settings,
    resolver: Resolver,
    merchant_id: uuid.UUID,
    webhook_id: str,
    request: UpdateWebhookRequest,
) -> Webhook:
    webhook = await get_webhook(session, merchant_id, webhook_id)
    given = request.model_fields_set
    if request.eventType is not None and request.eventType.value != webhook.event_type:
        raise GatewayError(
            422, ErrorCode.VALIDATION_ERROR, "eventType: cannot be changed after creation"
        )
    if "url" in given:
        if request.url is None:
            raise validation_error("url", "must not be null")
        await _check_url(request.url, settings, resolver)
        webhook.url = request.url
    if "headers" in given:
        webhook.headers = dict(request.headers or {})
    if "description" in given:
        webhook.description = request.description
    if "isActive" in given:
        if request.isActive is None:
            raise validation_error("isActive", "must not be null")
        webhook.is_active = request.isActive
        if request.isActive:
            webhook.disabled_reason = None
    webhook.updated_at = utcnow()
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, merchant_id: uuid.UUID, webhook_id: str) -> None:
    webhook = await get_webhook(session, merchant_id, webhook_id)
    webhook.deleted_at = webhook.updated_at = utcnow()
    webhook.is_active = False
    await session.flush()


async def rotate_secret(
    session: AsyncSession, settings: Settings, merchant_id: uuid.UUID, webhook_id: str
) -> tuple[Webhook, str]:
    """A new secret signs from now on; the current one keeps signing too for the overlap
    so receivers can switch without losing a delivery."""
    webhook = await get_webhook(session, merchant_id, webhook_id)
    secret = new_secret()
    now = utcnow()
    webhook.previous_secret_ciphertext = webhook.secret_ciphertext
    webhook.previous_secret_expires_at = now + dt.timedelta(
        hours=settings.webhook_secret_rotation_overlap_hours
    )
    webhook.secret_ciphertext = secret_box(settings).seal(secret)
    webhook.updated_at = now
    await session.flush()
    return webhook, secret


def signing_secrets(webhook: Webhook, settings: Settings, now: dt.datetime) -> list[str]:
    box = secret_box(settings)
    live = [box.open(webhook.secret_ciphertext)]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret_ciphertext and expires is not None and expires > now:
        live.append(box.open(webhook.previous_secret_ciphertext))
    return live


# --- publishing ------------------------------------------------------------------------


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def publish(
    session: AsyncSession,
    *,
    merchant_id: uuid.UUID,
    event_type: str,
    transaction_id: str,
    payload: dict[str, Any],
) -> WebhookEvent:
    """Record a merchant notification and schedule its deliveries, in the caller's
    transaction: the event, then one delivery job per active webhook of that type (one
    indexed SELECT, one INSERT per webhook — usually one). Fanning out here rather than
    in a job of its own saves a whole job cycle (claim, run, record) per event, so the
    first delivery starts as soon as the worker wakes."""
    kind = EventType(event_type).value  # ValueError on a type merchants cannot subscribe to
    event = WebhookEvent(
        id=new_id(),
        merchant_id=merchant_id,
        event_type=kind,
        transaction_id=str(transaction_id),
        payload=encode_payload(payload),
        created_at=utcnow(),
    )
    await WebhookRepository(session).insert_event(
        event_id=event.id,
        merchant_id=event.merchant_id,
        event_type=event.event_type,
        transaction_id=event.transaction_id,
        payload=event.payload,
        now=event.created_at,
    )
    await _schedule_initial(
        session,
        event,
        await WebhookRepository(session).active_for(event.merchant_id, event.event_type),
    )
    return event


async def _schedule_initial(
    session: AsyncSession, event: WebhookEvent, webhooks: Sequence[Webhook]
) -> None:
    for webhook in webhooks:
        await schedule_delivery(
            session,
            event.id,
            webhook.id,
            Trigger.INITIAL,
            dedupe_key=f"deliver:{event.id}:{webhook.id}",
        )


async def schedule_delivery(
    session: AsyncSession,
    event_id: uuid.UUID,
    webhook_id: uuid.UUID,
    trigger: Trigger,
    *,
    dedupe_key: str | None = None,
) -> None:
    await jobs.enqueue(
        session,
        DELIVER,
        {"eventId": str(event_id), "webhookId": str(webhook_id), "trigger": trigger.value},
        dedupe_key=dedupe_key,
        concurrency_key=f"webhook:{webhook_id}",
    )


async def fan_out(session: AsyncSession, event_id: uuid.UUID) -> int:
    """One delivery per active webhook, for fan-out jobs queued before `publish` fanned
    out itself. Keyed per (event, webhook), as `publish` keys them: running twice, or
    after `publish` did, schedules nothing twice."""
    repository = WebhookRepository(session)
    event = await repository.event(event_id)
    if event is None:
        return 0
    webhooks = await repository.active_for(event.merchant_id, event.event_type)
    await _schedule_initial(session, event, webhooks)
    return len(webhooks)


async def redeliver_transaction(
    session: AsyncSession, merchant_id: uuid.UUID, transaction_id: str
) -> dict[str, Any]:
    """The retry endpoint: the transaction's latest event to every active webhook of
    its type, now."""
    repository = WebhookRepository(session)
    event = await repository.latest_event(merchant_id, transaction_id)
    if event is None:
        raise not_found(f"no notification for transactionId {transaction_id!r}")
    webhooks = await repository.active_for(merchant_id, event.event_type)
    for webhook in webhooks:
        await schedule_delivery(session, event.id, webhook.id, Trigger.MANUAL)
    return RetryOut(
        transactionId=event.transaction_id,
        eventId=str(event.id),
        eventType=event.event_type,
        scheduled=[ScheduledDeliveryOut(webhookId=str(w.id), url=w.url) for w in webhooks],
    ).model_dump()


async def redeliver_failed_since(
    session: AsyncSession, since: dt.datetime, merchant_id: uuid.UUID | None
) -> int:
    """Operators, after a merchant's outage: every (event, webhook) that failed since
    `since` and never succeeded is sent again, if the webhook is still active."""
    repository = WebhookRepository(session)
    scheduled = 0
    for event_id, webhook_id in await repository.undelivered_since(since, merchant_id):
        webhook = await repository.get(webhook_id)
        if webhook is None or not webhook.is_active or webhook.deleted_at is not None:
            continue
        await schedule_delivery(session, event_id, webhook_id, Trigger.MANUAL)
        scheduled += 1
    return scheduled


async def list_deliveries(
    session: AsyncSession,
    merchant_id: uuid.UUID | None,
    *,
    transaction_id: str | None = None,
    webhook_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[WebhookDelivery]:
    parsed_webhook: uuid.UUID | None = None
    if webhook_id is not None:
        parsed_webhook = parse_uuid(webhook_id)
        if parsed_webhook is None:
            raise validation_error("webhookId", "must be a UUID")
    return await WebhookRepository(session).deliveries(
        merchant_id,
        transaction_id=transaction_id,
        webhook_id=parsed_webhook,
        status=status,
        limit=limit,
    )


async def send_test_event(
    session: AsyncSession, merchant_id: uuid.UUID, webhook_id: str
) -> WebhookEvent:
    """A signed test notification to one of the merchant's webhooks, through the normal
    delivery path (logged like any attempt). Its body says `"test": true` and names no
    real transaction, so a receiver can never mistake it for money."""
    webhook = await get_webhook(session, merchant_id, webhook_id)
    now = utcnow()
    test_id = f"test_{new_id().hex}"
    event = WebhookEvent(
        id=new_id(),
        merchant_id=merchant_id,
        event_type=webhook.event_type,
        transaction_id=test_id,
        payload=encode_payload(
            {
                "test": True,
                "eventType": webhook.event_type,
                "transactionId": test_id,
                "createdAt": now.isoformat(),
            }
        ),
        created_at=now,
    )
    await WebhookRepository(session).insert_event(
        event_id=event.id,
        merchant_id=merchant_id,
        event_type=event.event_type,
        transaction_id=event.transaction_id,
        payload=event.payload,
        now=now,
    )
    await schedule_delivery(session, event.id, webhook.id, Trigger.MANUAL)
    return event
