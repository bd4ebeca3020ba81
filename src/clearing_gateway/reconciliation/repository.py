"""All SQL of reconciliation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.instruments.models import VirtualAccount, VirtualAccountStatus
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.reconciliation.models import BreakStatus, ReconciliationBreak
from clearing_gateway.withdrawals.models import Withdrawal


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


class StatementRepository:
    """What the ledger side of a statement match reads, and the breaks it writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def deposits_between(
        self, provider: str, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Deposit]:
        return (
            await self.session.scalars(
                select(Deposit).where(
                    Deposit.provider == provider,
                    Deposit.trx_date_time >= start,
                    Deposit.trx_date_time < end,
                )
            )
        ).all()

    async def deposits_of_payments(
        self, provider: str, payment_ids: Sequence[str]
    ) -> Sequence[Deposit]:
        if not payment_ids:
            return []
        conditions = [Deposit.payment_request_id.in_(payment_ids)] + [
            Deposit.payment_request_id.startswith(f"{pid}:", autoescape=True) for pid in payment_ids
        ]
        return (
            await self.session.scalars(
                select(Deposit).where(Deposit.provider == provider, or_(*conditions))
            )
        ).all()

    async def exceptions_of_payments(
        self, provider: str, payment_ids: Sequence[str]
    ) -> Sequence[PaymentException]:
        if not payment_ids:
            return []
        return (
            await self.session.scalars(
                select(PaymentException).where(
                    PaymentException.provider == provider,
                    PaymentException.payment_request_id.in_(payment_ids),
                    PaymentException.deposit_id.is_(None),
                )
            )
        ).all()

    async def withdrawals_by_reference(
        self, provider: str, references: Sequence[str]
    ) -> Sequence[Withdrawal]:
        if not references:
            return []
        return (
            await self.session.scalars(
                select(Withdrawal).where(
                    Withdrawal.provider == provider, Withdrawal.provider_reference.in_(references)
                )
            )
        ).all()

    async def paid_out_between(
        self, provider: str, start: dt.datetime, end: dt.datetime
    ) -> Sequence[Withdrawal]:
        """Withdrawals the provider paid out (SUCCESS, or REFUNDED after) in the window."""
        moment = func.coalesce(Withdrawal.trx_date_time, Withdrawal.created_at)
        return (
            await self.session.scalars(
                select(Withdrawal).where(
                    Withdrawal.provider == provider,
                    Withdrawal.status.in_(("SUCCESS", "REFUNDED")),
                    moment >= start,
                    moment < end,
                )
            )
        ).all()

    async def record_break(self, values: dict[str, object]) -> bool:
        """True when this break is new (the same statement reconciled again finds the
        same breaks and records nothing)."""
        statement = insert_ignoring_conflicts(
            self.session.get_bind().dialect.name,
            ReconciliationBreak.__table__,
            ["provider", "statement_date", "kind", "reference"],
        ).values(id=new_id(), status=BreakStatus.OPEN, created_at=utcnow(), **values)
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def breaks(
        self, *, status: str | None, provider: str | None, limit: int
    ) -> Sequence[ReconciliationBreak]:
        query = (
            select(ReconciliationBreak)
            .order_by(ReconciliationBreak.created_at.desc(), ReconciliationBreak.id)
            .limit(limit)
        )
        if status:
            query = query.where(ReconciliationBreak.status == status)
        if provider:
            query = query.where(ReconciliationBreak.provider == provider)
        return (await self.session.scalars(query)).all()

    async def break_by_id(self, break_id: uuid.UUID) -> ReconciliationBreak | None:
        return await self.session.get(ReconciliationBreak, break_id)

    async def break_for_update(self, break_id: uuid.UUID) -> ReconciliationBreak | None:
        return await self.session.scalar(
            select(ReconciliationBreak).where(ReconciliationBreak.id == break_id).with_for_update()
        )
