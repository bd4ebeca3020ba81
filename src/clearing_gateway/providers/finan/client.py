"""The Finan connector: signed calls, payment requests (cash-in) and payouts."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from clearing_gateway.kit.money import AmountError, exponent
from clearing_gateway.providers.base import (
    PaymentRequest,
    PaymentRequestCreated,
    TransferRequest,
    TransferStatus,
)
from clearing_gateway.providers.callback_kit import strict_number
from clearing_gateway.providers.config import FinanConfig
from clearing_gateway.providers.errors import (
    CallbackRejected,
    ProviderNotYetConfirmed,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from clearing_gateway.providers.events import (
    DisbursementStatus,
    DisbursementStatusChanged,
    PaymentReceived,
)
from clearing_gateway.providers.finan import NAME
from clearing_gateway.providers.finan.signing import signature
from clearing_gateway.providers.transport import operation_name, send

PAYOUT_STATUS: dict[str, DisbursementStatus] = {
    "waiting_confirm": DisbursementStatus.PENDING,
    "processing": DisbursementStatus.PENDING,
    "settling": DisbursementStatus.PENDING,
    "success": DisbursementStatus.SUCCESS,
    "completed": DisbursementStatus.SUCCESS,
    "failed": DisbursementStatus.FAILED,
    "cancelled": DisbursementStatus.FAILED,
    "refunded": DisbursementStatus.REFUNDED,
}
PAID_STATUSES = {"paid", "extra_paid", "partial_paid"}


def map_payout_status(status: str) -> DisbursementStatus:
    return PAYOUT_STATUS.get(status.strip().lower(), DisbursementStatus.PENDING)


def to_units(minor: int, currency: str) -> int:
    """Finan amounts are integers of the currency's major unit (VND; whole rupiah)."""
    factor = 10 ** exponent(currency)
    if minor % factor:
        raise ProviderRejected(NAME, "LOCAL", f"Finan takes whole {currency} amounts only")
    return minor // factor


def from_units(value: Any, currency: str) -> int | None:
    """A Finan amount → minor units, or None when it is not a positive exact amount (a
    truncated, negative, non-finite or oversized amount never reaches the ledger)."""
    try:
        return strict_number(value, currency)
    except AmountError:
        return None


def matching(items: Any, reference: str) -> dict[str, Any] | None:
    """The listed item whose `reference_id` is the one asked for: Finan's filter is
    assumed, not documented, so a list is never trusted to hold only matches."""
    if not isinstance(items, list):
        return None
    return next(
        (
            item
            for item in items
            if isinstance(item, dict) and str(item.get("reference_id", "")) == reference
        ),
        None,
    )


