"""Finpay disbursement notifications (seed 003).

Verified with `hash_hmac("sha512", json_encode($fields), $key)` over the body without
its signature field, then confirmed with Check Status before anything moves. The reply
is the documented `{"responseCode":"2000000","responseMessage":"Success",...}`.
"""

from __future__ import annotations

import time

from clearing_gateway.providers.base import CallbackReply, RawCallback
from clearing_gateway.providers.callback_kit import (
    compact_json,
    decimal_string_amount,
    json_object,
    optional_text,
    text,
)
from clearing_gateway.providers.config import FinpayConfig
from clearing_gateway.providers.errors import CallbackRejected
from clearing_gateway.providers.events import DisbursementStatusChanged, ProviderEvent
from clearing_gateway.providers.finpay import NAME
from clearing_gateway.providers.finpay.client import STATUS_TEXT, FinpayClient, map_status
from clearing_gateway.providers.finpay.signing import signature_matches


class FinpayCallbacks:
    provider = NAME

    def __init__(self, config: FinpayConfig, client: FinpayClient) -> None:
        self.config = config
        self.client = client
        self._started = time.monotonic()

    def verify(self, callback: RawCallback) -> ProviderEvent:
        document = json_object(callback.body)
        given = document.pop(self.config.signature_field, None) or callback.headers.get(
            "x-signature"
        )
        if not isinstance(given, str) or not given:
            raise CallbackRejected("no signature")
        if not signature_matches(document, self.config.merchant_key, given):
            raise CallbackRejected("signature does not match")
        code = text(document, "latestTransactionStatus")
        reference = optional_text(document, "originalPartnerReferenceNo") or text(
            document, "originalPartnerReferanceNo"
        )
        provider_reference = text(document, "originalReferenceNo")
        amount = currency = None
        if isinstance(document.get("amount"), dict):
            currency = text(document, "amount", "currency")
            amount = decimal_string_amount(
                document["amount"].get("value"), currency, "amount.value"
            )
        return DisbursementStatusChanged(
            provider=NAME,
            event_key=f"{provider_reference}:{code}",
            reference=reference,
            provider_reference=provider_reference,
            status=map_status(code),
            provider_status_code=code,
            message=STATUS_TEXT.get(code, ""),
            amount=amount,
            currency=currency,
            raw=document,
        )

    async def confirm(self, event: ProviderEvent) -> ProviderEvent:
        assert isinstance(event, DisbursementStatusChanged)
        return await self.client.confirm(event)

    def accepted(self) -> CallbackReply:
        return CallbackReply(
            200,
            compact_json(
                {"responseCode": "2000000", "responseMessage": "Success", "processingTime": 0.01}
            ),
        )

    def rejected(self, error: CallbackRejected) -> CallbackReply:
        if error.malformed:
            return CallbackReply(
                400, compact_json({"responseCode": "4000000", "responseMessage": "Bad Request"})
            )
        return CallbackReply(
            401, compact_json({"responseCode": "4010000", "responseMessage": "Unauthorized"})
        )

    def unavailable(self) -> CallbackReply:
        return CallbackReply(
            503, compact_json({"responseCode": "5000000", "responseMessage": "General Error"})
        )
