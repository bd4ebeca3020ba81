"""Every column that holds something sealed with the encryption key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, and_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.merchants.models import MerchantApiKey
from clearing_gateway.webhooks.models import Webhook

BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    name: str  # how operators read it in the command's output
    model: Any
    column: str
    binary: bool = False  # stored as bytes (LargeBinary) rather than text
    keys: tuple[str, ...] = ("id",)  # the primary key's columns


SEALED_COLUMNS = (
    SealedColumn("merchant API secrets", MerchantApiKey, "secret_ciphertext"),
    SealedColumn("webhook secrets", Webhook, "secret_ciphertext"),
    SealedColumn("previous webhook secrets", Webhook, "previous_secret_ciphertext"),
    SealedColumn(
        "sealed idempotent responses",
        IdempotencyRecord,
        "response_body",
        binary=True,
        keys=("merchant_id", "request_id"),
    ),
)


async def page(
    session: AsyncSession, sealed: SealedColumn, after: Any, limit: int = BATCH
) -> Sequence[tuple[Any, Any]]:
    """(primary key tuple, stored value) of non-empty values, in key order after `after`."""
    column = getattr(sealed.model, sealed.column)
    keys = [getattr(sealed.model, name) for name in sealed.keys]
    query = select(*keys, column).where(column.is_not(None)).order_by(*keys).limit(limit)
    if after is not None:
        query = query.where(tuple_(*keys) > tuple_(*after))
    return [(tuple(row[:-1]), row[-1]) for row in (await session.execute(query)).all()]


async def replace(
    session: AsyncSession, sealed: SealedColumn, row_key: tuple[Any, ...], old: Any, new: Any
) -> bool:
    """Compare-and-set: a value changed meanwhile (a secret rotated by its merchant) is
    left as the newer write made it."""
    model, column = sealed.model, getattr(sealed.model, sealed.column)
    same_row = and_(
        *(getattr(model, name) == part for name, part in zip(sealed.keys, row_key, strict=True))
    )
    result = await session.execute(
        update(model).where(same_row, column == old).values({sealed.column: new})
    )
    return isinstance(result, CursorResult) and result.rowcount == 1
