"""Topremit's SNAP symmetric signatures.

Transaction calls and callbacks:
    stringToSign = METHOD:EndpointUrl:AccessToken:lower(hex(sha256(minify(body)))):X-TIMESTAMP
    X-SIGNATURE  = encode(HMAC_SHA512(clientSecret, stringToSign))
Access token:
    X-SIGNATURE  = encode(HMAC_SHA512(clientSecret, clientId|X-TIMESTAMP))
`encode` is Base64 (the SNAP convention) or lowercase hex; Topremit does not say which,
so it is a setting (docs/providers/topremit.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Literal

SignatureEncoding = Literal["base64", "hex"]
WIB = dt.timezone(dt.timedelta(hours=7))


def minify(body: bytes) -> bytes:
    """Drop whitespace between JSON tokens, keeping strings (and their spaces) intact."""
    out = bytearray()
    in_string = escaped = False
    for byte in body:
        if in_string:
            out.append(byte)
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte in b" \t\r\n":
            continue
        else:
            out.append(byte)
            if byte == 0x22:
                in_string = True
    return bytes(out)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(minify(body)).hexdigest()


def string_to_sign(
    method: str, endpoint_url: str, access_token: str, body: bytes, timestamp: str
) -> str:
    return f"{method.upper()}:{endpoint_url}:{access_token}:{body_digest(body)}:{timestamp}"


def _encode(digest: bytes, encoding: SignatureEncoding) -> str:
    return base64.b64encode(digest).decode("ascii") if encoding == "base64" else digest.hex()


def transaction_signature(
    client_secret: str,
    method: str,
    endpoint_url: str,
    access_token: str,
    body: bytes,
    timestamp: str,
    encoding: SignatureEncoding = "base64",
) -> str:
    message = string_to_sign(method, endpoint_url, access_token, body, timestamp)
    digest = hmac.new(client_secret.encode(), message.encode(), hashlib.sha512).digest()
    return _encode(digest, encoding)


def token_signature(
    client_secret: str, client_id: str, timestamp: str, encoding: SignatureEncoding = "base64"
) -> str:
    message = f"{client_id}|{timestamp}"
    digest = hmac.new(client_secret.encode(), message.encode(), hashlib.sha512).digest()
    return _encode(digest, encoding)


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def snap_timestamp(moment: dt.datetime) -> str:
    """`2025-05-15T12:34:31+07:00`: second precision, Jakarta offset."""
    return moment.astimezone(WIB).replace(microsecond=0).isoformat()


def parse_snap_timestamp(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
