"""Topremit VA and QRIS callbacks: verify the SNAP signature over the raw body, normalise.

Topremit signs its callbacks with the same symmetric formula as our requests; the
EndpointUrl is the path of our callback URL and the AccessToken is whatever bearer token
the callback carries (docs/providers/topremit.md). The documented success reply is `{}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import CallbackReply, RawCallback, VirtualAccount
from clearing_gateway.providers.callback_kit import (
    compact_json,
    decimal_string_amount,
    field,
    json_object,
    optional_text,
    text,
    timestamp,
    within_window,
)
from clearing_gateway.providers.config import TopremitConfig
from clearing_gateway.providers.errors import (
    CallbackIgnored,
    CallbackRejected,
    ProviderNotYetConfirmed,
)
from clearing_gateway.providers.events import PaymentReceived, ProviderEvent
from clearing_gateway.providers.topremit import NAME
from clearing_gateway.providers.topremit.client import TopremitClient
from clearing_gateway.providers.topremit.signing import (
    bearer_token,
    parse_snap_timestamp,
    signatures_match,
    transaction_signature,
)

PAID = ("PAID", "SUCCESS", "COMPLETED")
# The example-shape body carries no amount until the VA inquiry supplies it.
AMOUNT_UNKNOWN = 0


def is_qris(document: dict[str, Any]) -> bool:
    info = document.get("additionalInfo")
    kind = str(info.get("type", "")).upper() if isinstance(info, dict) else ""
    return kind == "QRIS" or (
        kind != "VIRTUAL_ACCOUNT"
        and "originalReferenceNo" in document
        and "virtualAccountNo" not in document
    )


class TopremitCallbacks:
    provider = NAME

    def __init__(
        self,
        config: TopremitConfig,
        client: TopremitClient | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.config = config
        self.client = client
        self.clock = clock

    def authenticate(self, callback: RawCallback) -> None:
        headers = callback.headers
        for name in ("x-timestamp", "x-signature", "x-partner-id", "x-external-id"):
            if not headers.get(name):
                raise CallbackRejected(f"missing header {name.upper()}")
        if headers["x-partner-id"] != self.config.partner_id:
            raise CallbackRejected("X-PARTNER-ID is not ours")
        moment = parse_snap_timestamp(headers["x-timestamp"])
        if moment is None:
            raise CallbackRejected("X-TIMESTAMP is not ISO-8601 with an offset")
        if not within_window(moment, self.clock(), self.config.callback_window_seconds):
            raise CallbackRejected("X-TIMESTAMP outside the accepted window")
        token = bearer_token(headers.get("authorization")) or ""
        matches = [
            signatures_match(
                transaction_signature(
                    self.config.callback_secret,
                    "POST",
                    path,
                    token,
                    callback.body,
                    headers["x-timestamp"],
                    self.config.signature_encoding,  # type: ignore[arg-type]
                ),
                headers["x-signature"],
            )
            for path in callback.paths()
        ]
        if not any(matches):
            raise CallbackRejected("X-SIGNATURE does not match")

    def verify(self, callback: RawCallback) -> ProviderEvent:
        self.authenticate(callback)
        document = json_object(callback.body)
        # The body decides what was paid, whichever of our two URLs it reached.
        if is_qris(document):
            return self._qris(document)
        if isinstance(document.get("virtualAccountData"), dict):
            return self._virtual_account_example(document)
        return self._virtual_account(document)

    def _virtual_account(self, document: dict[str, Any]) -> PaymentReceived:
        """The callback page's field table: the paid amount is in the body."""
        status = (optional_text(document, "additionalInfo", "status") or "PAID").upper()
        if status not in PAID:
            raise CallbackIgnored(f"not a payment: status {status}")
        currency = text(document, "paidAmount", "currency")
        # One rule: the payment id is `paymentId`. Falling back to `referenceNo` could
        # give one payment two keys (and two credits) when deliveries differ.
        payment_id = text(document, "additionalInfo", "paymentId")
        return PaymentReceived(
            provider=NAME,
            event_key=f"va:{payment_id}",
            instrument="va",
            virtual_account_no=text(document, "virtualAccountNo"),
            reference=text(document, "trxId"),
            amount=decimal_string_amount(
                field(document, "paidAmount", "value"), currency, "paidAmount.value"
            ),
            currency=currency,
            paid_at=timestamp(
                optional_text(document, "additionalInfo", "paidAt")
                or optional_text(document, "trxDateTime")
            ),
            payer_name=optional_text(document, "additionalInfo", "payerName")
            or optional_text(document, "virtualAccountName"),
            provider_payment_id=payment_id,
            raw=document,
        )

    def _virtual_account_example(self, document: dict[str, Any]) -> PaymentReceived:
        """The callback page's example: `virtualAccountData{…, paymentId, status}` and no
        amount. The amount is read from the VA inquiry in `confirm` (AMOUNT_UNKNOWN
        until then), so this shape never credits what the body alone says."""
        status = (optional_text(document, "virtualAccountData", "status") or "").upper()
        if status not in PAID:
            raise CallbackIgnored(f"not a payment: status {status or 'missing'}")
        payment_id = text(document, "virtualAccountData", "paymentId")
        return PaymentReceived(
            provider=NAME,
            event_key=f"va:{payment_id}",
            instrument="va",
            virtual_account_no=text(document, "virtualAccountData", "virtualAccountNo"),
            reference=text(document, "virtualAccountData", "trxId"),
            amount=AMOUNT_UNKNOWN,
            currency="IDR",
            provider_payment_id=payment_id,
            raw=document,
        )

    def _qris(self, document: dict[str, Any]) -> PaymentReceived:
        status = text(document, "latestTransactionStatus")
        if status != "00":
            raise CallbackIgnored(f"not a payment: latestTransactionStatus {status}")
        currency = text(document, "amount", "currency")
        reference_no = text(document, "originalReferenceNo")
        return PaymentReceived(
            provider=NAME,
            event_key=f"qris:{reference_no}",
            instrument="qris",
            reference=text(document, "originalPartnerReferenceNo"),
            amount=decimal_string_amount(
                field(document, "amount", "value"), currency, "amount.value"
            ),
            currency=currency,
            paid_at=timestamp(optional_text(document, "paidTime")),
            payer_name=optional_text(document, "additionalInfo", "payerName"),
            provider_payment_id=optional_text(document, "additionalInfo", "paymentId")
            or reference_no,
            raw=document,
        )

    async def confirm(self, event: ProviderEvent) -> ProviderEvent:
        # The signature is proof enough for a body that states its amount: Topremit signs
        # with our shared secret. A body without one is completed from the VA inquiry.
        if not isinstance(event, PaymentReceived) or event.amount != AMOUNT_UNKNOWN:
            return event
        if self.client is None:
            raise ProviderNotYetConfirmed(NAME, "no client to read the amount paid")
        data = event.raw.get("virtualAccountData", {})
        account = await self.client.inquire_virtual_account(
            VirtualAccount(
                provider=NAME,
                reference=event.reference or "",
                virtual_account_no=event.virtual_account_no or "",
                customer_no=str(data.get("customerNo", "")),
                bank_code="",
                status="",
                amount=None,
                currency=event.currency,
                expires_at=None,
                provider_payment_id=None,
            )
        )
        if account.provider_payment_id != event.provider_payment_id or account.amount is None:
            # An open-amount VA's inquiry does not state what a payment brought.
            raise ProviderNotYetConfirmed(
                NAME, f"the VA inquiry does not state the amount of {event.provider_payment_id}"
            )
        if account.status not in PAID:
            raise ProviderNotYetConfirmed(NAME, f"the VA inquiry says {account.status}")
        return replace(event, amount=account.amount, currency=account.currency)

    def accepted(self) -> CallbackReply:
        return CallbackReply(200, b"{}")

    def rejected(self, error: CallbackRejected) -> CallbackReply:
        status = 400 if error.malformed else 401
        code = "4002500" if error.malformed else "4012500"
        message = "Bad Request" if error.malformed else "Unauthorized"
        return CallbackReply(
            status, compact_json({"responseCode": code, "responseMessage": message})
        )

    def unavailable(self) -> CallbackReply:
        return CallbackReply(
            503, compact_json({"responseCode": "5002500", "responseMessage": "General Error"})
        )
