"""All SQL of merchant debits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.debits.models import MerchantDebit


class DebitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> bool:
        """False when this (transfer, vault) was already recorded."""
        dialect = self.session.get_bind().dialect.name
        statement = insert_ignoring_conflicts(
            dialect, MerchantDebit.__table__, ["transfer_id", "account_code"]
        ).values(**values)
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def get(self, merchant_id: uuid.UUID, debit_id: uuid.UUID) -> MerchantDebit | None:
        row = await self.session.get(MerchantDebit, debit_id)
        return row if row is not None and row.merchant_id == merchant_id else None

    async def for_transfer(self, transfer_id: str) -> list[MerchantDebit]:
        result = await self.session.scalars(
            select(MerchantDebit)
            .where(MerchantDebit.transfer_id == transfer_id)
            .order_by(MerchantDebit.account_code)
        )
        return list(result)

    async def recent(self, merchant_id: uuid.UUID | None, limit: int) -> list[MerchantDebit]:
        query = select(MerchantDebit).order_by(MerchantDebit.created_at.desc()).limit(limit)
        if merchant_id is not None:
            query = query.where(MerchantDebit.merchant_id == merchant_id)
        return list(await self.session.scalars(query))
