from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.instruments.models import VirtualAccount


class VirtualAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, account: VirtualAccount) -> VirtualAccount:
        self.session.add(account)
        await self.session.flush()
        return account

    async def get(self, merchant_id: uuid.UUID, instrument_id: uuid.UUID) -> VirtualAccount | None:
        return await self.session.scalar(
            select(VirtualAccount).where(
                VirtualAccount.merchant_id == merchant_id, VirtualAccount.id == instrument_id
            )
        )

    async def by_id(self, instrument_id: uuid.UUID) -> VirtualAccount | None:
        return await self.session.get(VirtualAccount, instrument_id)

    async def lock(self, instrument_id: uuid.UUID) -> VirtualAccount | None:
        """The instrument re-read under a row lock (PostgreSQL; SQLite writes are serial),
        so a concurrent payment for it waits and then sees the committed status."""
        return await self.session.scalar(
            select(VirtualAccount)
            .where(VirtualAccount.id == instrument_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def by_number(
        self, provider: str | None, number: str, bank_code: str | None = None
    ) -> Sequence[VirtualAccount]:
        statement = select(VirtualAccount).where(VirtualAccount.virtual_account_no == number)
        if provider is not None:
            statement = statement.where(VirtualAccount.provider == provider)
        if bank_code is not None:
            statement = statement.where(VirtualAccount.bank_code == bank_code)
        return (await self.session.scalars(statement)).all()

    async def for_user(self, merchant_id: uuid.UUID, user_ref: str) -> Sequence[VirtualAccount]:
        rows = await self.session.scalars(
            select(VirtualAccount)
            .where(VirtualAccount.merchant_id == merchant_id, VirtualAccount.user_ref == user_ref)
            .order_by(VirtualAccount.created_at, VirtualAccount.id)
        )
        return rows.all()
