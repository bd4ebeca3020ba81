"""A merchant client written from seed 000 alone: its signature function is verbatim."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx


# --- verbatim from the seed (CACI Clearing Gateway API 1.0.3, "Python Implementation") ---
def generate_signature(method, path, raw_body, timestamp, client_secret):  # type: ignore[no-untyped-def]
    """
    Generate HMAC-SHA512 signature for CACI API authentication

    Args:
        method: HTTP method (e.g., 'POST', 'GET')
        path: API endpoint path (e.g., '/v1/transactions/fiat')
        raw_body: Raw request body JSON string (empty string for GET/DELETE)
        timestamp: Unix timestamp in milliseconds
        client_secret: Your API secret key

    Returns:
        Hexadecimal signature string
    """
    # Create canonical JSON with sorted keys
    if raw_body:
        try:
            # Parse and re-sort JSON to ensure canonical ordering
            body_dict = json.loads(raw_body)
            canonical_body = json.dumps(body_dict, sort_keys=True, separators=(",", ":"))
        except json.JSONDecodeError:
            canonical_body = raw_body
    else:
        canonical_body = ""

    # Build payload
    payload = f"{method}|{path}|{canonical_body}|{timestamp}"

    # Generate HMAC-SHA512 signature
    signature = hmac.new(
        client_secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha512
    ).hexdigest()

    return signature


# --- end of the seed's code ---


class SeedClient:
    """Signs every request the way the seed tells merchants to."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        api_secret: str,
        *,
        path_prefix: str = "",
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.api_secret = api_secret
        self.path_prefix = path_prefix

    def headers(
        self, method: str, path: str, raw_body: str, *, timestamp: int | None = None
    ) -> dict[str, str]:
        ts = timestamp if timestamp is not None else int(time.time() * 1000)
        signed_body = "" if method in ("GET",) else raw_body
        return {
            "X-Api-Key": self.api_key,
            "X-Signature": generate_signature(method, path, signed_body, ts, self.api_secret),
            "X-Timestamp": str(ts),
            "Content-Type": "application/json",
        }

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        full_path = self.path_prefix + path
        text = raw if raw is not None else ("" if body is None else json.dumps(body))
        signed = self.headers(method, full_path, text, timestamp=timestamp)
        signed.update(headers or {})
        return await self.http.request(
            method, full_path, content=text.encode("utf-8"), params=params, headers=signed
        )

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, body, **kwargs)

    async def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, body, **kwargs)

    async def patch(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, body, **kwargs)

    async def delete(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, body, **kwargs)
