"""Authentication of merchant requests: API key, IP allowlist, timestamp, signature.

Every failure is a 401 with its own `message`, except an `X-Timestamp` that is not a
number at all: that is a malformed request (400 `INVALID_TIMESTAMP`), not a failed
authentication. Nothing here logs a secret or a signature; the reason names only what
was wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.config import Settings
from clearing_gateway.kit.clock import now_ms, utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError, unauthorized
from clearing_gateway.merchants import signing
from clearing_gateway.merchants.credentials import CredentialCache
from clearing_gateway.merchants.crypto import secret_box
from clearing_gateway.merchants.models import Merchant, MerchantApiKey
from clearing_gateway.merchants.repository import MerchantRepository

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # the path as the client sent it, no query string
    canonical: str  # the signed BODY: signing.parse_body of the raw body
    headers: Mapping[str, str]  # lower-cased names
    client_ip: str | None


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: list[IpNetwork]
) -> str | None:
    """The caller's address; X-Forwarded-For counts only when the peer is a trusted proxy.

    Walks the chain from the right and stops at the first hop that is not a trusted
    proxy, so a client cannot smuggle an address by prefixing the header.
    """
    if peer is None or not forwarded_for or not _in_any(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in_any(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _in_any(address: str, networks: list[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def candidate_paths(path: str, prefix: str) -> list[str]:
    """Readings of PATH a client may have signed: as seen, and with/without the prefix."""
    paths = [path]
    if prefix:
        if path.startswith(prefix + "/"):
            paths.append(path[len(prefix) :])
        else:
            paths.append(prefix + path)
    return paths


def candidate_bodies(method: str, canonical: str) -> list[str]:
    # The seed signs "" for GET and DELETE, yet DELETE carries {requestId}: accept both.
    if method in ("GET", "DELETE", "HEAD") and canonical:
        return [canonical, ""]
    return [canonical]


async def authenticate(
    session: AsyncSession,
    settings: Settings,
    request: SignedRequest,
    cache: CredentialCache | None = None,
) -> Merchant:
    api_key = request.headers.get("x-api-key", "").strip()
    signature = request.headers.get("x-signature", "").strip()
    timestamp = request.headers.get("x-timestamp", "").strip()
    missing = [
        name
        for name, value in (
            ("X-Api-Key", api_key),
            ("X-Signature", signature),
            ("X-Timestamp", timestamp),
        )
        if not value
    ]
    if missing:
        raise unauthorized(ErrorCode.MISSING_CREDENTIALS, f"missing header {', '.join(missing)}")

    now = utcnow()
    cached = cache.get(api_key, now) if cache is not None else None
    generation = cache.generation if cache is not None else 0
    key: MerchantApiKey | None = None
    if cached is not None:
        merchant = cached.merchant()
    else:
        found = await MerchantRepository(session).key_with_merchant(api_key, now)
        if found is None:
            raise unauthorized(ErrorCode.UNKNOWN_API_KEY, "X-Api-Key is not a live API key")
        key, merchant = found
    if merchant.status != "active":
        raise unauthorized(ErrorCode.MERCHANT_DISABLED, "merchant is disabled")

    if not _ip_allowed(merchant, request.client_ip, settings):
        raise unauthorized(ErrorCode.IP_NOT_ALLOWED, "source IP address is not whitelisted")

    # isdigit() alone accepts "²" and other non-ASCII digits that int() then refuses.
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise GatewayError(
            400,
            ErrorCode.INVALID_TIMESTAMP,
            "X-Timestamp must be Unix milliseconds (ASCII digits 0-9 only)",
        )
    # Well-formed but absurdly long is merely far from server time (and int() stays cheap).
    if len(timestamp) > 16 or abs(now_ms() - int(timestamp)) > (
        settings.signature_window_seconds * 1000
    ):
        raise unauthorized(
            ErrorCode.TIMESTAMP_OUT_OF_WINDOW,
            f"X-Timestamp is more than {settings.signature_window_seconds} s from server time",
        )

    if cached is not None:
        secret = cached.secret
    else:
        assert key is not None
        secret = secret_box(settings).open(key.secret_ciphertext)
    if not signing.matches(
        signature,
        method=request.method,
        paths=candidate_paths(request.path, settings.merchant_path_prefix),
        bodies=candidate_bodies(request.method, request.canonical),
        timestamp=timestamp,
        secret=secret,
    ):
        raise unauthorized(ErrorCode.INVALID_SIGNATURE, "X-Signature does not match the request")
    if cache is not None and key is not None:
        cache.put(key, merchant, secret, generation)
    return merchant


def _ip_allowed(merchant: Merchant, client_ip: str | None, settings: Settings) -> bool:
    if not merchant.allowed_ips:
        return not settings.is_production
    if client_ip is None:
        return False
    networks = [ipaddress.ip_network(n, strict=False) for n in merchant.allowed_ips]
    return _in_any(client_ip, networks)
