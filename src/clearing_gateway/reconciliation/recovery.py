"""Applying a payment that only the provider's statement knows of.

An open-amount Topremit VA takes any number of payments and its inquiry states no paid
amount, so a lost callback for one is found only by the statement, as a
`missing_in_ledger` credit break. An operator who has checked it applies the statement
line through the callback path (`providers.callbacks.apply_found`) with the event key
the callback itself would have carried (`va:{paymentId}`, `qris:{referenceNo}`): the
payment is credited once, the merchant gets its `va_payment`/`qr_payment` webhook, and a
callback that turns up later is a duplicate. The break is then resolved with the note.

Only Topremit is applied this way: Finan cash-in requests have a fixed amount that the
deposit reconciliation job reads from `GET /payments/{id}`, and a debit the gateway never
asked for is not money to credit.

    outcome = await apply_break(sessionmaker, break_id, note="bank confirmed", actor="ops:ana")
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.ids import parse_uuid
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.money import format_amount
from clearing_gateway.providers import base
from clearing_gateway.providers.callback_kit import compact_json
from clearing_gateway.providers.callbacks import CallbackHandlers, apply_found
from clearing_gateway.providers.events import Instrument, PaymentReceived
from clearing_gateway.providers.models import CallbackStatus
from clearing_gateway.reconciliation.models import BreakKind, BreakStatus, ReconciliationBreak
from clearing_gateway.reconciliation.repository import (
    DepositReconciliationRepository,
    StatementRepository,
)
from clearing_gateway.reconciliation.service import BreakError, resolve_break

log = get_logger("gateway.reconciliation")


@dataclass(frozen=True)
class AppliedBreak:
    found: ReconciliationBreak
    status: str  # the callback path's verdict: applied, or duplicate (already credited)
    event_key: str


async def apply_break(
    sessionmaker: async_sessionmaker[AsyncSession],
    break_id: uuid.UUID,
    *,
    note: str,
    actor: str,
    registry: CallbackHandlers,
) -> AppliedBreak:
    """Credit a `missing_in_ledger` Topremit payment from its statement line, then
    resolve the break. Safe to repeat: the event key makes a second apply a duplicate."""
    if not note.strip():
        raise BreakError("applying a break needs a note saying what was checked")
    async with unit_of_work(sessionmaker) as session:
        event, day = await _statement_payment(session, break_id)
    raw = base.RawCallback(
        provider=event.provider,
        channel="statement",
        path=f"statement:{day}:{break_id}",
        headers={},
        body=compact_json(
            {
                "break": str(break_id),
                "provider_id": event.provider_payment_id,
                "reference": event.reference,
                "amount": format_amount(event.amount, event.currency),
                "currency": event.currency,
                "appliedBy": actor,
            }
        ),
    )
    status = await apply_found(sessionmaker, event, raw, registry)
    if status not in (CallbackStatus.APPLIED, CallbackStatus.DUPLICATE):
        raise BreakError(f"the payment was not applied ({status}); see the callback inbox")
    async with unit_of_work(sessionmaker) as session:
        found = await resolve_break(
            session,
            break_id,
            note=f"{note.strip()} [applied from the statement as {event.event_key}: {status}]",
            actor=actor,
        )
    log.warning(
        "reconciliation.break_applied",
        break_id=str(break_id),
        key=event.event_key,
        status=status,
        actor=found.resolved_by,
    )
    return AppliedBreak(found, status, event.event_key)


async def _statement_payment(
    session: AsyncSession, break_id: uuid.UUID
) -> tuple[PaymentReceived, str]:
    """The payment event the lost callback would have produced, from the break's line,
    and the statement's day. A statement states no time of day, so the deposit is dated
    when it is applied (a VA that has expired since sends it to a payment exception)."""
    found = await StatementRepository(session).break_by_id(break_id)
    if found is None:
        raise BreakError(f"no break {break_id}")
    if found.status != BreakStatus.OPEN:
        raise BreakError(f"break {break_id} is already resolved")
    if found.kind != BreakKind.MISSING_IN_LEDGER or found.direction != "credit":
        raise BreakError("only a missing_in_ledger credit can be applied; resolve the others")
    if found.provider != "topremit":
        raise BreakError(
            f"{found.provider} payments are applied by their callback or the deposit "
            "reconciliation job, not from the statement"
        )
    if not found.provider_amount or found.provider_amount <= 0:
        raise BreakError("the statement line states no amount to apply")
    instrument_id = parse_uuid(found.instrument_reference or "")
    accounts = await DepositReconciliationRepository(session).instruments(
        [instrument_id] if instrument_id else []
    )
    account = accounts[0] if accounts and accounts[0].provider == "topremit" else None
    if account is None:
        raise BreakError(
            f"the statement's reference {found.instrument_reference!r} is none of our "
            "Topremit instruments"
        )
    if account.currency != found.currency:
        raise BreakError(f"the statement's {found.currency} is not the VA's {account.currency}")
    instrument: Instrument = "qris" if account.kind == "qris" else "va"
    # The key the callback itself carries (providers/topremit/callbacks.py).
    key = f"qris:{account.virtual_account_no}" if instrument == "qris" else f"va:{found.reference}"
    event = PaymentReceived(
        provider="topremit",
        event_key=key,
        instrument=instrument,
        amount=found.provider_amount,
        currency=found.currency,
        provider_payment_id=found.reference,
        virtual_account_no=account.virtual_account_no,
        reference=str(account.id),
        raw={"statement": found.statement_date, "provider_id": found.reference},
    )
    return event, found.statement_date
