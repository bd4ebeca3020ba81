"""Topremit VA and QRIS callbacks: verify the SNAP signature over the raw body, normalise.

Topremit signs its callbacks with the same symmetric formula as our requests; the
EndpointUrl is the path of our callback URL and the AccessToken is whatever bearer token
the callback carries (docs/providers/topremit.md). The documented success reply is `{}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import CallbackReply, RawCallback
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
from clearing_gateway.providers.errors import CallbackRejected
from clearing_gateway.providers.events import PaymentReceived, ProviderEvent
from clearing_gateway.providers.topremit import NAME
from clearing_gateway.providers.topremit.signing import (
    bearer_token,
    parse_snap_timestamp,
    signatures_match,
    transaction_signature,
)


class TopremitCallbacks:
    provider = NAME

    def __init__(self, config: TopremitConfig, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.config = config
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
        expected = transaction_signature(
            self.config.callback_secret,
            "POST",
            callback.path,
            token,
            callback.body,
            headers["x-timestamp"],
            self.config.signature_encoding,  # type: ignore[arg-type]
        )
        if not signatures_match(expected, headers["x-signature"]):
            raise CallbackRejected("X-SIGNATURE does not match")

    def verify(self, callback: RawCallback) -> ProviderEvent:
        self.authenticate(callback)
        document = json_object(callback.body)
        if callback.channel == "qris":
            return self._qris(document)
        return self._virtual_account(document)

    def _virtual_account(self, document: dict[str, Any]) -> PaymentReceived:
        currency = text(document, "paidAmount", "currency")
        payment_id = optional_text(document, "additionalInfo", "paymentId") or text(
            document, "referenceNo"
        )
        status = (optional_text(document, "additionalInfo", "status") or "PAID").upper()
        if status not in ("PAID", "SUCCESS", "COMPLETED"):
            raise CallbackRejected(f"not a payment: status {status}", malformed=True)
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

    def _qris(self, document: dict[str, Any]) -> PaymentReceived:
        status = text(document, "latestTransactionStatus")
        if status != "00":
            raise CallbackRejected(
                f"not a payment: latestTransactionStatus {status}", malformed=True
            )
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
        # The signature is proof enough: Topremit signs with our shared secret.
        return event

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
