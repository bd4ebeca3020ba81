"""Wire shapes of a merchant debit: the `debit_notify` body and `GET /v1/debits/{id}`.

The seed lists `debit_notify` without a payload; the body follows its `transfer` body
(`responseCode`, `amount {value, currency}`, `additionalInfo.caciTxId`) so a merchant's
`transfer` handler reads it with the same habits (docs/webhooks.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from clearing_gateway.debits.models import MerchantDebit
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import format_amount


class DebitType(StrEnum):
    SETTLEMENT = "SETTLEMENT"  # a settlement sweep out of a deposit vault
    FEE = "FEE"  # a fee charged on its own, not inside a deposit or a payout
    ADJUSTMENT = "ADJUSTMENT"  # an operator's movement
    CASHOUT = "CASHOUT"  # a provider cash-out not made through POST /v1/withdrawals


def account_name(provider: str, vault_type: str) -> str:
    return f"{provider}:{vault_type}"


class DebitOut(BaseModel):
    transactionId: str = Field(description="The debit's caciTxId")
    caciTxId: str
    debitType: str = Field(examples=["SETTLEMENT"])
    status: str = Field(description="SUCCESS: the debit is booked", examples=["SUCCESS"])
    amount: str = Field(examples=["150000.00"])
    currency: str = Field(examples=["IDR"])
    provider: str = Field(description="Provider of the vault debited", examples=["topremit"])
    vaultType: str = Field(examples=["deposit"])
    sourceAccountNo: str = Field(examples=["topremit:deposit"])
    destinationAccountNo: str = Field(examples=["finpay:withdrawal"])
    balanceAfter: str = Field(description="The vault's available balance right after")
    description: str | None
    originalReferenceNo: str = Field(description="The ledger transfer that made the debit")
    trxDateTime: str
    createdAt: str


def debit_out(debit: MerchantDebit) -> dict[str, Any]:
    return DebitOut(
        transactionId=str(debit.id),
        caciTxId=str(debit.id),
        debitType=debit.debit_type,
        status="SUCCESS",
        amount=format_amount(debit.amount, debit.currency),
        currency=debit.currency,
        provider=debit.provider,
        vaultType=debit.vault_type,
        sourceAccountNo=account_name(debit.provider, debit.vault_type),
        destinationAccountNo=debit.destination,
        balanceAfter=format_amount(debit.balance_after, debit.currency),
        description=debit.description,
        originalReferenceNo=debit.transfer_id,
        trxDateTime=isoformat(debit.created_at) or "",
        createdAt=isoformat(debit.created_at) or "",
    ).model_dump()


def debit_notify_payload(debit: MerchantDebit) -> dict[str, Any]:
    """The `debit_notify` body (the seed's `transfer` style)."""
    return {
        "originalReferenceNo": debit.transfer_id,
        "responseCode": "00",
        "responseMessage": "Success",
        "debitType": debit.debit_type,
        "amount": {
            "value": format_amount(debit.amount, debit.currency),
            "currency": debit.currency,
        },
        "provider": debit.provider,
        "vaultType": debit.vault_type,
        "sourceAccountNo": account_name(debit.provider, debit.vault_type),
        "destinationAccountNo": debit.destination,
        "trxDateTime": isoformat(debit.created_at) or "",
        "description": debit.description,
        "additionalInfo": {
            "balanceAfter": format_amount(debit.balance_after, debit.currency),
            "caciTxId": str(debit.id),
        },
    }
