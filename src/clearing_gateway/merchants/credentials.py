"""Verified credentials, cached per process.

Authenticating a request costs a database round trip (key + merchant) and a Fernet
decryption of the secret. Within `AUTH_CACHE_TTL_SECONDS` the same API key is served
from memory instead: the merchant's columns, the key's expiry (still checked on every
request, so an overlap ends on time) and the decrypted secret (the process already holds
the key that decrypts it). Failures are never cached.

Revocation is instant, not TTL-bound: on PostgreSQL a trigger (migration i17a0002)
NOTIFYs `gateway_credentials` with the merchant id whenever a merchant or one of its keys
changes (rotation, disabling, IP allowlist), from any process (API, CLI, console), and
every API process LISTENs and drops that merchant's entries. The cache answers only
while that LISTEN is connected; on SQLite, or with the connection lost, every request
reads the database as before.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clearing_gateway.kit.logging import get_logger
from clearing_gateway.merchants.models import Merchant, MerchantApiKey

log = get_logger("gateway.merchants")
CHANNEL = "gateway_credentials"


@dataclass(frozen=True)
class CachedCredential:
    merchant_id: uuid.UUID
    name: str
    status: str
    allowed_ips: tuple[str, ...]
    created_at: dt.datetime
    key_expires_at: dt.datetime | None
    secret: str
    cached_at: float

    def merchant(self) -> Merchant:
        """A fresh, transient copy: a request may not change another request's object."""
        return Merchant(
            id=self.merchant_id,
            name=self.name,
            status=self.status,
            allowed_ips=list(self.allowed_ips),
            created_at=self.created_at,
        )


class CredentialCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, CachedCredential] = {}
        # Bumped by every revocation: a lookup that began before one may not be cached.
        self.generation = 0
        self.listening = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.ttl > 0 and self.listening.is_set()

    def get(self, api_key: str, now: dt.datetime) -> CachedCredential | None:
        if not self.active:
            return None
        entry = self._entries.get(api_key)
        if entry is None:
            return None
        if time.monotonic() - entry.cached_at > self.ttl or (
            entry.key_expires_at is not None and entry.key_expires_at <= now
        ):
            self._entries.pop(api_key, None)
            return None
        return entry

    def put(self, key: MerchantApiKey, merchant: Merchant, secret: str, generation: int) -> None:
        """Cache a verified credential read while `generation` was current."""
        if not self.active or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded memory; the next requests refill it
        self._entries[key.api_key] = CachedCredential(
            merchant_id=merchant.id,
            name=merchant.name,
            status=merchant.status,
            allowed_ips=tuple(merchant.allowed_ips or ()),
            created_at=merchant.created_at,
            key_expires_at=key.expires_at,
            secret=secret,
            cached_at=time.monotonic(),
        )

    def revoke_merchant(self, merchant_id: str) -> None:
        self.generation += 1
        for api_key, entry in list(self._entries.items()):
            if str(entry.merchant_id) == merchant_id:
                self._entries.pop(api_key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    # --- revocation feed (PostgreSQL) ------------------------------------------------

    def start(self, engine: AsyncEngine) -> None:
        if self.ttl > 0 and engine.dialect.name == "postgresql" and self._listener is None:
            self._listener = asyncio.create_task(self._listen(engine), name="credentials")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        self.listening.clear()
        self.clear()

    async def _listen(self, engine: AsyncEngine) -> None:
        while True:
            try:
                async with engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    lost = asyncio.Event()

                    def revoked(_c: Any, _pid: int, _channel: str, payload: str) -> None:
                        self.revoke_merchant(payload)

                    def on_lost(*_args: object, done: asyncio.Event = lost) -> None:
                        done.set()

                    driver.add_termination_listener(on_lost)
                    await driver.add_listener(CHANNEL, revoked)
                    # Anything cached before LISTEN began may have missed a revocation.
                    self.clear()
                    self.listening.set()
                    try:
                        await lost.wait()
                    finally:
                        self.listening.clear()
                        self.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("credential revocations unavailable; cache off")
            self.listening.clear()
            self.clear()
            await asyncio.sleep(1.0)
