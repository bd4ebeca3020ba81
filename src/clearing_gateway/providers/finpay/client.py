"""The Finpay connector: account inquiry, transfer, check status, notification confirmation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.providers.banks import normalise_bank_code
from clearing_gateway.providers.base import AccountInquiry, TransferRequest, TransferStatus
from clearing_gateway.providers.config import FinpayConfig
from clearing_gateway.providers.errors import (
    CallbackRejected,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from clearing_gateway.providers.events import DisbursementStatus, DisbursementStatusChanged
from clearing_gateway.providers.finpay import NAME
from clearing_gateway.providers.finpay.signing import basic_authorization
from clearing_gateway.providers.sandbox_magic import HOLDER_HINT_HEADER, encode_hint
from clearing_gateway.providers.transport import send, snap_success

PREFIX = "/pg/payment/card/disbursement"
SUCCESS_CODE = "2000000"
# latestTransactionStatus → our normalised status (seed 003).
STATUS_MAP: dict[str, DisbursementStatus] = {
    "00": DisbursementStatus.SUCCESS,
    "01": DisbursementStatus.PENDING,
    "02": DisbursementStatus.PENDING,
    "03": DisbursementStatus.PENDING,
    "04": DisbursementStatus.REFUNDED,
    "05": DisbursementStatus.FAILED,
    "06": DisbursementStatus.FAILED,
    "07": DisbursementStatus.NOT_FOUND,
}
STATUS_TEXT = {
    "00": "Success",
    "01": "Initiated",
    "02": "Paying",
    "03": "Pending",
    "04": "Refunded",
    "05": "Cancelled",
    "06": "Failed",
    "07": "Not found",
}


def map_status(code: str) -> DisbursementStatus:
    # An unknown code is never final: treat it as still pending.
    return STATUS_MAP.get(code, DisbursementStatus.PENDING)


def rupiah(minor: int) -> int:
    """Finpay's transfer amount is a JSON number of whole rupiah."""
    if minor % 100:
        raise ProviderRejected(NAME, "LOCAL", "Finpay transfers whole rupiah only")
    return minor // 100


class FinpayClient:
    name = NAME

    def __init__(self, config: FinpayConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    def _headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": basic_authorization(self.config.merchant_id, self.config.merchant_key),
        }

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + PREFIX + path

    async def inquire_account(
        self, bank_code: str, account_no: str, *, holder_hint: str | None = None
    ) -> AccountInquiry:
        bank = normalise_bank_code(bank_code)
        path = f"/inquiry/{quote(bank, safe='')}/{quote(account_no, safe='')}"
        headers = self._headers()
        if holder_hint and self.config.sandbox_hints:
            headers[HOLDER_HINT_HEADER] = encode_hint(holder_hint)
        response = await send(
            self.http, NAME, "GET", self._url(path), headers=headers, operation="GET inquiry"
        )
        body = snap_success(NAME, response)
        name = body.get("destAccName")
        if not isinstance(name, str) or not name:
            raise ProviderOutcomeUnknown(NAME, "inquiry answer without destAccName")
        return AccountInquiry(
            provider=NAME,
            bank_code=bank,
            account_no=account_no,
            account_name=name,
            fee=_fee(body.get("feeAmount")),
            inquiry_reference=_str(body.get("refCode")),
        )

    async def transfer(self, request: TransferRequest) -> TransferStatus:
        if not request.inquiry_reference:
            raise ProviderRejected(NAME, "LOCAL", "Finpay needs the refCode of an account inquiry")
        document = {
            "order": {"id": request.reference},
            "disbursement": {
                "refCode": request.inquiry_reference,
                "amount": rupiah(request.amount),
                "destAccName": request.account_name,
                "destAccNumber": request.account_no,
                "destBankCode": normalise_bank_code(request.bank_code),
            },
        }
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        response = await send(
            self.http,
            NAME,
            "POST",
            self._url("/transfer"),
            headers=self._headers(),
            content=body,
            operation="POST transfer",
        )
        answer = snap_success(NAME, response)
        code = str(answer.get("latestTransactionStatus", "01"))
        return TransferStatus(
            provider=NAME,
            reference=request.reference,
            provider_reference=_str(answer.get("referenceNo")),
            status=map_status(code),
            provider_status_code=code,
            message=str(answer.get("responseMessage", "")),
            amount=request.amount,
            raw=answer,
            fee=_provider_fee(answer.get("feeAmount")),
        )

    async def check_status(self, reference: str) -> TransferStatus:
        path = f"/check/{quote(reference, safe='')}"
        response = await send(
            self.http, NAME, "GET", self._url(path), headers=self._headers(), operation="GET check"
        )
        body = response.body
        code = str(body.get("latestTransactionStatus", ""))
        # Only Finpay's explicit "07 Not found" proves absence. Any other 404 (a wrong path,
        # an API gateway or a WAF answering JSON) proves nothing and licenses no resend.
        if code == "07":
            return TransferStatus(
                NAME,
                reference,
                None,
                DisbursementStatus.NOT_FOUND,
                "07",
                str(body.get("responseMessage", "Not found")),
                raw=body,
            )
        if not 200 <= response.status_code < 300:
            # A failed look-up says nothing about the transfer: unknown, never "absent".
            raise ProviderOutcomeUnknown(
                NAME, f"Check Status answered HTTP {response.status_code} without an explicit 07"
            )
        body = snap_success(NAME, response)
        amount = None
        if isinstance(body.get("amount"), dict):
            try:
                amount = parse_amount(body["amount"].get("value"), "IDR")
            except AmountError:
                amount = None
        return TransferStatus(
            provider=NAME,
            reference=reference,
            provider_reference=_str(body.get("referenceNo")),
            status=map_status(code),
            provider_status_code=code,
            message=STATUS_TEXT.get(code, str(body.get("responseMessage", ""))),
            amount=amount,
            raw=body,
            fee=_provider_fee(body.get("feeAmount")),
        )

    async def balance(self) -> int:
        """Our current balance at Finpay, in minor units (assumed `GET …/balance`)."""
        response = await send(
            self.http,
            NAME,
            "GET",
            self._url("/balance"),
            headers=self._headers(),
            operation="GET balance",
        )
        body = snap_success(NAME, response)
        value = body.get("balance")
        try:
            return parse_amount(value.get("value") if isinstance(value, dict) else None, "IDR")
        except AmountError:
            raise ProviderOutcomeUnknown(NAME, "balance answer without a balance") from None

    async def confirm(self, event: DisbursementStatusChanged) -> DisbursementStatusChanged:
        """Finpay's own advice: trust a notification only once Check Status agrees.

        The status from Check Status wins; a transfer Finpay does not know, or one whose
        amount differs, makes the notification a forgery (`CallbackRejected`)."""
        status = await self.check_status(event.reference)
        if status.status is DisbursementStatus.NOT_FOUND:
            raise CallbackRejected("Check Status does not know this transfer")
        if event.amount is not None and status.amount is not None and event.amount != status.amount:
            raise CallbackRejected("amount differs from Check Status")
        if (
            event.provider_reference
            and status.provider_reference
            and event.provider_reference != status.provider_reference
        ):
            raise CallbackRejected("originalReferenceNo differs from Check Status")
        return event.with_status(status.status, status.provider_status_code, status.message)


def _fee(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return round(value * 100)


def _provider_fee(value: Any) -> int | None:
    """feeAmount in whole rupiah (a JSON integer), in minor units; anything else unknown."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value * 100


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
