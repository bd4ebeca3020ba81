"""Virtual accounts: issued by the provider the registry picks for the bank, with fallback.

Creation is synchronous (seed v1.0.1): the provider is called inside the request and the
VA row is written in the same transaction as the idempotency record. A provider that fails
outright (refused the connection, or rejected the request) is skipped for the next one in
`VA_PROVIDER_ORDER`; an unknown outcome (timeout, 5xx, garbage) stops the attempt — the VA
may exist at that provider, and creating a second one elsewhere would leave the merchant
with two numbers for one request.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.instruments.models import VirtualAccount, VirtualAccountStatus
from clearing_gateway.instruments.repository import VirtualAccountRepository
from clearing_gateway.instruments.schemas import (
    CreateFixedAmountRequest,
    CreateVirtualAccountRequest,
    UpdateVirtualAccountRequest,
)
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError, not_found, validation_error
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.providers.banks import UnknownBank, normalise_bank_code
from clearing_gateway.providers.base import PaymentRequest, QrisRequest, VirtualAccountRequest
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from clearing_gateway.users.models import User
from clearing_gateway.users.service import get_active_user

log = get_logger("gateway.instruments")


def supported_bank(runtime: Runtime, field: str, code: str) -> str:
    """The BI code for `code` ("014" or "BCA") if some provider issues VAs for it."""
    assert runtime.providers is not None
    try:
        bank = normalise_bank_code(code)
    except UnknownBank:
        bank = ""
    if not bank or not runtime.providers.registry.virtual_account_providers(bank):
        supported = ", ".join(sorted(runtime.providers.registry.supported_va_banks()))
        raise GatewayError(
            422, ErrorCode.UNSUPPORTED_BANK, f"{field}: {code!r} is not supported ({supported})"
        )
    return bank


def _customer_no() -> str:
    # SNAP customerNo: digits only; unique enough per provider, and the (provider, bank,
    # number) unique key is the backstop.
    return str(secrets.randbelow(9 * 10**11) + 10**11)


async def issue_with_fallback(
    runtime: Runtime, providers: list[str], method: str, request: Any, field: str
) -> tuple[str, Any]:
    """Call `method(request)` on each provider in order until one issues the instrument.

    Skips a provider that failed outright (unreachable, or a definitive rejection); stops
    at an unknown outcome, where the instrument may exist at that provider.
    """
    assert runtime.providers is not None
    failures: list[str] = []
    for provider in providers:
        create = getattr(runtime.providers.connector(provider), method, None)
        if create is None:
            continue
        try:
            return provider, await create(request)
        except (ProviderUnavailable, ProviderRejected) as error:
            log.warning("instrument.provider_failed", provider=provider, error=str(error))
            failures.append(f"{provider}: {error}")
        except ProviderOutcomeUnknown as error:
            log.warning("instrument.provider_unknown", provider=provider, error=str(error))
            raise GatewayError(
                503,
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{field}: {provider} did not answer clearly; retry with the same requestId",
            ) from None
    raise GatewayError(
        503,
        ErrorCode.PROVIDER_UNAVAILABLE,
        f"{field}: no provider could issue it (" + "; ".join(failures or ["none configured"]) + ")",
    )


async def create_virtual_account(
    session: AsyncSession,
    runtime: Runtime,
    merchant_id: uuid.UUID,
    request: CreateVirtualAccountRequest,
) -> VirtualAccount:
    assert runtime.providers is not None
    user = await get_active_user(session, merchant_id, request.userId)
    bank = supported_bank(runtime, "bankCode", request.bankCode)
    settings = runtime.settings
    instrument_id = new_id()
    expires_at = utcnow() + dt.timedelta(days=settings.va_validity_days)
    provider, issued = await issue_with_fallback(
        runtime,
        runtime.providers.registry.virtual_account_providers(bank),
        "create_virtual_account",
        VirtualAccountRequest(
            reference=str(instrument_id),
            bank_code=bank,
            customer_no=_customer_no(),
            name=user.kyc_name,
            amount=None,
            currency="IDR",
            expires_at=expires_at,
            description=f"deposit account of {user.user_id}",
        ),
        "bankCode",
    )
    now = utcnow()
    return await VirtualAccountRepository(session).add(
        VirtualAccount(
            id=instrument_id,
            merchant_id=merchant_id,
            user_pk=user.id,
            user_ref=user.user_id,
            kind="va",
            provider=provider,
            bank_code=bank,
            virtual_account_no=issued.virtual_account_no,
            virtual_account_name=user.kyc_name,
            provider_reference=issued.reference,
            customer_no=issued.customer_no,
            currency=issued.currency or "IDR",
            min_amount=settings.va_min_amount,
            max_amount=settings.va_max_amount,
            status=VirtualAccountStatus.ACTIVE,
            expired_date=issued.expires_at or expires_at,
            created_at=now,
            updated_at=now,
        )
    )


async def get_virtual_account(
    session: AsyncSession, merchant_id: uuid.UUID, instrument_id: uuid.UUID
) -> VirtualAccount:
    account = await VirtualAccountRepository(session).get(merchant_id, instrument_id)
    if account is None:
        raise not_found(f"paymentInstrumentId {instrument_id}")
    return account


async def update_virtual_account(
    session: AsyncSession,
    merchant_id: uuid.UUID,
    instrument_id: uuid.UUID,
    request: UpdateVirtualAccountRequest,
) -> VirtualAccount:
    account = await get_virtual_account(session, merchant_id, instrument_id)
    status = account.status_at(utcnow())
    if status != VirtualAccountStatus.ACTIVE:
        raise GatewayError(
            409, ErrorCode.CONFLICT, f"paymentInstrumentId: the virtual account is {status}"
        )
    given = request.model_fields_set
    if "virtualAccountName" in given:
        if request.virtualAccountName is None:
            raise validation_error("virtualAccountName", "must not be null")
        account.virtual_account_name = request.virtualAccountName
    if "expiredDate" in given:
        expires = request.expiredDate
        if expires is None:
            raise validation_error("expiredDate", "must not be null")
        if expires.tzinfo is None:
            raise validation_error("expiredDate", "must include a time zone offset (e.g. Z)")
        if expires <= utcnow():
            raise validation_error("expiredDate", "must be in the future")
        account.expired_date = expires.astimezone(dt.UTC)
    account.updated_at = utcnow()
    await session.flush()
    return account


async def list_user_virtual_accounts(
    session: AsyncSession, merchant_id: uuid.UUID, user_id: str
) -> Sequence[VirtualAccount]:
    await get_active_user(session, merchant_id, user_id)
    accounts = await VirtualAccountRepository(session).for_user(merchant_id, user_id)
    return accounts


async def _fixed_amount_instrument(
    session: AsyncSession,
    merchant_id: uuid.UUID,
    request: CreateFixedAmountRequest,
) -> tuple[User, int]:
    user = await get_active_user(session, merchant_id, request.userId)
    try:
        amount = parse_amount(request.amount, request.currency)
    except AmountError as error:
        raise validation_error("amount", str(error)) from None
    return user, amount


async def create_qris(
    session: AsyncSession,
    runtime: Runtime,
    merchant_id: uuid.UUID,
    request: CreateFixedAmountRequest,
) -> VirtualAccount:
    """A dynamic QRIS for one payment of exactly `amount` (paid → `qr_payment` event)."""
    assert runtime.providers is not None
    user, amount = await _fixed_amount_instrument(session, merchant_id, request)
    instrument_id = new_id()
    expires_at = utcnow() + dt.timedelta(minutes=runtime.settings.qris_validity_minutes)
    provider, qris = await issue_with_fallback(
        runtime,
        runtime.providers.registry.qris_providers(request.currency),
        "create_qris",
        QrisRequest(
            reference=str(instrument_id),
            amount=amount,
            currency=request.currency,
            expires_at=expires_at,
            description=f"payment of {user.user_id}",
        ),
        "amount",
    )
    return await _store_fixed(
        session,
        instrument_id,
        user,
        "qris",
        provider,
        "QRIS",
        qris.provider_reference,
        amount,
        request.currency,
        expires_at,
        qr_content=qris.qr_content,
    )


async def create_cash_in(
    session: AsyncSession,
    runtime: Runtime,
    merchant_id: uuid.UUID,
    request: CreateFixedAmountRequest,
) -> VirtualAccount:
    """A cash-in payment request (Finan) for one payment of `amount` (→ `va_payment`)."""
    assert runtime.providers is not None
    user, amount = await _fixed_amount_instrument(session, merchant_id, request)
    instrument_id = new_id()
    expires_at = utcnow() + dt.timedelta(minutes=runtime.settings.qris_validity_minutes)
    provider, created = await issue_with_fallback(
        runtime,
        runtime.providers.registry.cash_in_providers(request.currency),
        "create_payment_request",
        PaymentRequest(
            reference=str(instrument_id),
            amount=amount,
            currency=request.currency,
            customer_name=user.kyc_name,
            description=f"payment of {user.user_id}",
        ),
        "amount",
    )
    return await _store_fixed(
        session,
        instrument_id,
        user,
        "cashin",
        provider,
        "CASHIN",
        created.provider_payment_id,
        amount,
        request.currency,
        expires_at,
        qr_content=created.qr_code,
        payment_url=created.payment_url,
    )


async def _store_fixed(
    session: AsyncSession,
    instrument_id: uuid.UUID,
    user: User,
    kind: str,
    provider: str,
    channel: str,
    number: str,
    amount: int,
    currency: str,
    expires_at: dt.datetime,
    *,
    qr_content: str | None = None,
    payment_url: str | None = None,
) -> VirtualAccount:
    now = utcnow()
    return await VirtualAccountRepository(session).add(
        VirtualAccount(
            id=instrument_id,
            merchant_id=user.merchant_id,
            user_pk=user.id,
            user_ref=user.user_id,
            kind=kind,
            provider=provider,
            bank_code=channel,
            virtual_account_no=number,
            virtual_account_name=user.kyc_name,
            provider_reference=str(instrument_id),
            currency=currency,
            min_amount=amount,
            max_amount=amount,
            qr_content=qr_content,
            payment_url=payment_url,
            status=VirtualAccountStatus.ACTIVE,
            expired_date=expires_at,
            created_at=now,
            updated_at=now,
        )
    )
