"""An httpx transport that re-applies the address rule at connect time.

httpcore resolves and connects in its network backend; ours resolves first, refuses
non-public answers, then connects to the vetted address itself, so the address that was
checked is the address that is used (no second lookup an attacker could flip). TLS
still verifies the certificate against the URL's host name (SNI is set by httpcore).
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from clearing_gateway.webhooks.addresses import BlockedAddressError, Resolver, public_addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await public_addresses(self.resolver, host, port)
        except BlockedAddressError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook destinations")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, resolver: Resolver, *, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # Same pool httpx builds, plus our network backend (httpx exposes no parameter).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(resolver),
        )
