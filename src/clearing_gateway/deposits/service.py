"""Applying provider payments: a verified payment for a known instrument becomes a deposit.

Runs inside the callback pipeline's transaction (providers/callbacks.py), which also marks
the inbox row applied: the deposit row, its ledger transfer (provider clearing → merchant
deposit vault, net of the fee → fee revenue) and the merchant's webhook event commit
together or not at all. The same payment notified again finds its deposit and changes
nothing; two copies at once are serialised by the inbox's event claim and, behind it, the
unique (provider, payment id) key on deposits and the ledger transfer id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits import arrivals
from clearing_gateway.deposits.events import EVENT_TYPES, va_payment_payload
from clearing_gateway.deposits.models import Deposit, DepositStatus, PaymentException
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.instruments.models import VirtualAccount, VirtualAccountStatus
from clearing_gateway.instruments.repository import VirtualAccountRepository
from clearing_gateway.kit import tracing
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id, parse_uuid
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.money import MAX_MINOR, format_amount
from clearing_gateway.ledger import fees
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import deposit_postings
from clearing_gateway.providers.errors import CallbackIgnored
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.users.models import User
from clearing_gateway.webhooks import service as webhooks

log = get_logger("gateway.deposits")


async def find_instrument(session: AsyncSession, event: PaymentReceived) -> VirtualAccount | None:
    """Our instrument id travels as the provider reference (VA trxId, QRIS partner
    reference, cash-in reference_id); the VA number is the fallback."""
    repository = VirtualAccountRepository(session)
    instrument_id = parse_uuid(event.reference or "")
    if instrument_id is not None:
        account = await repository.by_id(instrument_id)
        if account is not None and account.provider == event.provider:
            return account
    if event.virtual_account_no:
        matches = await repository.by_number(event.provider, event.virtual_account_no)
        if len(matches) == 1:
            return matches[0]
    return None


def refusal(account: VirtualAccount, event: PaymentReceived, paid_at: dt.datetime) -> str | None:
    """Why this payment may not be credited to this instrument, or None."""
    if account.status != VirtualAccountStatus.ACTIVE:
        return f"virtual account is {account.status}"
    if account.expired_date is not None and account.expired_date < paid_at:
        return "virtual account had expired"
    if event.currency != account.currency:
        return f"currency {event.currency} does not match the account's {account.currency}"
    if event.amount < account.min_amount:
        return "amount is below the account's minimum"
    if account.max_amount and event.amount > account.max_amount:
        return "amount is above the account's maximum"
    return None


async def apply_payment(
    session: AsyncSession, event: PaymentReceived, _row: ProviderCallback | None = None
) -> Deposit | None:
    repository = DepositRepository(session)
    if not 0 < event.amount <= MAX_MINOR:
        # Adapters refuse these already; this keeps any other path off the ledger too.
        raise CallbackIgnored(f"amount {event.amount} refused: not a positive int64")
    if event.cumulative:
        return await _apply_running_total(session, repository, event)
    existing = await repository.by_payment(event.provider, event.provider_payment_id)
    if existing is not None:
        return existing  # already applied: a duplicate under another event key
    return await _apply_new(session, repository, event, event.provider_payment_id)


async def _apply_running_total(
    session: AsyncSession, repository: DepositRepository, event: PaymentReceived
) -> Deposit | None:
    """A payment whose provider reports the running total paid (Finan `paid_amount`).

    Each deposit of the payment is one increase of that total: the first under the
    payment id, later ones under `{payment id}:{total}`. A total at or below what is
    accounted for is an older or repeated state and changes nothing. A first total below
    a fixed-amount request's minimum is parked as an open exception (with the amount
    received so far), not refused for good: the payer may still send the rest."""
    payment_id = event.provider_payment_id
    accounted = await repository.accounted_for_payment(event.provider, payment_id)
    increase = event.amount - accounted
    if increase <= 0:
        return None
    parked = await repository.exception_for(event.provider, payment_id)
    if accounted == 0:
        account = await find_instrument(session, event)
        if (
            account is not None
            and account.status == VirtualAccountStatus.ACTIVE
            and event.amount < account.min_amount
        ):
            reason = (
                f"partial payment: {format_amount(event.amount, event.currency)} of "
                f"{format_amount(account.min_amount, account.currency)} paid so far"
            )
            if parked is None:
                await repository.add_exception(
                    PaymentException(
                        provider=event.provider,
                        payment_request_id=payment_id,
                        virtual_account_no=account.virtual_account_no,
                        merchant_id=account.merchant_id,
                        amount=event.amount,
                        currency=event.currency,
                        reason=reason,
                    )
                )
            else:
                parked.amount, parked.reason = event.amount, reason
            return None
    key = payment_id if accounted == 0 else f"{payment_id}:{event.amount}"
    deposit = await _apply_new(session, repository, replace(event, amount=increase), key)
    if parked is not None and parked.resolved_at is None and parked.deposit_id is None:
        # The parked partial payment was completed: the operator's row shows the total.
        parked.amount = event.amount
        parked.resolved_at = utcnow()
        parked.resolution_note = (
            f"completed: {format_amount(event.amount, event.currency)} paid in total, "
            f"deposit {deposit.id if deposit else '-'}"
        )
    return deposit


async def _apply_new(
    session: AsyncSession,
    repository: DepositRepository,
    event: PaymentReceived,
    payment_key: str,
) -> Deposit | None:
    """One new deposit of `event.amount`, recorded under `payment_key`."""
    paid_at = event.paid_at or utcnow()
    account = await find_instrument(session, event)
    if account is None:
        log.warning("deposit.unknown_instrument", provider=event.provider, payment=payment_key)
        known = await repository.exception_for(event.provider, payment_key)
        if known is not None:
            # The same payment seen again (another key, a later step): one row, its total.
            known.amount = max(known.amount, event.amount)
            return None
        await repository.add_exception(
            PaymentException(
                provider=event.provider,
                payment_request_id=payment_key,
                virtual_account_no=event.virtual_account_no or event.reference or "",
                amount=event.amount,
                currency=event.currency,
                reason="no such virtual account",
            )
        )
        return None
    if account.kind != "va":
        # Single use: concurrent payments for one QR must not all see it ACTIVE.
        locked = await VirtualAccountRepository(session).lock(account.id)
        assert locked is not None
        account = locked

    user = await session.get(User, account.user_pk)
    assert user is not None
    reason = refusal(account, event, paid_at)
    fee = (
        0 if reason else await fees.fee_for(session, event.provider, event.instrument, event.amount)
    )
    fee = min(fee, event.amount)
    deposit = Deposit(
        id=new_id(),
        merchant_id=account.merchant_id,
        payment_instrument_id=account.id,
        user_pk=account.user_pk,
        user_ref=account.user_ref,
        instrument=event.instrument,
        provider=event.provider,
        bank_code=account.bank_code,
        virtual_account_no=account.virtual_account_no,
        payment_request_id=payment_key,
        payer_name=event.payer_name,
        amount=event.amount,
        fee=fee,
        net_amount=event.amount - fee,
        currency=event.currency,
        status=DepositStatus.FAILED if reason else DepositStatus.COMPLETED,
        failure_reason=reason,
        trx_date_time=paid_at,
        created_at=utcnow(),
    )
    tracing.annotate(transaction_id=deposit.id)
    await repository.add(deposit)
    arrivals.announce(session, event.provider, payment_key)
    if reason:
        log.warning("deposit.refused", deposit=str(deposit.id), reason=reason)
        parked = await repository.exception_for(event.provider, payment_key)
        if parked is not None:
            # A parked partial payment whose total turned out unacceptable: one row, the
            # true total and the final reason.
            parked.amount, parked.reason, parked.deposit_id = event.amount, reason, deposit.id
        else:
            await repository.add_exception(
                PaymentException(
                    provider=event.provider,
                    payment_request_id=payment_key,
                    virtual_account_no=account.virtual_account_no,
                    merchant_id=account.merchant_id,
                    deposit_id=deposit.id,
                    amount=event.amount,
                    currency=event.currency,
                    reason=reason,
                )
            )
    else:
        if account.kind != "va":
            account.status = VirtualAccountStatus.PAID  # single use
            account.updated_at = utcnow()
        await ledger.post(
            session,
            f"deposit:{event.provider}:{payment_key}",
            deposit_postings(
                account.merchant_id, event.provider, event.amount, fee, event.currency
            ),
            kind="deposit",
            note=str(deposit.id),
        )
    await webhooks.publish(
        session,
        merchant_id=account.merchant_id,
        event_type=EVENT_TYPES[event.instrument],
        transaction_id=str(deposit.id),
        payload=va_payment_payload(deposit, account, user),
    )
    return deposit


class ExceptionNotOpen(ValueError):
    """No unresolved payment exception with that id (or no note given)."""


async def resolve_payment_exception(
    session: AsyncSession, exception_id: object, note: str
) -> PaymentException:
    """Close an uncredited payment with the operator's note (refund, manual credit, …).
    No money moves here: the note records what was done outside the gateway."""
    if not note.strip():
        raise ExceptionNotOpen("a resolution needs a note saying what was done")
    parsed = parse_uuid(str(exception_id))
    exception = await DepositRepository(session).exception_for_update(parsed) if parsed else None
    if exception is None or exception.resolved_at is not None:
        raise ExceptionNotOpen(f"no unresolved exception {exception_id}")
    exception.resolved_at = utcnow()
    exception.resolution_note = note.strip()[:500]
    await session.flush()
    return exception
