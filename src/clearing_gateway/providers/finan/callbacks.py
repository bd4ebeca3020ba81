"""Finan's balance webhook (seed 001): `{data, type, client_id}`.

Finan documents no webhook authentication. When the request carries Finan's own
`x-client-id / x-signature / x-timestamp` headers they must check out; either way the
event is confirmed through Finan's read API before it can move money. Anything that
does not check out is answered 401, as the seed shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import CallbackReply, RawCallback
from clearing_gateway.providers.callback_kit import (
    compact_json,
    field,
    json_object,
    number_amount,
    optional_text,
    text,
    timestamp,
    within_window,
)
from clearing_gateway.providers.config import FinanConfig
from clearing_gateway.providers.errors import CallbackIgnored, CallbackRejected
from clearing_gateway.providers.events import (
    DisbursementStatusChanged,
    PaymentReceived,
    ProviderEvent,
)
from clearing_gateway.providers.finan import NAME
from clearing_gateway.providers.finan.client import FinanClient, map_payout_status
from clearing_gateway.providers.finan.signing import signature, signature_matches

DEFAULT_CURRENCY = "IDR"


class FinanCallbacks:
    provider = NAME

    def __init__(
        self, config: FinanConfig, client: FinanClient, clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.config = config
        self.client = client
        self.clock = clock

    def authenticate(self, callback: RawCallback) -> None:
        headers = callback.headers
        given = headers.get("x-signature")
        if given is None:
            if self.config.webhook_secret:
                raise CallbackRejected("x-signature is required")
            return  # undocumented scheme: confirmation through the read API decides
        if headers.get("x-client-id") != self.config.client_id:
            raise CallbackRejected("x-client-id is not ours")
        stamp = headers.get("x-timestamp", "")
        if not stamp.isdigit():
            raise CallbackRejected("x-timestamp is not Unix seconds")
        moment = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        if not within_window(moment, self.clock(), self.config.window_seconds):
            raise CallbackRejected("x-timestamp outside the 30 s window")
        body = callback.body.decode("utf-8", "replace")
        secret = self.config.webhook_secret or self.config.secret_key
        matches = [
            signature_matches(signature(secret, "POST", path, body, stamp), given)
            for path in callback.paths()
        ]
        if not any(matches):
            raise CallbackRejected("x-signature does not match")

    def verify(self, callback: RawCallback) -> ProviderEvent:
        self.authenticate(callback)
        document = json_object(callback.body)
        if text(document, "client_id") != self.config.client_id:
            raise CallbackRejected("client_id is not ours")
        kind = text(document, "type")
        data = field(document, "data")
        if not isinstance(data, dict):
            raise CallbackRejected("data is not an object", malformed=True)
        if kind == "create_payment":
            payment_id = text(data, "payment_id")
            # One payment id takes several payments (partial, then the rest): the key names
            # this transfer; confirmation re-keys it by the payment's running total.
            step = optional_text(data, "transaction_code") or str(field(data, "amount"))
            return PaymentReceived(
                provider=NAME,
                event_key=f"payment:{payment_id}:{step}",
                instrument="cashin",
                reference=optional_text(data, "reference_code"),
                amount=number_amount(field(data, "amount"), DEFAULT_CURRENCY, "amount"),
                currency=DEFAULT_CURRENCY,
                paid_at=timestamp(data.get("transaction_at")),
                payer_name=optional_text(data, "account_receiver_name"),
                provider_payment_id=payment_id,
                raw=document,
            )
        if kind == "cashin":
            status = text(data, "status")
            if status.lower() != "completed":
                raise CallbackIgnored(f"cash-in status {status}")
            currency = text(data, "currency_code")
            transaction_id = text(data, "transaction_id")
            return PaymentReceived(
                provider=NAME,
                event_key=f"cashin:{transaction_id}",
                instrument="cashin",
                reference=text(data, "reference_id"),
                amount=number_amount(field(data, "total_amount"), currency, "total_amount"),
                currency=currency,
                paid_at=timestamp(data.get("settled_at") or data.get("created_at")),
                payer_name=None,
                provider_payment_id=f"txn:{transaction_id}",
                raw=document,
            )
        if kind == "cashout":
            status = text(data, "status")
            currency = text(data, "currency_code")
            reference = text(data, "reference_id")
            mapped = map_payout_status(status)
            return DisbursementStatusChanged(
                provider=NAME,
                event_key=f"cashout:{reference}:{status.lower()}",
                reference=reference,
                provider_reference=optional_text(data, "provider_payment_number"),
                status=mapped,
                provider_status_code=status,
                message=optional_text(data, "note") or "",
                amount=number_amount(field(data, "amount"), currency, "amount"),
                currency=currency,
                raw=document,
            )
        raise CallbackRejected(f"unknown webhook type {kind!r}", malformed=True)

    async def confirm(self, event: ProviderEvent) -> ProviderEvent:
        if isinstance(event, PaymentReceived):
            return await self.client.confirm_payment(event)
        return await self.client.confirm(event)

    def accepted(self) -> CallbackReply:
        return CallbackReply(200, compact_json({"message": "Success"}))

    def rejected(self, error: CallbackRejected) -> CallbackReply:
        return CallbackReply(401, compact_json({"message": "Unauthorized"}))

    def unavailable(self) -> CallbackReply:
        return CallbackReply(503, compact_json({"message": "Service Unavailable"}))
