"""The merchant request signature, exactly as the seed's Python reference computes it.

X-Signature = lowercase hex HMAC-SHA512(secret, f"{METHOD}|{PATH}|{BODY}|{TIMESTAMP}")
where BODY is `json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))`
(its other defaults included: ensure_ascii), the raw text when it is not JSON, and ""
for an empty body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from clearing_gateway.kit import jsonguard


def parse_body(raw: str) -> tuple[Any, str]:
    """The JSON document (None when the body is not JSON) and the canonical BODY.

    Raises jsonguard.HostileJson for JSON no later step could use (too deep, a huge
    integer, U+0000, a lone surrogate).
    """
    if not raw:
        return None, ""
    try:
        document = jsonguard.loads(raw)
    except json.JSONDecodeError:
        return None, raw
    return document, json.dumps(document, sort_keys=True, separators=(",", ":"))


def canonical_body(raw: str) -> str:
    return parse_body(raw)[1]


def sign(method: str, path: str, canonical: str, timestamp: str, secret: str) -> str:
    payload = f"{method}|{path}|{canonical}|{timestamp}"
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha512).hexdigest()


def matches(
    signature: str,
    *,
    method: str,
    paths: list[str],
    bodies: list[str],
    timestamp: str,
    secret: str,
) -> bool:
    """Constant-time check of `signature` against every accepted (path, body) reading."""
    given = signature.strip().lower().encode("ascii", "replace")
    found = False
    for path in paths:
        for body in bodies:
            expected = sign(method, path, body, timestamp, secret).encode("ascii")
            # No early exit: the time taken does not depend on which reading matched.
            found |= hmac.compare_digest(given, expected)
    return found
