"""All SQL of the webhooks domain."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.webhooks.models import Webhook, WebhookDelivery, WebhookEvent


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- configuration -------------------------------------------------------------------

    async def add(self, webhook: Webhook) -> Webhook:
        self.session.add(webhook)
        await self.session.flush()
        return webhook

    async def find(self, merchant_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        return await self.session.scalar(
            select(Webhook).where(
                Webhook.id == webhook_id,
                Webhook.merchant_id == merchant_id,
                Webhook.deleted_at.is_(None),
            )
        )

    async def get(self, webhook_id: uuid.UUID) -> Webhook | None:
        return await self.session.get(Webhook, webhook_id, populate_existing=True)

    async def list_for(self, merchant_id: uuid.UUID) -> list[Webhook]:
        return list(
            await self.session.scalars(
                select(Webhook)
                .where(Webhook.merchant_id == merchant_id, Webhook.deleted_at.is_(None))
                .order_by(Webhook.created_at, Webhook.id)
            )
        )

    async def active_for(self, merchant_id: uuid.UUID, event_type: str) -> list[Webhook]:
        return list(
            await self.session.scalars(
                select(Webhook)
                .where(
                    Webhook.merchant_id == merchant_id,
                    Webhook.event_type == event_type,
                    Webhook.is_active.is_(True),
                    Webhook.deleted_at.is_(None),
                )
                .order_by(Webhook.created_at, Webhook.id)
            )
        )

    async def deactivate(self, webhook_id: uuid.UUID, reason: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(is_active=False, disabled_reason=reason, updated_at=now)
        )

    # --- events --------------------------------------------------------------------------

    async def insert_event(
        self,
        *,
        event_id: uuid.UUID,
        merchant_id: uuid.UUID,
        event_type: str,
        transaction_id: str,
        payload: bytes,
        now: dt.datetime,
    ) -> None:
        await self.session.execute(
            insert(WebhookEvent).values(
                id=event_id,
                merchant_id=merchant_id,
                event_type=event_type,
                transaction_id=transaction_id,
                payload=payload,
                created_at=now,
            )
        )

    async def event(self, event_id: uuid.UUID) -> WebhookEvent | None:
        return await self.session.get(WebhookEvent, event_id)

    async def latest_event(
        self, merchant_id: uuid.UUID, transaction_id: str
    ) -> WebhookEvent | None:
        return await self.session.scalar(
            select(WebhookEvent)
            .where(
                WebhookEvent.merchant_id == merchant_id,
                WebhookEvent.transaction_id == transaction_id,
            )
            .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
            .limit(1)
        )

    # --- delivery log --------------------------------------------------------------------

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.add(delivery)
        await self.session.flush()

    async def delivery_context(
        self, event_id: uuid.UUID, webhook_id: uuid.UUID
    ) -> tuple[WebhookEvent, Webhook, int] | None:
        """What one delivery attempt needs, in one round trip: the event, the endpoint
        (the event's merchant's) and how many attempts were made so far (None when
        either row is gone)."""
        attempts = (
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.event_id == event_id, WebhookDelivery.webhook_id == webhook_id)
            .scalar_subquery()
        )
        row = (
            await self.session.execute(
                select(WebhookEvent, Webhook, attempts)
                .join(Webhook, Webhook.merchant_id == WebhookEvent.merchant_id)
                .where(WebhookEvent.id == event_id, Webhook.id == webhook_id)
                .execution_options(populate_existing=True)
            )
        ).first()
        if row is None:
            return None
        return row[0], row[1], int(row[2] or 0)

    async def deliveries(
        self,
        merchant_id: uuid.UUID | None,
        *,
        transaction_id: str | None = None,
        webhook_id: uuid.UUID | None = None,
        status: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[WebhookDelivery]:
        query = select(WebhookDelivery)
        if merchant_id is not None:
            query = query.where(WebhookDelivery.merchant_id == merchant_id)
        if transaction_id is not None:
            query = query.where(WebhookDelivery.transaction_id == transaction_id)
        if webhook_id is not None:
            query = query.where(WebhookDelivery.webhook_id == webhook_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        if since is not None:
            query = query.where(WebhookDelivery.created_at >= since)
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        return list(await self.session.scalars(query.limit(limit)))

    async def undelivered_since(
        self, since: dt.datetime, merchant_id: uuid.UUID | None
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(event, webhook) pairs with a failed attempt since `since` and no success."""
        failed = select(WebhookDelivery.event_id, WebhookDelivery.webhook_id).where(
            WebhookDelivery.created_at >= since, WebhookDelivery.status == "failed"
        )
        if merchant_id is not None:
            failed = failed.where(WebhookDelivery.merchant_id == merchant_id)
        succeeded = select(WebhookDelivery.event_id, WebhookDelivery.webhook_id).where(
            WebhookDelivery.status == "succeeded"
        )
        rows = await self.session.execute(failed.except_(succeeded))
        return [(row[0], row[1]) for row in rows]

    async def purge_before(self, cutoff: dt.datetime) -> tuple[int, int]:
        deliveries = await self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff)
        )
        events = await self.session.execute(
            delete(WebhookEvent).where(WebhookEvent.created_at < cutoff)
        )
        return _rowcount(deliveries), _rowcount(events)


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
