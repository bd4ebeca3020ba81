"""Query helpers shared by the transaction repositories (deposits, withdrawals)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit import listing
from clearing_gateway.kit.listing import TransactionFilters

Row = TypeVar("Row")


async def transaction_page(
    session: AsyncSession, model: type[Row], merchant_id: uuid.UUID, filters: TransactionFilters
) -> tuple[Sequence[Row], int]:
    """One page (newest first) and the count of a merchant's matching transactions, the
    count stopping at COUNT_CAP + 1 (an exact count over millions of rows would cost more
    than the page itself).

    `model` has merchant_id, created_at, id, status, user_ref and trx_date_time columns;
    the (merchant_id, created_at, id) index serves both the page and the count.
    """
    table: Any = model
    statement = select(table).where(
        table.merchant_id == merchant_id,
        table.created_at >= filters.created_from,
        table.created_at <= filters.created_to,
    )
    if filters.status:
        statement = statement.where(table.status == filters.status)
    if filters.user_id:
        statement = statement.where(table.user_ref == filters.user_id)
    if filters.trx_from:
        statement = statement.where(table.trx_date_time >= filters.trx_from)
    if filters.trx_to:
        statement = statement.where(table.trx_date_time <= filters.trx_to)
    total = await session.scalar(
        select(func.count()).select_from(
            statement.with_only_columns(table.id).limit(listing.COUNT_CAP + 1).subquery()
        )
    )
    rows = await session.scalars(
        statement.order_by(table.created_at.desc(), table.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    )
    return rows.all(), int(total or 0)
