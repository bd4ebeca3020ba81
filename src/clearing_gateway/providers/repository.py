"""All SQL of the provider callback inbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.providers.base import RawCallback
from clearing_gateway.providers.models import (
    CallbackStatus,
    ProviderCallback,
    ProviderEventClaim,
)

# Rows that are no evidence of a money movement: deleted after the inbox retention.
DISPOSABLE = (CallbackStatus.REJECTED, CallbackStatus.DUPLICATE, CallbackStatus.IGNORED)


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        callback: RawCallback,
        *,
        status: str = CallbackStatus.RECEIVED,
        error: str | None = None,
        event_type: str | None = None,
        event_key: str | None = None,
    ) -> ProviderCallback:
        """Insert the request with the verdict verification gave it (a rejected request
        without its body)."""
        settled = status != CallbackStatus.RECEIVED
        row = ProviderCallback(
            provider=callback.provider,
            channel=callback.channel,
            path=callback.path[:1024],
            headers=callback.headers,
            body=b"" if status == CallbackStatus.REJECTED else callback.body,
            body_sha256=hashlib.sha256(callback.body).hexdigest(),
            body_size=len(callback.body),
            source=callback.source[:64] if callback.source else None,
            status=status,
            error=error,
            event_type=event_type,
            event_key=event_key,
            attempts=1 if settled else 0,
            processed_at=utcnow() if settled else None,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, callback_id: uuid.UUID) -> ProviderCallback | None:
        return await self.session.get(ProviderCallback, callback_id)

    async def mark(
        self,
        callback_id: uuid.UUID,
        status: str,
        *,
        error: str | None = None,
        event_type: str | None = None,
        event_key: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "status": status,
            "error": error,
            "processed_at": utcnow(),
            "attempts": ProviderCallback.attempts + 1,
        }
        if event_type is not None:
            values["event_type"] = event_type
        if event_key is not None:
            values["event_key"] = event_key
        if status == CallbackStatus.REJECTED:
            values["body"] = b""  # the digest and size stay
        await self.session.execute(
            update(ProviderCallback).where(ProviderCallback.id == callback_id).values(**values)
        )

    async def is_claimed(self, provider: str, event_key: str) -> bool:
        found = await self.session.scalar(
            select(ProviderEventClaim.id).where(
                ProviderEventClaim.provider == provider, ProviderEventClaim.event_key == event_key
            )
        )
        return found is not None

    async def claim(self, provider: str, event_key: str, callback_id: uuid.UUID) -> bool:
        """True when this callback is the first genuine one with this key."""
        statement = insert_ignoring_conflicts(
            self.session.get_bind().dialect.name,
            ProviderEventClaim.__table__,
            ["provider", "event_key"],
        ).values(
            id=new_id(),
            provider=provider,
            event_key=event_key,
            callback_id=callback_id,
            claimed_at=utcnow(),
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list(
        self,
        provider: str | None = None,
        status: str | None = None,
        limit: int = 100,
        since: dt.datetime | None = None,
        event_key: str | None = None,
    ) -> list[ProviderCallback]:
        query = select(ProviderCallback).order_by(ProviderCallback.received_at.desc()).limit(limit)
        if since is not None:
            query = query.where(ProviderCallback.received_at >= since)
        if event_key:
            query = query.where(ProviderCallback.event_key == event_key)
        if provider:
            query = query.where(ProviderCallback.provider == provider)
        if status:
            query = query.where(ProviderCallback.status == status)
        return list(await self.session.scalars(query))

    async def purge_disposable(self, before: dt.datetime) -> int:
        """Delete rejected, duplicate and ignored rows received before `before`."""
        result = await self.session.execute(
            delete(ProviderCallback).where(
                ProviderCallback.status.in_(DISPOSABLE),
                ProviderCallback.received_at < before,
                ~ProviderCallback.id.in_(select(ProviderEventClaim.callback_id)),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def settle_unverified(self, before: dt.datetime) -> int:
        """Rows left `received` without ever being verified (no event key) are rejected.

        Verification runs in the transaction that stores the row, so such a row is a
        relic (a request that failed before verification could record its verdict).
        Verified rows still `received` wait for their provider's retry or for
        reconciliation and are left alone.
        """
        result = await self.session.execute(
            update(ProviderCallback)
            .where(
                ProviderCallback.status == CallbackStatus.RECEIVED,
                ProviderCallback.event_key.is_(None),
                ProviderCallback.received_at < before,
            )
            .values(
                status=CallbackStatus.REJECTED,
                error="never verified (swept)",
                body=b"",
                processed_at=utcnow(),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
