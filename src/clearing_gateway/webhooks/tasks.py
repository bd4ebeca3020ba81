"""Jobs of the webhooks domain: fan-out, delivery attempts, log retention."""

from __future__ import annotations

import datetime as dt
import uuid

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit import tracing
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.metrics import WEBHOOK_DELIVERIES, WEBHOOK_LAG
from clearing_gateway.webhooks import delivery, service
from clearing_gateway.webhooks.models import WebhookDelivery
from clearing_gateway.webhooks.repository import WebhookRepository
from clearing_gateway.webhooks.schemas import DeliveryStatus, Trigger
from clearing_gateway.webhooks.signing import signature_headers

log = get_logger("gateway.webhooks")


@jobs.handler(service.FAN_OUT)
async def fan_out(runtime: Runtime, job: jobs.Job) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        await service.fan_out(session, uuid.UUID(job.payload["eventId"]))


# The delivery schedule decides when to stop; the generic attempt cap is only a backstop.
@jobs.handler(service.DELIVER, max_attempts=50)
async def deliver(runtime: Runtime, job: jobs.Job) -> None:
    settings = runtime.settings
    event_id = uuid.UUID(job.payload["eventId"])
    webhook_id = uuid.UUID(job.payload["webhookId"])
    first_trigger = Trigger(job.payload.get("trigger", Trigger.INITIAL.value))
    trigger = first_trigger if job.attempts <= 1 else Trigger.AUTOMATIC

    now = utcnow()
    async with unit_of_work(runtime.sessionmaker) as session:
        repository = WebhookRepository(session)
        context = await repository.delivery_context(event_id, webhook_id)
        if context is None:
            return  # purged or never existed: nothing left to deliver
        event, webhook, attempts = context
        if not webhook.is_active or webhook.deleted_at is not None:
            log.info("delivery dropped: webhook inactive", webhook_id=str(webhook_id))
            return
        attempt = attempts + 1
        secrets = service.signing_secrets(webhook, settings, now)
        url, custom_headers = webhook.url, dict(webhook.headers or {})
        body, event_type, transaction_id = event.payload, event.event_type, event.transaction_id
        recorded_at = event.created_at
        tracing.annotate(transaction_id=transaction_id, event_type=event_type)

    # The POST runs outside any transaction: a slow endpoint holds no database lock.
    headers = {
        **custom_headers,
        "Content-Type": "application/json",
        "User-Agent": delivery.USER_AGENT,
        **signature_headers(event_id=str(event_id), body=body, secrets_in_use=secrets, at=now),
    }
    result = await delivery.post(
        delivery.http_client(runtime),
        url,
        body,
        headers,
        total_timeout=settings.webhook_timeout_seconds,
    )
    delay = delivery.next_delay(settings, job.attempts, result)
    finished = utcnow()

    async with unit_of_work(runtime.sessionmaker) as session:
        repository = WebhookRepository(session)
        await repository.add_delivery(
            WebhookDelivery(
                merchant_id=webhook.merchant_id,
                webhook_id=webhook_id,
                event_id=event_id,
                event_type=event_type,
                transaction_id=transaction_id,
                url=url,
                attempt=attempt,
                trigger=trigger.value,
                status=(DeliveryStatus.SUCCEEDED if result.succeeded else DeliveryStatus.FAILED),
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                response_body=result.response_excerpt,
                error=result.error,
                next_attempt_at=finished + delay if delay else None,
                created_at=finished,
            )
        )
        if result.status_code == 410:
            # 410 Gone: the merchant retired this endpoint (Standard Webhooks guidance).
            await repository.deactivate(webhook_id, "endpoint answered 410 Gone", finished)

    WEBHOOK_DELIVERIES.labels(event_type, "succeeded" if result.succeeded else "failed").inc()
    if result.succeeded:
        WEBHOOK_LAG.labels(event_type).observe(max(0.0, (finished - recorded_at).total_seconds()))
    log.info(
        "webhook attempt",
        webhook_id=str(webhook_id),
        event_id=str(event_id),
        attempt=attempt,
        status_code=result.status_code,
        error=result.error,
        latency_ms=result.latency_ms,
    )
    if delay is not None:
        raise jobs.Retry(after=delay, reason=result.error or "delivery failed")


@jobs.handler("webhooks.purge", every=dt.timedelta(hours=1))
async def purge(runtime: Runtime, _job: jobs.Job) -> None:
    """Delivery log and events older than WEBHOOK_LOG_RETENTION_DAYS are deleted."""
    cutoff = utcnow() - dt.timedelta(days=runtime.settings.webhook_log_retention_days)
    async with unit_of_work(runtime.sessionmaker) as session:
        deliveries, events = await WebhookRepository(session).purge_before(cutoff)
    if deliveries or events:
        log.info("purged webhook log", deliveries=deliveries, events=events)
