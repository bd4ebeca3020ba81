"""Finpay's Basic auth and its notification signature.

    signature = hash_hmac("sha512", json_encode($fields), $key)   # lowercase hex

`$fields` is the notification without its signature, in the order it was sent; `$key`
is the merchant key (docs/providers/finpay.md records both assumptions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from clearing_gateway.providers.finpay.phpjson import php_json_encode


def basic_authorization(merchant_id: str, merchant_key: str) -> str:
    token = base64.b64encode(f"{merchant_id}:{merchant_key}".encode()).decode("ascii")
    return f"Basic {token}"


def notification_signature(fields: dict[str, Any], key: str) -> str:
    message = php_json_encode(fields).encode("utf-8")
    return hmac.new(key.encode(), message, hashlib.sha512).hexdigest()


def signature_matches(fields: dict[str, Any], key: str, given: str) -> bool:
    return hmac.compare_digest(notification_signature(fields, key).encode(), given.lower().encode())
