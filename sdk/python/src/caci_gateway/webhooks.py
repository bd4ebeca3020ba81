"""Verifying the gateway's webhooks (Standard Webhooks) before anything else happens.

Every delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, several
space-separated during a secret rotation). The key is the `whsec_…` secret returned by
Create Webhook, base64-decoded after the prefix.

A verified webhook is still only a signal: confirm it through the read API
(`client.confirm(event)`) and act on the record that returns, de-duplicating on
`caci_tx_id` (see docs/sdk.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caci_gateway import models as m
from caci_gateway.errors import WebhookVerificationError

DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_CONFIRM_PATHS = {
    "va_payment": "deposit",
    "qr_payment": "deposit",
    "transfer": "withdrawal",
    "debit_notify": "debit",
}


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery. `id` (webhook-id) is the same on every retry of the event."""

    id: str
    timestamp: int
    event_type: str
    payload: dict[str, Any]
    data: m.EventPayload

    @property
    def caci_tx_id(self) -> str:
        return self.data.additional_info.caci_tx_id

    @property
    def confirm_with(self) -> str | None:
        """'deposit', 'withdrawal' or 'debit': the read API that holds the authoritative
        record."""
        return _CONFIRM_PATHS.get(self.event_type)


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret must be the whsec_… value from Create Webhook") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,…` signature the gateway sends (useful to test a receiver)."""
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def infer_event_type(payload: Mapping[str, Any]) -> str:
    """Each webhook URL is registered for one event type; without that, infer it."""
    if "paidAmount" in payload:
        return "qr_payment" if payload.get("virtualAccountType") == "02" else "va_payment"
    if "responseCode" in payload and "beneficiaryAccountNo" in payload:
        return "transfer"
    return "debit_notify"


def _parse(event_type: str, payload: dict[str, Any]) -> m.EventPayload:
    if event_type in ("va_payment", "qr_payment"):
        return m.VaPaymentEvent.model_validate(payload)
    if event_type == "transfer":
        return m.TransferEvent.model_validate(payload)
    return m.DebitNotifyEvent.model_validate(payload)


class WebhookVerifier:
    """`WebhookVerifier(secret).verify(raw_body, headers)` -> WebhookEvent, or raises
    WebhookVerificationError (answer 400 and do nothing). Give both secrets while
    rotating: `WebhookVerifier([new_secret, old_secret])`."""

    def __init__(
        self,
        secrets: str | Sequence[str],
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = [secrets] if isinstance(secrets, str) else list(secrets)
        if not self._secrets:
            raise ValueError("at least one webhook secret is required")
        for secret in self._secrets:
            _key(secret)
        self.tolerance_seconds = tolerance_seconds
        self._clock = clock

    def verify(
        self,
        body: bytes | str,
        headers: Mapping[str, str],
        *,
        event_type: str | None = None,
    ) -> WebhookEvent:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get("webhook-id")
        stamp = lowered.get("webhook-timestamp")
        signatures = lowered.get("webhook-signature")
        if not msg_id or not stamp or not signatures:
            raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise WebhookVerificationError("webhook-timestamp is not Unix seconds") from None
        if abs(self._clock() - timestamp) > self.tolerance_seconds:
            raise WebhookVerificationError("webhook-timestamp outside the tolerance")
        expected = [sign(secret, msg_id, timestamp, raw) for secret in self._secrets]
        offered = [s for s in signatures.split(" ") if s.startswith("v1,")]
        if not any(
            hmac.compare_digest(candidate.encode(), wanted.encode())
            for candidate in offered
            for wanted in expected
        ):
            raise WebhookVerificationError("no webhook-signature matches")
        try:
            payload = json.loads(raw)
        except ValueError:
            raise WebhookVerificationError("body is not JSON") from None
        if not isinstance(payload, dict):
            raise WebhookVerificationError("body is not a JSON object")
        kind = event_type or infer_event_type(payload)
        try:
            data = _parse(kind, payload)
        except ValueError as exc:
            raise WebhookVerificationError(f"payload is not a {kind} event: {exc}") from None
        return WebhookEvent(msg_id, timestamp, kind, payload, data)
