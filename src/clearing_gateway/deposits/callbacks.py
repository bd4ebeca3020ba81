"""Wires provider payment notifications to the deposits domain (see handlers.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.service import apply_payment
from clearing_gateway.providers.callbacks import CallbackHandlers
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.models import ProviderCallback


async def on_payment_received(
    session: AsyncSession, event: PaymentReceived, row: ProviderCallback
) -> None:
    await apply_payment(session, event, row)


def register(registry: CallbackHandlers) -> None:
    registry.register(PaymentReceived, on_payment_received)
