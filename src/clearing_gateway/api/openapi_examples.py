"""Request and response samples of the OpenAPI document, taken from the seed (CACI Clearing
Gateway API 1.0.3).

Request samples are the seed's, verbatim, except where the seed's rendering collapsed an
array or object (`whitelistedKycNames`, webhook bodies, the simulator's `payment`): those
are filled with values from the seed's own signing example and field tables. Response
samples keep the seed's ids and values but use what the gateway sends: `timestamp` as
integer milliseconds, `message` `SUCCESS` (docs/api-conventions.md), and `data` (collapsed
in the seed) in the gateway's shape.
"""

from __future__ import annotations

from typing import Any

_USER_ID = "567890"
_VA_ID = "019d35af-3233-7218-9135-170365519896"
_TX_ID = "019d6638-6b62-7130-b90c-e4d1583f9597"
_WEBHOOK_ID = "717bf9b3-e8f2-4bf7-82fa-00a6bdaa7514"
_ACCOUNT = {"bankCode": "002", "accountNo": "888801000003301", "accountName": "Jhon Doe"}


def _ok(code: int, timestamp: int, data: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": "SUCCESS"}
    body.update(extra)
    body["timestamp"] = timestamp
    if data is not None:
        body["data"] = data
    return body


CREATE_USER = {
    "requestId": "2dd96e87-4f8f-460e-a04d-040370505552",
    "userId": _USER_ID,
    "kycName": "Jhon Doe",
    "phone": "6281234567890",
    "email": "john.doe@example.com",
    "type": "retail",
    "nationality": "ID",
    "idType": "ktp",
    "idNumber": "1234567890",
    "whitelistedKycNames": ["Jhon", "Pg"],
    "whitelistedWithdrawalAccounts": [_ACCOUNT],
}
_USER = {
    "id": "01a22dd6-583f-7c55-8a41-6f1f0e8b2a10",
    "userId": _USER_ID,
    "kycName": "Jhon Doe",
    "phone": "6281234567890",
    "email": "john.doe@example.com",
    "type": "retail",
    "nationality": "ID",
    "idType": "ktp",
    "idNumber": "1234567890",
    "whitelistedKycNames": ["Jhon", "Pg"],
    "whitelistedWithdrawalAccounts": [_ACCOUNT],
    "status": "active",
    "createdAt": "2026-03-04T02:15:02Z",
    "updatedAt": "2026-03-04T02:15:02Z",
}
USER_201 = _ok(201, 1772590502000, _USER, requestId=CREATE_USER["requestId"])
USER_200 = _ok(200, 1774573934924, _USER)
UPDATE_USER = {
    "requestId": "3eeb5958-a2f5-4934-9d8b-26197d104abb",
    "kycName": "Jhon Doe Updated",
    "phone": "6281234567890",
    "email": "john.updated@example.com",
    "type": "retail",
    "nationality": "ID",
    "idType": "ktp",
    "idNumber": "1234567890",
    "whitelistedKycNames": ["Jhon", "Pg"],
    "whitelistedWithdrawalAccounts": [_ACCOUNT],
}
USER_UPDATED = _ok(
    200,
    1774573970513,
    {**_USER, "kycName": "Jhon Doe Updated", "email": "john.updated@example.com"},
    reason="User updated successfully",
    requestId=UPDATE_USER["requestId"],
)
DELETE_USER = {"requestId": "6b0b4af8-07e4-44fe-b4b3-32a410bbfd67"}
USER_DELETED = _ok(
    200, 1774573995972, reason="User deleted successfully", requestId=DELETE_USER["requestId"]
)

_VA = {
    "paymentInstrumentId": _VA_ID,
    "userId": "c28f03f8",
    "type": "VA",
    "bankCode": "503",
    "provider": "topremit",
    "virtualAccountNo": "662312136281234",
    "virtualAccountName": "Jhon Doe",
    "currency": "IDR",
    "minAmount": "10000.00",
    "maxAmount": None,
    "status": "ACTIVE",
    "expiredDate": "2036-03-26T18:48:20Z",
    "createdAt": "2026-03-28T18:48:20Z",
    "updatedAt": "2026-03-28T18:48:20Z",
}
CREATE_VA = {
    "requestId": "5520ef9c-e671-4c50-821d-9c9d787a5578",
    "userId": "c28f03f8",
    "bankCode": "503",
}
VA_200 = _ok(200, 1774723700223, _VA, requestId=CREATE_VA["requestId"])
VA_GET = _ok(200, 1774726455840, _VA)
VA_LIST = _ok(200, 1774563064105, [_VA])
UPDATE_VA = {
    "requestId": "60a59117-5138-4cc0-ae39-babb832021ec",
    "virtualAccountName": "Jhon Doe Updated",
    "expiredDate": "2099-12-31T23:59:59Z",
}
VA_UPDATED = _ok(
    200,
    1774755401625,
    {**_VA, "virtualAccountName": "Jhon Doe Updated", "expiredDate": "2099-12-31T23:59:59Z"},
    requestId=UPDATE_VA["requestId"],
)
CREATE_QRIS = {
    "requestId": "0b3c1f51-2a7e-4a7b-9d55-5c3f6b1d2e90",
    "userId": _USER_ID,
    "amount": "150000.00",
    "currency": "IDR",
}
QRIS_200 = _ok(
    200,
    1774723700223,
    {
        **_VA,
        "type": "QRIS",
        "bankCode": "QRIS",
        "minAmount": "150000.00",
        "maxAmount": "150000.00",
        "qrContent": "00020101021226...6304ABCD",
        "paymentUrl": None,
    },
    requestId=CREATE_QRIS["requestId"],
)
CREATE_CASH_IN = {**CREATE_QRIS, "requestId": "7c8d2e0a-4f1b-4f6e-b3a2-9e8d7c6b5a41"}
CASH_IN_200 = _ok(
    200,
    1774723700223,
    {
        **_VA,
        "type": "CASHIN",
        "minAmount": "150000.00",
        "maxAmount": "150000.00",
        "qrContent": None,
        "paymentUrl": "https://pay.example/cash-in/7c8d2e0a",
    },
    requestId=CREATE_CASH_IN["requestId"],
)
PAYMENT_INSTRUMENTS = _ok(
    200,
    1780908709325,
    [
        {
            "provider": "topremit",
            "instruments": [
                {
                    "type": "VA",
                    "currency": "IDR",
                    "status": "ACTIVE",
                    "bankCodes": ["002", "014", "503"],
                    "banks": [
                        {"bankCode": "002", "name": "BRI"},
                        {"bankCode": "014", "name": "BCA"},
                        {"bankCode": "503", "name": "NOBU"},
                    ],
                }
            ],
        }
    ],
)

CREATE_WITHDRAWAL = {
    "requestId": "2dd96e87-4f8f-460e-a04d-040370505552",
    "userId": _USER_ID,
    "merchantReference": "111111111",
    "beneficiaryBankCode": "002",
    "beneficiaryAccountNo": "888801000003301",
    "beneficiaryAccountName": "Jhon Doe",
    "amount": "20000.00",
    "merchantFee": "5000.00",
}
_WITHDRAWAL = {
    "transactionId": _TX_ID,
    "userId": _USER_ID,
    "merchantReference": "111111111",
    "beneficiaryBankCode": "002",
    "beneficiaryAccountNo": "888801000003301",
    "beneficiaryAccountName": "Jhon Doe",
    "amount": "20000.00",
    "merchantFee": "5000.00",
    "fee": "2500.00",
    "currency": "IDR",
    "status": "PENDING",
    "provider": "finpay",
    "providerReference": "WD019d66386b627130b90ce4d1583f9597",
    "failureReason": None,
    "createdAt": "2026-04-24T10:14:46Z",
    "updatedAt": "2026-04-24T10:14:46Z",
    "completedAt": None,
}
WITHDRAWAL_201 = _ok(201, 1772590502000, _WITHDRAWAL, requestId=CREATE_WITHDRAWAL["requestId"])
_WITHDRAWAL_DONE = {**_WITHDRAWAL, "status": "SUCCESS", "completedAt": "2026-04-24T10:15:02Z"}
WITHDRAWAL_GET = _ok(200, 1777025165108, _WITHDRAWAL_DONE)
WITHDRAWAL_LIST = _ok(
    200,
    1777024486560,
    {
        "total": 1,
        "totalCapped": False,
        "limit": 100,
        "offset": 0,
        "transactions": [_WITHDRAWAL_DONE],
    },
)
_DEPOSIT = {
    "transactionId": _TX_ID,
    "paymentInstrumentId": _VA_ID,
    "userId": _USER_ID,
    "virtualAccountNo": "662312136281234",
    "bankCode": "503",
    "provider": "topremit",
    "instrument": "va",
    "paymentRequestId": "VP12B79639406E87DC",
    "payerName": "Jhon Doe",
    "amount": "20000.00",
    "fee": "0.00",
    "netAmount": "20000.00",
    "currency": "IDR",
    "status": "COMPLETED",
    "failureReason": None,
    "trxDateTime": "2026-04-24T10:09:02Z",
    "createdAt": "2026-04-24T10:09:02Z",
}
DEPOSIT_GET = _ok(200, 1777025342784, _DEPOSIT)
DEPOSIT_LIST = _ok(
    200,
    1777025342784,
    {"total": 1, "totalCapped": False, "limit": 100, "offset": 0, "transactions": [_DEPOSIT]},
)
BALANCES = _ok(
    200,
    1779722046088,
    [
        {
            "provider": "topremit",
            "balances": [
                {
                    "vaultType": "deposit",
                    "currency": "IDR",
                    "available": "1000000.00",
                    "pending": "0.00",
                    "lastUpdated": "2026-05-25T10:00:00Z",
                },
                {
                    "vaultType": "withdrawal",
                    "currency": "IDR",
                    "available": "500000.00",
                    "pending": "20000.00",
                    "lastUpdated": "2026-05-25T10:00:00Z",
                },
            ],
        }
    ],
    requestId="006b6c7b-f11d-4a6e-ab26-cadc9b53c942",
)

CREATE_WEBHOOK = {
    "requestId": "9a7c3b1e-5d2f-4e8a-b6c4-1f0e9d8c7b6a",
    "eventType": "va_payment",
    "url": "https://merchant.example/webhooks/caci",
    "headers": {"X-Merchant-Token": "t0k3n"},
    "isActive": True,
    "description": "Deposits",
}
_WEBHOOK = {
    "id": _WEBHOOK_ID,
    "webhookId": _WEBHOOK_ID,
    "eventType": "va_payment",
    "url": "https://merchant.example/webhooks/caci",
    "headers": {"X-Merchant-Token": "t0k3n"},
    "isActive": True,
    "description": "Deposits",
    "disabledReason": None,
    "createdAt": "2026-04-21T07:55:46Z",
    "updatedAt": "2026-04-21T07:55:46Z",
}
WEBHOOK_201 = _ok(
    201,
    1776758146948,
    {**_WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    requestId=CREATE_WEBHOOK["requestId"],
)
WEBHOOK_LIST = _ok(200, 1776758536186, [_WEBHOOK])
UPDATE_WEBHOOK = {
    "requestId": "4f3e2d1c-0b9a-4887-a665-544332211009",
    "url": "https://merchant.example/webhooks/caci-v2",
    "isActive": True,
    "description": "Deposits (v2)",
}
WEBHOOK_UPDATED = _ok(
    200,
    1776759221472,
    {**_WEBHOOK, "url": UPDATE_WEBHOOK["url"], "description": "Deposits (v2)"},
    requestId=UPDATE_WEBHOOK["requestId"],
)
DELETE_WEBHOOK = {"requestId": "6b0b4af8-07e4-44fe-b4b3-32a410bbfd67"}
WEBHOOK_DELETED = _ok(
    200, 1776759320167, reason="Webhook deleted successfully", requestId=DELETE_WEBHOOK["requestId"]
)
RETRY = {
    "requestId": "df4d98f2-243f-4fba-8146-7102f0d21312",
    "transactionId": "019db014-af95-7294-8116-dee5285086e3",
}
RETRY_200 = _ok(
    200,
    1776775674878,
    {
        "transactionId": RETRY["transactionId"],
        "eventId": "019db014-b0c2-7d11-a2f3-0e4c5b6a7d8e",
        "eventType": "va_payment",
        "scheduled": [{"webhookId": _WEBHOOK_ID, "url": _WEBHOOK["url"]}],
    },
    requestId=RETRY["requestId"],
)
DELIVERIES = _ok(
    200,
    1776775674878,
    [
        {
            "id": "019db014-b1d3-7e22-b3a4-1f5d6c7b8e9f",
            "webhookId": _WEBHOOK_ID,
            "eventId": "019db014-b0c2-7d11-a2f3-0e4c5b6a7d8e",
            "eventType": "va_payment",
            "transactionId": RETRY["transactionId"],
            "url": _WEBHOOK["url"],
            "attempt": 1,
            "trigger": "initial",
            "status": "succeeded",
            "statusCode": 200,
            "latencyMs": 84,
            "responseBody": '{"ok":true}',
            "error": None,
            "nextAttemptAt": None,
            "createdAt": "2026-04-21T12:41:14Z",
        }
    ],
)
ROTATE_SECRET = {"requestId": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"}
ROTATE_SECRET_200 = _ok(
    200,
    1776775674878,
    {
        "id": _WEBHOOK_ID,
        "secret": "whsec_zT3hV6y9B2n5Q8s1X4a7D0g3J6m9P2r5",
        "previousSecretExpiresAt": "2026-04-22T12:41:14Z",
    },
    requestId=ROTATE_SECRET["requestId"],
)

_SWEEP_TRANSFER = "settlement:4f1e6c1a-2b7d-4c55-9d0e-6f5a3b2c1d00:scheduled:2026-12-01"
DEBIT_200 = _ok(
    200,
    1780016400123,
    {
        "transactionId": "019dd5b1-7c2a-7f31-8a40-2b9e5c1d0a77",
        "caciTxId": "019dd5b1-7c2a-7f31-8a40-2b9e5c1d0a77",
        "debitType": "SETTLEMENT",
        "status": "SUCCESS",
        "amount": "150000.00",
        "currency": "IDR",
        "provider": "topremit",
        "vaultType": "deposit",
        "sourceAccountNo": "topremit:deposit",
        "destinationAccountNo": "finpay:withdrawal",
        "balanceAfter": "0.00",
        "description": "Settlement T+1",
        "originalReferenceNo": _SWEEP_TRANSFER,
        "trxDateTime": "2026-11-30T17:00:00Z",
        "createdAt": "2026-11-30T17:00:00Z",
    },
)
SWEEP = {"requestId": "9a3c7e52-1d4b-4f0e-8b6a-2c5d7e9f1a30"}
SWEEP_201 = _ok(
    201,
    1780016400123,
    {
        "swept": True,
        "sweepId": "019dd5b1-7c29-7b11-9e2f-0a1b2c3d4e5f",
        "amount": "150000.00",
        "currency": "IDR",
        "targetProvider": "finpay",
        "delay": "T+0",
        "cutoff": "2026-12-01T03:00:00Z",
        "transferId": "settlement:4f1e6c1a-2b7d-4c55-9d0e-6f5a3b2c1d00:"
        "api:019dd5b1-7c29-7b11-9e2f-0a1b2c3d4e60",
        "createdAt": "2026-12-01T03:00:00Z",
    },
    requestId=SWEEP["requestId"],
)
SIMULATE_TOP_UP = {
    "requestId": "5b0f7f0e-3c55-4a8e-9d2b-1a6f0c7e2d11",
    "provider": "finpay",
    "vaultType": "withdrawal",
    "amount": "1000000.00",
}
SIMULATE_TOP_UP_201 = _ok(
    201,
    1774723700223,
    {
        "transferId": "simulator-top-up:4f1e6c1a-2b7d-4c55-9d0e-6f5a3b2c1d00:"
        "5b0f7f0e-3c55-4a8e-9d2b-1a6f0c7e2d11",
        "merchantId": "4f1e6c1a-2b7d-4c55-9d0e-6f5a3b2c1d00",
        "provider": "finpay",
        "vaultType": "withdrawal",
        "amount": "1000000.00",
        "currency": "IDR",
        "available": "1000000.00",
        "pending": "0.00",
    },
)
SIMULATE_INQUIRY = {"virtualAccountNo": "662312136281234", "bankCode": "503"}
SIMULATE_INQUIRY_200 = _ok(200, 1774723700223, _VA)
SIMULATE_PAYMENT = {
    "virtualAccountNo": "662312136281234",
    "bankCode": "503",
    "payment": {"amount": "20000.00", "currency": "IDR", "payerName": "Jhon Doe"},
}
SIMULATE_PAYMENT_201 = _ok(
    201,
    1774723700223,
    {**_DEPOSIT, "transactionId": "2f1cf3d6-65db-447e-b68c-434efbf72479"},
    transactionId="2f1cf3d6-65db-447e-b68c-434efbf72479",
)

# The seed's "Payload Schemas", verbatim.
VA_PAYMENT_EVENT = {
    "partnerServiceId": "merchant-uuid",
    "customerNo": "merchant-user-id",
    "virtualAccountNo": "1234567890",
    "trxId": "tx-uuid",
    "paymentRequestId": "tx-uuid",
    "paidAmount": {"value": "100000", "currency": "IDR"},
    "trxDateTime": "2025-01-01T10:00:00Z",
    "virtualAccountName": "John Doe",
    "virtualAccountType": "01",
    "virtualAccountPhone": "+62812345678",
    "virtualAccountEmail": "john@example.com",
    "additionalInfo": {
        "minAmount": 0,
        "maxAmount": 10000000,
        "bankCode": "BCA",
        "customerInfo": {
            "customer_id": "internal-user-uuid",
            "customer_ref_id": "merchant-user-ref",
            "given_name": "John Doe",
            "email": "john@example.com",
            "mobile": "+62812345678",
        },
        "expiredDate": "2025-01-02T00:00:00Z",
        "failureReason": None,
        "merchantUserId": "merchant-user-ref",
        "caciTxId": "tx-uuid",
    },
}
QR_PAYMENT_EVENT = {**VA_PAYMENT_EVENT, "virtualAccountType": "02"}
TRANSFER_EVENT = {
    "originalReferenceNo": "provider-reference-number",
    "originalPartnerReferenceNo": "merchant-reference",
    "responseCode": "00",
    "responseMessage": "Success",
    "amount": {"value": "500000", "currency": "IDR"},
    "paymentInstrumentId": "pi-uuid",
    "beneficiaryAccountNo": "0987654321",
    "beneficiaryBankCode": "BNI",
    "sourceAccountNo": "source-account-number",
    "additionalInfo": {"merchantUserId": "merchant-user-ref", "caciTxId": "tx-uuid"},
}
# In the style of the seed's `transfer` body; the seed lists `debit_notify` without one.
DEBIT_NOTIFY_EVENT = {
    "originalReferenceNo": _SWEEP_TRANSFER,
    "responseCode": "00",
    "responseMessage": "Success",
    "debitType": "SETTLEMENT",
    "amount": {"value": "150000.00", "currency": "IDR"},
    "provider": "topremit",
    "vaultType": "deposit",
    "sourceAccountNo": "topremit:deposit",
    "destinationAccountNo": "finpay:withdrawal",
    "trxDateTime": "2026-11-30T17:00:00Z",
    "description": "Settlement T+1",
    "additionalInfo": {"balanceAfter": "0.00", "caciTxId": "019dd5b1-7c2a-7f31-8a40-2b9e5c1d0a77"},
}
