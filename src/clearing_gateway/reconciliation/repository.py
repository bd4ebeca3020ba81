"""All SQL of reconciliation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.instruments.models import VirtualAccount, VirtualAccountStatus
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback


class DepositReconciliationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_fixed_instruments(
        self, issued_after: dt.datetime, limit: int
    ) -> Sequence[VirtualAccount]:
        """Fixed-amount instruments still waiting for their payment (QRIS, cash-in, a
        fixed VA): the provider's read API can say whether, and how much, was paid."""
        return (
            await self.session.scalars(
                select(VirtualAccount)
                .where(
                    VirtualAccount.status == VirtualAccountStatus.ACTIVE,
                    VirtualAccount.created_at >= issued_after,
                    VirtualAccount.min_amount > 0,
                    or_(
                        VirtualAccount.kind != "va",
                        VirtualAccount.max_amount == VirtualAccount.min_amount,
                    ),
                )
                .order_by(VirtualAccount.created_at)
                .limit(limit)
            )
        ).all()

    async def unconfirmed_payments(
        self, received_before: dt.datetime, limit: int
    ) -> Sequence[ProviderCallback]:
        """Genuine payment callbacks kept `received` (confirmation lagged or failed)."""
        return (
            await self.session.scalars(
                select(ProviderCallback)
                .where(
                    ProviderCallback.status == CallbackStatus.RECEIVED,
                    ProviderCallback.event_type == "PaymentReceived",
                    ProviderCallback.received_at < received_before,
                )
                .order_by(ProviderCallback.received_at)
                .limit(limit)
            )
        ).all()

    async def instrument_by_number(self, provider: str, number: str) -> VirtualAccount | None:
        return await self.session.scalar(
            select(VirtualAccount).where(
                VirtualAccount.provider == provider, VirtualAccount.virtual_account_no == number
            )
        )

    async def instruments(self, ids: Sequence[object]) -> Sequence[VirtualAccount]:
        if not ids:
            return []
        return (
            await self.session.scalars(select(VirtualAccount).where(VirtualAccount.id.in_(ids)))
        ).all()
