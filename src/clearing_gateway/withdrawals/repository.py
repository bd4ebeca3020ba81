from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.listing import TransactionFilters
from clearing_gateway.kit.repository import transaction_page
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatusChange


class WithdrawalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, merchant_id: uuid.UUID, transaction_id: uuid.UUID) -> Withdrawal | None:
        return await self.session.scalar(
            select(Withdrawal).where(
                Withdrawal.merchant_id == merchant_id, Withdrawal.id == transaction_id
            )
        )

    async def get_for_update(self, transaction_id: uuid.UUID) -> Withdrawal | None:
        """The withdrawal, row-locked until the transaction ends (one writer at a time)."""
        return await self.session.scalar(
            select(Withdrawal).where(Withdrawal.id == transaction_id).with_for_update()
        )

    async def by_reference(self, provider_reference: str) -> Withdrawal | None:
        return await self.session.scalar(
            select(Withdrawal).where(Withdrawal.provider_reference == provider_reference)
        )

    async def by_merchant_reference(
        self, merchant_id: uuid.UUID, merchant_reference: str
    ) -> Withdrawal | None:
        return await self.session.scalar(
            select(Withdrawal).where(
                Withdrawal.merchant_id == merchant_id,
                Withdrawal.merchant_reference == merchant_reference,
            )
        )

    async def add(self, withdrawal: Withdrawal) -> Withdrawal:
        self.session.add(withdrawal)
        await self.session.flush()
        return withdrawal

    async def record_change(self, change: WithdrawalStatusChange) -> None:
        self.session.add(change)
        await self.session.flush()

    async def history(self, withdrawal_id: uuid.UUID) -> Sequence[WithdrawalStatusChange]:
        rows = await self.session.scalars(
            select(WithdrawalStatusChange)
            .where(WithdrawalStatusChange.withdrawal_id == withdrawal_id)
            .order_by(WithdrawalStatusChange.created_at, WithdrawalStatusChange.id)
        )
        return rows.all()

    async def page(
        self, merchant_id: uuid.UUID, filters: TransactionFilters
    ) -> tuple[Sequence[Withdrawal], int]:
        return await transaction_page(self.session, Withdrawal, merchant_id, filters)
