"""Merchant lifecycle for operators: create, list, rotate keys, allow addresses."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.config import Settings
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.merchants.crypto import secret_box
from clearing_gateway.merchants.models import Merchant, MerchantApiKey
from clearing_gateway.merchants.repository import MerchantRepository


class MerchantError(ValueError):
    pass


@dataclass(frozen=True)
class IssuedCredentials:
    merchant_id: uuid.UUID
    api_key: str
    api_secret: str

    def as_json(self) -> dict[str, str]:
        return {
            "merchantId": str(self.merchant_id),
            "apiKey": self.api_key,
            "apiSecret": self.api_secret,
        }


def normalise_networks(values: list[str]) -> list[str]:
    networks: list[str] = []
    for value in values:
        try:
            networks.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise MerchantError(f"not an IP address or CIDR: {value!r}") from None
    return networks


class MerchantService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _new_key(self, merchant_id: uuid.UUID) -> tuple[MerchantApiKey, str]:
        prefix = "ck_live_" if self.settings.is_production else "ck_test_"
        api_key = prefix + secrets.token_hex(16)
        api_secret = secrets.token_urlsafe(48)
        sealed = secret_box(self.settings).seal(api_secret)
        return MerchantApiKey(
            merchant_id=merchant_id, api_key=api_key, secret_ciphertext=sealed
        ), api_secret

    async def create(
        self, session: AsyncSession, *, name: str, ips: list[str]
    ) -> IssuedCredentials:
        if not name.strip():
            raise MerchantError("name must not be empty")
        repository = MerchantRepository(session)
        merchant = await repository.add(
            Merchant(name=name.strip(), allowed_ips=normalise_networks(ips))
        )
        key, secret = self._new_key(merchant.id)
        await repository.add_key(key)
        return IssuedCredentials(merchant.id, key.api_key, secret)

    async def rotate_key(
        self, session: AsyncSession, merchant_id: uuid.UUID, *, overlap: dt.timedelta
    ) -> IssuedCredentials:
        repository = MerchantRepository(session)
        if await repository.get(merchant_id) is None:
            raise MerchantError(f"unknown merchant {merchant_id}")
        now = utcnow()
        await repository.expire_keys(merchant_id, now + overlap, now)
        key, secret = self._new_key(merchant_id)
        await repository.add_key(key)
        return IssuedCredentials(merchant_id, key.api_key, secret)

    async def revoke_key(
        self, session: AsyncSession, merchant_id: uuid.UUID, key_id: uuid.UUID
    ) -> MerchantApiKey:
        """The key stops working now (no overlap): for a leaked secret."""
        repository = MerchantRepository(session)
        key = await repository.key(merchant_id, key_id)
        if key is None:
            raise MerchantError(f"unknown key {key_id}")
        now = utcnow()
        if key.expires_at is None or key.expires_at > now:
            key.expires_at = now
            await session.flush()
        return key

    async def allow_ips(
        self, session: AsyncSession, merchant_id: uuid.UUID, ips: list[str], *, replace: bool
    ) -> list[str]:
        merchant = await MerchantRepository(session).get(merchant_id)
        if merchant is None:
            raise MerchantError(f"unknown merchant {merchant_id}")
        added = normalise_networks(ips)
        current = [] if replace else list(merchant.allowed_ips)
        merchant.allowed_ips = current + [n for n in added if n not in current]
        await session.flush()
        return merchant.allowed_ips
