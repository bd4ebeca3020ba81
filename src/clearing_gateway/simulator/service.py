"""Simulated deposits run the whole real path: the provider sandbox pays the VA and sends
its signed callback over HTTP to the gateway, which verifies it, stores it in the inbox and
applies it (deposit, ledger, outbox) exactly as in production."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits import arrivals
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.instruments.repository import VirtualAccountRepository
from clearing_gateway.kit.errors import ErrorCode, GatewayError, not_found, validation_error
from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.providers.banks import UnknownBank, normalise_bank_code
from clearing_gateway.providers.sandbox_magic import DepositOutcome, deposit_outcome
from clearing_gateway.providers.sandboxes import Sandboxes
from clearing_gateway.providers.topremit.sandbox import SnapError
from clearing_gateway.simulator.schemas import DepositInquiryRequest, DepositPaymentRequest

# How often a waiting simulator request reads the database when no COMMIT of this
# process woke it (the callback went to another API process).
POLL_SECONDS = 0.25
WOKEN_POLL_SECONDS = 0.005


async def find_account(
    session: AsyncSession, merchant_id: uuid.UUID | None, request: DepositInquiryRequest
) -> VirtualAccount:
    try:
        bank = normalise_bank_code(request.bankCode)
    except UnknownBank:
        raise validation_error("bankCode", f"unknown bank code {request.bankCode!r}") from None
    matches = await VirtualAccountRepository(session).by_number(
        None, request.virtualAccountNo, bank
    )
    found = [a for a in matches if merchant_id is None or a.merchant_id == merchant_id]
    if not found:
        raise not_found(f"virtualAccountNo {request.virtualAccountNo!r} at bank {bank}")
    return found[0]


def pay_at_sandbox(
    sandboxes: Sandboxes, provider: str, reference: str, amount: str, payer: str | None
) -> str:
    """Make the provider's sandbox pay the VA; returns the provider's payment id."""
    if provider != "topremit":
        raise GatewayError(
            422, ErrorCode.VALIDATION_ERROR, f"bankCode: {provider} VAs cannot be simulated"
        )
    try:
        paid = sandboxes.topremit.pay_va(reference, amount, payer)
    except SnapError as error:
        raise GatewayError(
            422, ErrorCode.VALIDATION_ERROR, f"virtualAccountNo: the provider refused: {error}"
        ) from None
    return paid.payment_id


async def wait_for_deposit(runtime: Runtime, provider: str, payment_id: str) -> Deposit | None:
    """The deposit of this payment, once it exists (or None when the wait is over).

    Woken by the deposit's COMMIT when the callback lands in this process
    (deposits/arrivals.py), then read again every WOKEN_POLL_SECONDS until it shows (on
    PostgreSQL it was seen to become visible to another connection some milliseconds
    after the session's after_commit); without a wake-up, every POLL_SECONDS, for a
    callback that another process took."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + runtime.settings.simulator_wait_seconds
    pause = POLL_SECONDS
    while True:
        with arrivals.waiting_for(provider, payment_id) as arrived:
            async with runtime.sessionmaker() as session:
                deposit = await DepositRepository(session).by_payment(provider, payment_id)
            remaining = deadline - loop.time()
            if deposit is not None or remaining <= 0:
                return deposit
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived, min(remaining, pause))
            if arrived.done():
                pause = WOKEN_POLL_SECONDS


async def simulate_payment(
    session: AsyncSession,
    runtime: Runtime,
    sandboxes: Sandboxes,
    merchant_id: uuid.UUID | None,
    request: DepositPaymentRequest,
) -> Deposit:
    account = await find_account(session, merchant_id, request)
    try:
        amount = parse_amount(request.payment.amount, account.currency)
    except AmountError as error:
        raise validation_error("payment.amount", str(error)) from None
    magic = deposit_outcome(amount) if account.currency == "IDR" else None
    if request.payment.currency and request.payment.currency != account.currency:
        raise validation_error("payment.currency", f"the account takes {account.currency}")
    provider, reference = account.provider, account.provider_reference
    # End the read transaction before the callback needs the database (SQLite has one writer).
    await session.rollback()
    payment_id = pay_at_sandbox(
        sandboxes, provider, reference, request.payment.amount, request.payment.payerName
    )
    if magic is DepositOutcome.FAILED:
        raise validation_error(
            "payment.amount",
            f"{request.payment.amount} is the sandbox's failed payment: the payer's bank "
            "declined it and nothing was credited (docs/sandbox.md)",
        )
    if magic is DepositOutcome.LATE_CALLBACK:
        raise GatewayError(
            504,
            ErrorCode.SERVICE_UNAVAILABLE,
            f"payment: made, but {request.payment.amount} is the sandbox's late callback: it "
            f"arrives in {sandboxes.topremit.config.late_callback_seconds:g} s, then the "
            "deposit and its webhook follow (docs/sandbox.md)",
        )
    deposit = await wait_for_deposit(runtime, provider, payment_id)
    if deposit is None:
        raise GatewayError(
            504,
            ErrorCode.SERVICE_UNAVAILABLE,
            f"payment: the provider's callback did not arrive within "
            f"{runtime.settings.simulator_wait_seconds:g} s (check PUBLIC_BASE_URL)",
        )
    return deposit
