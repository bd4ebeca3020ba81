"""Finan's request signature.

    x-signature = lowercase hex SHA-256("{secret}_{METHOD}_{path}_{payload}_{timestamp}")

A plain digest with the secret inside the message (the docs call it HMAC; their Go sample
is plain SHA-256). `path` is relative, without the `/open` prefix, query included;
`payload` is the compact body exactly as sent, empty for GET; `timestamp` is Unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, method: str, path: str, payload: str, timestamp: str) -> str:
    message = f"{secret}_{method.upper()}_{path}_{payload}_{timestamp}"
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def relative_path(path: str, prefix: str = "/open") -> str:
    """`/open/api/v1/payments?x=1` → `/api/v1/payments?x=1`."""
    return path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path
