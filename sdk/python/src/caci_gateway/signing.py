"""Request signing exactly as the CACI Clearing Gateway API document specifies.

X-Signature = lowercase hex HMAC-SHA512(api_secret, "METHOD|PATH|BODY|TIMESTAMP"), where
BODY is the JSON body with keys sorted at every depth and no whitespace (the document's
Python reference: `json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))`),
or the empty string when there is no body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def canonical_body(raw_body: str) -> str:
    """The BODY component: the raw body re-serialised with sorted keys, as the reference."""
    if not raw_body:
        return ""
    try:
        return json.dumps(json.loads(raw_body), sort_keys=True, separators=(",", ":"))
    except json.JSONDecodeError:
        return raw_body


def encode_body(body: Any) -> str:
    """The text the SDK sends: already canonical, so what is signed is what is sent."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def generate_signature(
    method: str, path: str, raw_body: str, timestamp: int | str, client_secret: str
) -> str:
    payload = f"{method.upper()}|{path}|{canonical_body(raw_body)}|{timestamp}"
    return hmac.new(
        client_secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha512
    ).hexdigest()


def signed_headers(
    *, api_key: str, api_secret: str, method: str, path: str, raw_body: str, timestamp: int
) -> dict[str, str]:
    """The three headers every /v1 request carries. GET signs an empty BODY."""
    signed_body = "" if method.upper() == "GET" else raw_body
    return {
        "X-Api-Key": api_key,
        "X-Signature": generate_signature(method, path, signed_body, timestamp, api_secret),
        "X-Timestamp": str(timestamp),
    }
