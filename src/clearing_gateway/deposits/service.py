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

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.events import EVENT_TYPES, va_payment_payload
from clearing_gateway.deposits.models import Deposit, DepositStatus, PaymentException
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.instruments.models import VirtualAccount, VirtualAccountStatus
from clearing_gateway.instruments.repository import VirtualAccountRepository
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id, parse_uuid
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.ledger import fees
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import deposit_postings
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
    session: AsyncSession, event: PaymentReceived, _row: ProviderCallback
) -> Deposit | None:
    repository = DepositRepository(session)
    existing = await repository.by_payment(event.provider, event.provider_payment_id)
    if existing is not None:
        return existing  # already applied: a duplicate under another event key
    paid_at = event.paid_at or utcnow()
    account = await find_instrument(session, event)
    if account is None:
        log.warning(
            "deposit.unknown_instrument", provider=event.provider, payment=event.provider_payment_id
        )
        await repository.add_exception(
            PaymentException(
                provider=event.provider,
                payment_request_id=event.provider_payment_id,
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
        payment_request_id=event.provider_payment_id,
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
    await repository.add(deposit)
    if reason:
        log.warning("deposit.refused", deposit=str(deposit.id), reason=reason)
        await repository.add_exception(
            PaymentException(
                provider=event.provider,
                payment_request_id=event.provider_payment_id,
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
            f"deposit:{event.provider}:{event.provider_payment_id}",
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
