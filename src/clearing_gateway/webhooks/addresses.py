"""Where a webhook may point (SSRF protection).

In production a URL must be https and every address its host resolves to must be a
public one: no private, loopback, link-local (cloud metadata lives there), shared,
multicast, reserved, unspecified or (deprecated IPv6) site-local address. The rule is
applied when the URL is saved and again on every connection (see transport.py), so a
host that later re-resolves to an internal address (DNS rebinding) is still refused.
Sandbox allows anything, so that plain http to a receiver on localhost works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Protocol
from urllib.parse import urlsplit

from clearing_gateway.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddressError(Exception):
    """The URL or the address it resolves to is not allowed."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
        # fec0::/10 (site-local) is deprecated but still routed inside some networks, and
        # Python counts it as global.
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def public_addresses(resolver: Resolver, host: str, port: int) -> list[str]:
    """The host's addresses, all of them public, or BlockedAddressError."""
    literal = literal_address(host)
    if literal is not None:
        candidates = [str(literal)]
    else:
        try:
            candidates = await resolver.resolve(host, port)
        except OSError as exc:
            raise BlockedAddressError(f"host {host!r} does not resolve") from exc
    if not candidates:
        raise BlockedAddressError(f"host {host!r} does not resolve")
    for candidate in candidates:
        address = literal_address(candidate)
        if address is None or not is_public(address):
            # Refuse the host as a whole: one internal answer is enough to be abused.
            raise BlockedAddressError(f"host {host!r} resolves to a non-public address")
    return candidates


def check_url_shape(url: str, settings: Settings) -> tuple[str, int]:
    """Scheme, host and credentials rules; returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedAddressError("not a valid URL") from exc
    allowed = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in allowed:
        raise BlockedAddressError(
            "must be an https URL" if settings.is_production else "must be an http(s) URL"
        )
    if not parts.hostname:
        raise BlockedAddressError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise BlockedAddressError("must not carry credentials; use custom headers instead")
    if parts.fragment:
        raise BlockedAddressError("must not have a fragment")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, settings: Settings, resolver: Resolver) -> None:
    host, port = check_url_shape(url, settings)
    if settings.is_production:
        await public_addresses(resolver, host, port)
