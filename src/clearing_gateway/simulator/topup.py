"""`POST /v1/simulator/balances/top-up`: fund a merchant vault directly (sandbox only), so
a new merchant can try a payout without first moving deposits by settlement.

The money comes from provider clearing, as an operator's `ledger top-up` does. With a
`requestId` the transfer is keyed by it: the same top-up sent again moves nothing twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.errors import not_found, validation_error
from clearing_gateway.kit.ids import new_id, parse_uuid
from clearing_gateway.kit.money import CURRENCY_EXPONENT, AmountError, format_amount, parse_amount
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import PROVIDERS, VAULTS, AccountKey, Posting
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.simulator.schemas import BalanceTopUpOut, BalanceTopUpRequest

# A sandbox convenience, not a vault's limit: keeps every balance far from BIGINT's range.
MAX_TOP_UP = "1000000000000.00"


async def top_up(
    session: AsyncSession, signer: uuid.UUID | None, request: BalanceTopUpRequest
) -> dict[str, object]:
    merchant_id = await _merchant(session, signer, request.merchantId)
    if request.provider not in PROVIDERS:
        raise validation_error("provider", f"must be one of {', '.join(PROVIDERS)}")
    if request.vaultType not in VAULTS:
        raise validation_error("vaultType", f"must be one of {', '.join(VAULTS)}")
    currency = request.currency
    if currency not in CURRENCY_EXPONENT:
        raise validation_error("currency", f"unsupported currency {currency!r}")
    try:
        amount = parse_amount(request.amount, currency)
    except AmountError as exc:
        raise validation_error("amount", str(exc)) from None
    if amount > parse_amount(MAX_TOP_UP, currency):
        raise validation_error("amount", f"must not exceed {MAX_TOP_UP} in the sandbox")
    vault = AccountKey.vault(merchant_id, request.provider, request.vaultType, currency)
    transfer_id = f"simulator-top-up:{merchant_id}:{request.requestId or new_id()}"
    transfer = await ledger.post(
        session,
        transfer_id,
        [Posting(AccountKey.clearing(request.provider, currency), vault, amount)],
        kind="top_up",
        note="sandbox top-up",
    )
    balance = await ledger.account_balance(session, vault)
    return BalanceTopUpOut(
        transferId=transfer.id,
        merchantId=str(merchant_id),
        provider=request.provider,
        vaultType=request.vaultType,
        amount=format_amount(amount, currency),
        currency=currency,
        available=format_amount(balance.available, currency),
        pending=format_amount(balance.debits_pending, currency),
    ).model_dump()


async def _merchant(
    session: AsyncSession, signer: uuid.UUID | None, given: str | None
) -> uuid.UUID:
    if signer is not None:
        if given and parse_uuid(given) != signer:
            raise validation_error("merchantId", "a signed request tops up its own merchant")
        return signer
    if not given:
        raise validation_error("merchantId", "required when the request is not signed")
    merchant_id = parse_uuid(given)
    if merchant_id is None:
        raise validation_error("merchantId", "must be a UUID")
    if await MerchantRepository(session).get(merchant_id) is None:
        raise not_found(f"merchant {given}")
    return merchant_id
