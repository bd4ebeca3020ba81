"""SQL for the cross-checks: each business row beside the ledger transfer it owns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.models import Deposit, DepositStatus
from clearing_gateway.ledger.accounts import AccountKind
from clearing_gateway.ledger.models import LedgerAccount, LedgerPosting, LedgerTransfer
from clearing_gateway.withdrawals.models import Withdrawal


def _legs(stage: str) -> Any:
    """Per transfer: all legs of a stage, and the part credited to fee revenue."""
    fee_account = select(LedgerAccount.id).where(
        LedgerAccount.kind == AccountKind.FEE_REVENUE.value
    )
    return (
        select(
            LedgerPosting.transfer_id.label("transfer_id"),
            func.sum(LedgerPosting.amount).label("total"),
            func.sum(LedgerPosting.amount)
            .filter(LedgerPosting.credit_account_id.in_(fee_account))
            .label("fee"),
        )
        .where(LedgerPosting.stage == stage)
        .group_by(LedgerPosting.transfer_id)
        .subquery()
    )


class CrossCheckRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def deposit_disagreements(self, limit: int) -> list[Any]:
        """Deposits that disagree with the ledger transfer their key names (if any), at
        most `limit`: the database compares, so a healthy table of millions of deposits
        costs one scan and no rows in Python (the check runs in the worker's loop)."""
        key = literal("deposit:") + Deposit.provider + literal(":") + Deposit.payment_request_id
        legs = _legs("posted")
        legs_total = func.coalesce(legs.c.total, 0)
        legs_fee = func.coalesce(legs.c.fee, 0)
        completed = Deposit.status == DepositStatus.COMPLETED.value
        rows = await self.session.execute(
            select(
                Deposit.id,
                Deposit.status,
                Deposit.amount,
                Deposit.fee,
                Deposit.net_amount,
                LedgerTransfer.id.label("transfer_id"),
                LedgerTransfer.status.label("transfer_status"),
                legs_total.label("legs_total"),
                legs_fee.label("legs_fee"),
            )
            .outerjoin(LedgerTransfer, LedgerTransfer.id == key)
            .outerjoin(legs, legs.c.transfer_id == LedgerTransfer.id)
            .where(
                or_(
                    and_(
                        completed,
                        or_(
                            LedgerTransfer.id.is_(None),
                            LedgerTransfer.status != "posted",
                            legs_total != Deposit.amount,
                            legs_fee != Deposit.fee,
                            Deposit.amount - Deposit.fee != Deposit.net_amount,
                        ),
                    ),
                    and_(not_(completed), LedgerTransfer.id.is_not(None)),
                )
            )
            .order_by(Deposit.created_at)
            .limit(limit)
        )
        return list(rows)

    async def deposit_transfers_without_deposit(self) -> list[str]:
        """Ledger deposit transfers that no deposit row owns."""
        key = literal("deposit:") + Deposit.provider + literal(":") + Deposit.payment_request_id
        owned = select(key)
        rows = await self.session.scalars(
            select(LedgerTransfer.id).where(
                LedgerTransfer.kind == "deposit", LedgerTransfer.id.not_in(owned)
            )
        )
        return list(rows)

    async def withdrawals(self) -> list[Any]:
        rows = await self.session.execute(
            select(
                Withdrawal.id,
                Withdrawal.status,
                Withdrawal.amount,
                Withdrawal.fee,
                Withdrawal.provider_fee,
            )
        )
        return list(rows)

    async def transfers_of_kinds(self, *kinds: str) -> dict[str, Any]:
        """Transfers of these kinds by id, with their held and posted leg totals.

        (Joined to withdrawals in Python: a UUID renders differently per database.)"""
        held, posted = _legs("pending"), _legs("posted")
        rows = await self.session.execute(
            select(
                LedgerTransfer.id,
                LedgerTransfer.kind,
                LedgerTransfer.status,
                func.coalesce(held.c.total, 0).label("held_total"),
                func.coalesce(posted.c.total, 0).label("posted_total"),
            )
            .outerjoin(held, held.c.transfer_id == LedgerTransfer.id)
            .outerjoin(posted, posted.c.transfer_id == LedgerTransfer.id)
            .where(LedgerTransfer.kind.in_(kinds))
        )
        return {row.id: row for row in rows}
