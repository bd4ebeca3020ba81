"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from standardwebhooks import Webhook as StandardWebhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32  # the spec allows 24..64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(
    *, event_id: str, body: bytes, secrets_in_use: list[str], at: dt.datetime
) -> dict[str, str]:
    """Headers for one attempt: the id is the event's (stable across retries), the
    timestamp this attempt's, one `v1,` signature per live secret (two while rotating)."""
    text = body.decode("utf-8")
    signatures = [
        StandardWebhook(secret).sign(msg_id=event_id, timestamp=at, data=text)
        for secret in secrets_in_use
    ]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
