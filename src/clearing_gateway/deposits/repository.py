from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.kit.listing import TransactionFilters
from clearing_gateway.kit.repository import transaction_page


class DepositRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, merchant_id: uuid.UUID, transaction_id: uuid.UUID) -> Deposit | None:
        return await self.session.scalar(
            select(Deposit).where(Deposit.merchant_id == merchant_id, Deposit.id == transaction_id)
        )

    async def by_payment(self, provider: str, payment_request_id: str) -> Deposit | None:
        return await self.session.scalar(
            select(Deposit).where(
                Deposit.provider == provider, Deposit.payment_request_id == payment_request_id
            )
        )

    async def accounted_for_payment(self, provider: str, payment_id: str) -> int:
        """What the deposits of one provider payment add up to (credited or refused):
        the payment id itself plus its later increases, `{payment id}:{running total}`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Deposit.amount), 0)).where(
                Deposit.provider == provider,
                or_(
                    Deposit.payment_request_id == payment_id,
                    Deposit.payment_request_id.startswith(f"{payment_id}:", autoescape=True),
                ),
            )
        )
        return int(total or 0)

    async def exception_for(self, provider: str, payment_id: str) -> PaymentException | None:
        return await self.session.scalar(
            select(PaymentException).where(
                PaymentException.provider == provider,
                PaymentException.payment_request_id == payment_id,
            )
        )

    async def page(
        self, merchant_id: uuid.UUID, filters: TransactionFilters
    ) -> tuple[Sequence[Deposit], int]:
        return await transaction_page(self.session, Deposit, merchant_id, filters)

    async def add(self, deposit: Deposit) -> Deposit:
        self.session.add(deposit)
        await self.session.flush()
        return deposit

    async def add_exception(self, exception: PaymentException) -> None:
        self.session.add(exception)
        await self.session.flush()

    async def exception_for_update(self, exception_id: uuid.UUID) -> PaymentException | None:
        return await self.session.scalar(
            select(PaymentException)
            .where(PaymentException.id == exception_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def exceptions(self, *, unresolved_only: bool = True) -> Sequence[PaymentException]:
        statement = select(PaymentException).order_by(PaymentException.created_at)
        if unresolved_only:
            statement = statement.where(PaymentException.resolved_at.is_(None))
        return (await self.session.scalars(statement)).all()
