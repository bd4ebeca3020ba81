"""SQL of console accounts, sessions and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.console.models import ConsoleAccount, ConsoleAuditEntry, ConsoleSession


class ConsoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_by_email(self, email: str) -> ConsoleAccount | None:
        return await self.session.scalar(
            select(ConsoleAccount).where(ConsoleAccount.email == email)
        )

    async def account(self, account_id: uuid.UUID) -> ConsoleAccount | None:
        return await self.session.get(ConsoleAccount, account_id)

    async def add(self, row: ConsoleAccount | ConsoleSession | ConsoleAuditEntry) -> None:
        self.session.add(row)
        await self.session.flush()

    async def session_with_account(
        self, token_sha256: str, now: dt.datetime
    ) -> tuple[ConsoleSession, ConsoleAccount] | None:
        row = (
            await self.session.execute(
                select(ConsoleSession, ConsoleAccount)
                .join(ConsoleAccount, ConsoleAccount.id == ConsoleSession.account_id)
                .where(ConsoleSession.token_sha256 == token_sha256)
                .where(ConsoleSession.expires_at > now)
                .where(ConsoleAccount.disabled_at.is_(None))
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def end_session(self, token_sha256: str) -> None:
        await self.session.execute(
            delete(ConsoleSession).where(ConsoleSession.token_sha256 == token_sha256)
        )

    async def purge_expired_sessions(self, now: dt.datetime) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))

    async def merchant_accounts(self, merchant_id: uuid.UUID) -> Sequence[ConsoleAccount]:
        return (
            await self.session.scalars(
                select(ConsoleAccount)
                .where(ConsoleAccount.merchant_id == merchant_id)
                .order_by(ConsoleAccount.created_at)
            )
        ).all()

    async def audit(
        self, *, merchant_id: uuid.UUID | None = None, limit: int = 200
    ) -> Sequence[ConsoleAuditEntry]:
        query = select(ConsoleAuditEntry).order_by(ConsoleAuditEntry.created_at.desc())
        if merchant_id is not None:
            query = query.where(ConsoleAuditEntry.merchant_id == merchant_id)
        return (await self.session.scalars(query.limit(limit))).all()
