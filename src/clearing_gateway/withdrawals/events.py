"""The merchant `transfer` event: seed 000's "Withdrawal — transfer" body, exactly.

Built from the withdrawal row as it stands after the status change, in the change's own
transaction, so the event can never describe a state that was rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.money import format_amount
from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.webhooks import service as webhooks
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus

EVENT_TYPE = "transfer"

# Our status → SNAP `latestTransactionStatus` style code and message (docs/withdrawals.md).
RESPONSE_CODES: dict[str, tuple[str, str]] = {
    WithdrawalStatus.PENDING: ("01", "Initiated"),
    WithdrawalStatus.PROCESSING: ("03", "Pending"),
    WithdrawalStatus.SUCCESS: ("00", "Success"),
    WithdrawalStatus.FAILED: ("06", "Failed"),
    WithdrawalStatus.REFUNDED: ("04", "Refunded"),
}

# Fixed namespace: a payment instrument id must never change once merchants stored it.
_INSTRUMENT_NAMESPACE = uuid.UUID("0b7d4f8e-55c1-5b0e-8d8a-646973627572")


def payment_instrument_id(merchant_id: uuid.UUID, provider: str, currency: str) -> str:
    """The merchant's disbursement instrument at one provider: stable, derived, no table."""
    return str(
        uuid.uuid5(_INSTRUMENT_NAMESPACE, f"disbursement:{merchant_id}:{provider}:{currency}")
    )


def source_account_no(withdrawal: Withdrawal) -> str:
    """The account the money leaves from: the merchant's withdrawal vault (ledger id)."""
    vault = AccountKey.vault(
        withdrawal.merchant_id, withdrawal.provider, "withdrawal", withdrawal.currency
    )
    return str(vault.id)


def transfer_payload(withdrawal: Withdrawal) -> dict[str, Any]:
    code, message = RESPONSE_CODES[WithdrawalStatus(withdrawal.status)]
    return {
        "originalReferenceNo": withdrawal.provider_transaction_id or withdrawal.provider_reference,
        "originalPartnerReferenceNo": withdrawal.merchant_reference,
        "responseCode": code,
        "responseMessage": message,
        "amount": {
            "value": format_amount(withdrawal.amount, withdrawal.currency),
            "currency": withdrawal.currency,
        },
        "paymentInstrumentId": payment_instrument_id(
            withdrawal.merchant_id, withdrawal.provider, withdrawal.currency
        ),
        "beneficiaryAccountNo": withdrawal.beneficiary_account_no,
        "beneficiaryBankCode": withdrawal.beneficiary_bank_code,
        "sourceAccountNo": source_account_no(withdrawal),
        "additionalInfo": {
            "merchantUserId": withdrawal.user_ref,
            "caciTxId": str(withdrawal.id),
        },
    }


async def publish_transfer(session: AsyncSession, withdrawal: Withdrawal) -> None:
    await webhooks.publish(
        session,
        merchant_id=withdrawal.merchant_id,
        event_type=EVENT_TYPE,
        transaction_id=str(withdrawal.id),
        payload=transfer_payload(withdrawal),
    )
