from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.listing import TransactionFilters
from clearing_gateway.kit.repository import transaction_page
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus, WithdrawalStatusChange


class WithdrawalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, merchant_id: uuid.UUID, transaction_id: uuid.UUID) -> Withdrawal | None:
        return await self.session.scalar(
            select(Withdrawal).where(
                Withdrawal.merchant_id == merchant_id, Withdrawal.id == transaction_id
            )
        )

    async def by_id(self, transaction_id: uuid.UUID) -> Withdrawal | None:
        return await self.session.get(Withdrawal, transaction_id)

    async def get_for_update(self, transaction_id: uuid.UUID) -> Withdrawal | None:
        """The withdrawal, row-locked until the transaction ends (one writer at a time)."""
        return await self.session.scalar(
            select(Withdrawal)
            .where(Withdrawal.id == transaction_id)
            .with_for_update()
            .execution_options(populate_existing=True)
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

    async def due_for_poll(
        self,
        now: dt.datetime,
        first_poll_before: dt.datetime,
        refund_since: dt.datetime,
        limit: int,
    ) -> Sequence[uuid.UUID]:
        """Withdrawals whose next status poll is due, most overdue first: PROCESSING ones,
        and SUCCESS ones still inside the refund window (completed after refund_since)."""
        rows = await self.session.scalars(
            select(Withdrawal.id)
            .where(
                or_(
                    and_(
                        Withdrawal.status == WithdrawalStatus.PROCESSING,
                        or_(
                            Withdrawal.next_poll_at <= now,
                            and_(
                                Withdrawal.next_poll_at.is_(None),
                                Withdrawal.updated_at <= first_poll_before,
                            ),
                        ),
                    ),
                    and_(
                        Withdrawal.status == WithdrawalStatus.SUCCESS,
                        Withdrawal.completed_at >= refund_since,
                        or_(
                            Withdrawal.next_poll_at <= now,
                            and_(
                                Withdrawal.next_poll_at.is_(None),
                                Withdrawal.completed_at <= first_poll_before,
                            ),
                        ),
                    ),
                )
            )
            .order_by(Withdrawal.next_poll_at, Withdrawal.id)
            .limit(limit)
        )
        return rows.all()

    async def pending_since(self, before: dt.datetime, limit: int) -> Sequence[Withdrawal]:
        """PENDING withdrawals created before `before` and not yet flagged."""
        rows = await self.session.scalars(
            select(Withdrawal)
            .where(
                Withdrawal.status == WithdrawalStatus.PENDING,
                Withdrawal.created_at <= before,
                Withdrawal.stuck_since.is_(None),
            )
            .order_by(Withdrawal.created_at)
            .limit(limit)
        )
        return rows.all()

    async def stuck(self) -> Sequence[Withdrawal]:
        rows = await self.session.scalars(
            select(Withdrawal)
            .where(Withdrawal.stuck_since.is_not(None))
            .order_by(Withdrawal.stuck_since, Withdrawal.id)
        )
        return rows.all()
