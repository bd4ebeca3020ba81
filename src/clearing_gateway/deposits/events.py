"""The merchant's `va_payment` / `qr_payment` webhook body: exactly the seed's
"Deposit — va_payment" schema, built from the committed deposit, its VA and its user."""

from __future__ import annotations

from typing import Any

from clearing_gateway.deposits.models import Deposit, DepositStatus
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import exponent, format_amount
from clearing_gateway.providers.banks import SHORT_CODE
from clearing_gateway.users.models import User

EVENT_TYPES = {"va": "va_payment", "cashin": "va_payment", "qris": "qr_payment"}
# SNAP virtualAccountTrxType-like marker the seed shows as "01"; QRIS has no VA type.
VA_TYPE = {"va": "01", "cashin": "01", "qris": "02"}


def major_units(minor: int, currency: str) -> int:
    """minAmount / maxAmount are integers of whole currency units in the seed's example."""
    return minor // 10 ** exponent(currency)


def va_payment_payload(deposit: Deposit, account: VirtualAccount, user: User) -> dict[str, Any]:
    failed = deposit.status == DepositStatus.FAILED
    return {
        "partnerServiceId": str(deposit.merchant_id),
        "customerNo": user.user_id,
        "virtualAccountNo": deposit.virtual_account_no,
        "trxId": str(deposit.id),
        "paymentRequestId": deposit.payment_request_id,
        "paidAmount": {
            "value": format_amount(deposit.amount, deposit.currency),
            "currency": deposit.currency,
        },
        "trxDateTime": isoformat(deposit.trx_date_time),
        "virtualAccountName": account.virtual_account_name,
        "virtualAccountType": VA_TYPE.get(deposit.instrument, "01"),
        "virtualAccountPhone": user.phone,
        "virtualAccountEmail": user.email,
        "additionalInfo": {
            "minAmount": major_units(account.min_amount, account.currency),
            "maxAmount": major_units(account.max_amount, account.currency),
            "bankCode": SHORT_CODE.get(account.bank_code, account.bank_code),
            "customerInfo": {
                "customer_id": str(user.id),
                "customer_ref_id": user.user_id,
                "given_name": user.kyc_name,
                "email": user.email,
                "mobile": user.phone,
            },
            "expiredDate": isoformat(account.expired_date),
            "failureReason": deposit.failure_reason if failed else None,
            "merchantUserId": user.user_id,
            "caciTxId": str(deposit.id),
        },
    }
