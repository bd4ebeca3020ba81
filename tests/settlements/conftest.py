"""Settlement tests: a merchant with funded deposit vaults and the books to read."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.webhooks.models import WebhookEvent
from tests.ledger.conftest import Books


@pytest.fixture
def books(runtime: Runtime) -> Books:
    return Books(runtime)


async def debit_events(runtime: Runtime, merchant_id: uuid.UUID) -> list[dict[str, Any]]:
    """The debit_notify bodies recorded for the merchant, oldest first."""
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(WebhookEvent)
            .where(
                WebhookEvent.merchant_id == merchant_id,
                WebhookEvent.event_type == "debit_notify",
            )
            .order_by(WebhookEvent.created_at, WebhookEvent.id)
        )
        return [json.loads(row.payload) for row in rows]
