"""The ledger's transfers against their own entries and legs (SQL for `ledger verify`).

A transfer row's status, its legs (`ledger_postings`) and the entries that actually moved
money must tell one story: a pending hold still holds exactly its pending legs, a posted
transfer moved exactly its posted legs and holds nothing, a voided hold holds and moves
nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.ledger.models import LedgerEntry, LedgerPosting, LedgerTransfer


class TransferChecks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def transfers_disagreeing_with_entries(self) -> list[Any]:
        moved = (
            select(
                LedgerEntry.transfer_id.label("transfer_id"),
                func.sum(LedgerEntry.debits_pending_delta).label("held"),
                func.sum(LedgerEntry.debits_posted_delta).label("moved"),
            )
            .group_by(LedgerEntry.transfer_id)
            .subquery()
        )
        legs = (
            select(
                LedgerPosting.transfer_id.label("transfer_id"),
                func.sum(LedgerPosting.amount)
                .filter(LedgerPosting.stage == "pending")
                .label("pending_legs"),
                func.sum(LedgerPosting.amount)
                .filter(LedgerPosting.stage == "posted")
                .label("posted_legs"),
            )
            .group_by(LedgerPosting.transfer_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                LedgerTransfer.id,
                LedgerTransfer.status,
                func.coalesce(moved.c.held, 0).label("held"),
                func.coalesce(moved.c.moved, 0).label("moved"),
                func.coalesce(legs.c.pending_legs, 0).label("pending_legs"),
                func.coalesce(legs.c.posted_legs, 0).label("posted_legs"),
            )
            .outerjoin(moved, moved.c.transfer_id == LedgerTransfer.id)
            .outerjoin(legs, legs.c.transfer_id == LedgerTransfer.id)
        )
        return [row for row in rows if not _consistent(row)]


def _consistent(row: Any) -> bool:
    if row.status == "pending":
        return bool(row.held == row.pending_legs > 0 and row.moved == 0 == row.posted_legs)
    if row.status == "posted":
        return bool(row.held == 0 and row.moved == row.posted_legs > 0)
    if row.status == "voided":
        return bool(row.held == 0 == row.moved == row.posted_legs and row.pending_legs > 0)
    return False
