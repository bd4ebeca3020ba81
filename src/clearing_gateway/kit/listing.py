"""The seed's list filters for transactions: creation window (max 90 days, default the last
90), provider transaction time window, limit (default 100, a larger one clamped to the
maximum, which the page's `limit` then shows) and offset."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import validation_error

MAX_RANGE = dt.timedelta(days=90)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# Lists report an exact total up to this many matches, and `totalCapped: true` beyond.
COUNT_CAP = 10_000


def page_document(
    total: int, filters: TransactionFilters, items: list[object]
) -> dict[str, object]:
    """The `data` of a transaction list: the seed collapses it; docs/deposits.md."""
    return {
        "total": min(total, COUNT_CAP),
        "totalCapped": total > COUNT_CAP,
        "limit": filters.limit,
        "offset": filters.offset,
        "transactions": items,
    }


def parse_rfc3339(field: str, value: str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise validation_error(field, "must be an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise validation_error(field, "must include a time zone offset (e.g. Z)")
    return parsed.astimezone(dt.UTC)


@dataclass(frozen=True)
class TransactionFilters:
    status: str | None
    user_id: str | None
    created_from: dt.datetime
    created_to: dt.datetime
    trx_from: dt.datetime | None
    trx_to: dt.datetime | None
    limit: int
    offset: int


def transaction_filters(
    status: Annotated[str | None, Query(max_length=32)] = None,
    userId: Annotated[str | None, Query(max_length=64)] = None,
    startDate: Annotated[
        str | None, Query(description="Lower bound of creation time (RFC 3339)")
    ] = None,
    endDate: Annotated[
        str | None, Query(description="Upper bound of creation time (RFC 3339)")
    ] = None,
    trxDateTimeStart: Annotated[str | None, Query()] = None,
    trxDateTimeEnd: Annotated[str | None, Query()] = None,
    limit: Annotated[
        int,
        Query(
            ge=1,
            description=f"Page size (default {DEFAULT_LIMIT}); above {MAX_LIMIT} it is "
            f"clamped to {MAX_LIMIT}, and the page's `limit` shows the size used",
        ),
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TransactionFilters:
    end = parse_rfc3339("endDate", endDate)
    start = parse_rfc3339("startDate", startDate)
    if end is None:
        # The seed: endDate "defaults to current time". An old startDate alone is a range
        # over 90 days, refused below — never silently read as a 90-day window in the past.
        if start is not None and utcnow() - start > MAX_RANGE:
            raise validation_error(
                "startDate",
                "is more than 90 days before now, and endDate defaults to now: the range "
                "may be at most 90 days (give an endDate at most 90 days after startDate)",
            )
        end = utcnow()
    if start is None:
        start = end - MAX_RANGE
    if start > end:
        raise validation_error("startDate", "must not be after endDate")
    if end - start > MAX_RANGE:
        raise validation_error("endDate", "the range from startDate may be at most 90 days")
    trx_from = parse_rfc3339("trxDateTimeStart", trxDateTimeStart)
    trx_to = parse_rfc3339("trxDateTimeEnd", trxDateTimeEnd)
    if trx_from and trx_to and trx_from > trx_to:
        raise validation_error("trxDateTimeStart", "must not be after trxDateTimeEnd")
    return TransactionFilters(
        status=status.upper() if status else None,
        user_id=userId,
        created_from=start,
        created_to=end,
        trx_from=trx_from,
        trx_to=trx_to,
        limit=min(limit, MAX_LIMIT),
        offset=offset,
    )