class FinanClient:
    name = NAME

    def __init__(self, config: FinanConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        # Finan signs paths without its `/open` prefix; the base URL carries the prefix.
        self._prefix = urlsplit(config.base_url).path.rstrip("/")

    async def _call(
        self, method: str, path: str, document: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = (
            json.dumps(document, separators=(",", ":"), ensure_ascii=False) if document else ""
        )
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "x-client-id": self.config.client_id,
            "x-timestamp": timestamp,
            "x-signature": signature(self.config.secret_key, method, path, payload, timestamp),
        }
        url = self.config.base_url.rstrip("/") + path
        response = await send(
            self.http,
            NAME,
            method,
            url,
            headers=headers,
            content=payload.encode("utf-8") if payload else None,
            operation=operation_name(method, path),
        )
        body = response.body
        if 200 <= response.status_code < 300:
            data = body.get("data")
            if data is None:
                raise ProviderOutcomeUnknown(NAME, f"answer without data from {path}")
            return body
        message = body.get("message")
        content = message.get("content") if isinstance(message, dict) else message
        raise ProviderRejected(
            NAME,
            str(body.get("code", response.status_code)),
            str(content or ""),
            http_status=response.status_code,
        )

    # -- cash-in ----------------------------------------------------------------------

    async def create_payment_request(self, request: PaymentRequest) -> PaymentRequestCreated:
        body = await self._call(
            "POST",
            "/api/v1/payments",
            {
                "account_id": self.config.account_id,
                "amount": to_units(request.amount, request.currency),
                "currency": request.currency,
                "payment_method": "bank_transfer",
                "reference_id": request.reference,
                "reference_type": "invoice",
                "description": request.description,
                "customer": {"name": request.customer_name},
            },
        )
        data = body["data"]
        return PaymentRequestCreated(
            provider=NAME,
            reference=request.reference,
            provider_payment_id=str(data.get("id")),
            status=str(data.get("status", "unpaid")),
            amount=request.amount,
            currency=request.currency,
            payment_url=data.get("payment_url"),
            qr_code=data.get("qr_code"),
            raw=body,
        )

    async def get_payment(self, payment_id: str) -> dict[str, Any]:
        data = (await self._call("GET", f"/api/v1/payments/{quote(payment_id, safe='')}"))["data"]
        if not isinstance(data, dict):
            raise ProviderOutcomeUnknown(NAME, "payment answer is not an object")
        return data

    async def find_payment(self, reference: str) -> dict[str, Any] | None:
        body = await self._call("GET", f"/api/v1/payments?reference_id={quote(reference, safe='')}")
        return matching(body["data"], reference)

    async def confirm_payment(self, event: PaymentReceived) -> PaymentReceived:
        """Finan's webhooks are unauthenticated: the payment must exist and be paid.

        A payment Finan does not know is refused (a forgery, 401). A payment it knows but
        does not show as paid *yet* raises `ProviderNotYetConfirmed`: the read API can lag
        the webhook, so the callback is kept and asked about again (503, reconciliation).
        """
        try:
            if event.provider_payment_id and not event.provider_payment_id.startswith("txn:"):
                payment: dict[str, Any] | None = await self.get_payment(event.provider_payment_id)
            else:
                payment = await self.find_payment(event.reference or "")
        except ProviderRejected as error:
            if error.http_status is not None and error.http_status >= 500:
                raise ProviderOutcomeUnknown(NAME, error.message) from None
            raise CallbackRejected(f"Finan does not confirm the payment: {error.message}") from None
        if not payment:
            raise CallbackRejected("Finan does not know this payment")
        return self.paid_event(event, payment)

    def paid_event(self, event: PaymentReceived, payment: dict[str, Any]) -> PaymentReceived:
        """The event as Finan's read API states it: its cumulative `paid_amount`, its
        payment id and its reference, under a key that changes only when more is paid
        (a callback and a reconciliation pass that see the same state share the key)."""
        status = str(payment.get("status", "")).lower()
        payment_id = str(payment.get("id") or "")
        if status not in PAID_STATUSES:
            raise ProviderNotYetConfirmed(
                NAME, f"Finan does not show payment {payment_id} as paid yet (status {status})"
            )
        reference = payment.get("reference_id")
        if not isinstance(reference, str) or not reference or not payment_id:
            # Never fall back to the webhook's own (unauthenticated) reference.
            raise CallbackRejected("Finan's payment has no id or reference_id")
        if event.reference and event.reference != reference:
            raise CallbackRejected("the webhook's reference is not the payment's")
        currency = str(payment.get("currency", event.currency))
        paid = from_units(payment.get("paid_amount"), currency)
        if paid is None:
            raise CallbackRejected(f"Finan's paid_amount {payment.get('paid_amount')!r} is refused")
        return replace(
            event,
            event_key=f"payment:{payment_id}:paid:{paid}",
            amount=paid,
            currency=currency,
            provider_payment_id=payment_id,
            reference=reference,
            cumulative=True,
        )

    # -- payouts ----------------------------------------------------------------------

    async def transfer(self, request: TransferRequest) -> TransferStatus:
        created = await self._call(
            "POST",
            "/api/v1/payouts",
            {
                "account_id": self.config.account_id,
                "amount": to_units(request.amount, request.currency),
                "beneficiary_account_name": request.account_name,
                "beneficiary_account_number": request.account_no,
                "beneficiary_bank_id": request.bank_code,
                "currency": request.currency,
                "reference_id": request.reference,
                "description": request.description[:30],
            },
        )
        payout_id = str(created["data"].get("id"))
        try:
            confirmed = await self._confirm_otp(payout_id)
        except ProviderRejected as rejected:
            # The payout exists but its OTP step was refused: it moves no money unless
            # confirmed, and Finan cancels it when the OTP expires. Check Status resumes it.
            raise ProviderOutcomeUnknown(
                NAME, f"payout {payout_id} created, OTP refused: {rejected}"
            ) from None
        return self._status(request.reference, confirmed, request.amount)

    async def _confirm_otp(self, payout_id: str) -> dict[str, Any]:
        """The OTP step with the configured static pass code (an automated payout)."""
        confirmed = await self._call(
            "POST",
            f"/api/v1/payouts/{quote(payout_id, safe='')}/otps",
            {"pass_code": self.config.payout_pass_code},
        )
        data = confirmed["data"]
        if not isinstance(data, dict):
            raise ProviderOutcomeUnknown(NAME, "OTP answer is not an object")
        return data

    async def check_status(self, reference: str) -> TransferStatus:
        body = await self._call("GET", f"/api/v1/payouts?reference_id={quote(reference, safe='')}")
        payout = matching(body["data"], reference)
        if payout is None:
            return TransferStatus(NAME, reference, None, DisbursementStatus.NOT_FOUND, "not_found")
        if str(payout.get("status", "")).lower() == "waiting_confirm" and payout.get("id"):
            # An OTP step that never finished (its answer was lost): finish it now, or the
            # payout would wait until Finan cancels it. A refusal leaves it as it is.
            with contextlib.suppress(ProviderRejected):
                payout = await self._confirm_otp(str(payout["id"]))
        return self._status(
            reference, payout, from_units(payout.get("amount"), str(payout.get("currency", "IDR")))
        )

    @staticmethod
    def _status(reference: str, data: dict[str, Any], amount: int | None) -> TransferStatus:
        status = str(data.get("status", "processing"))
        return TransferStatus(
            provider=NAME,
            reference=reference,
            provider_reference=str(data.get("id")) if data.get("id") else None,
            status=map_payout_status(status),
            provider_status_code=status,
            message=str(data.get("otp_status", "")),
            amount=amount,
            raw=data,
        )

    async def confirm(self, event: DisbursementStatusChanged) -> DisbursementStatusChanged:
        status = await self.check_status(event.reference)
        if status.status is DisbursementStatus.NOT_FOUND:
            raise CallbackRejected("Finan does not know this payout")
        if event.amount is not None and status.amount is not None and event.amount != status.amount:
            raise CallbackRejected("amount differs from Finan's payout")
        return event.with_status(status.status, status.provider_status_code, status.message)
