from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.merchants.models import Merchant, MerchantApiKey


class MerchantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, merchant_id: uuid.UUID) -> Merchant | None:
        return await self.session.get(Merchant, merchant_id)

    async def list(self) -> Sequence[Merchant]:
        result = await self.session.scalars(select(Merchant).order_by(Merchant.created_at))
        return result.all()

    async def add(self, merchant: Merchant) -> Merchant:
        self.session.add(merchant)
        await self.session.flush()
        return merchant

    async def add_key(self, key: MerchantApiKey) -> MerchantApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def key_with_merchant(
        self, api_key: str, now: dt.datetime
    ) -> tuple[MerchantApiKey, Merchant] | None:
        statement = (
            select(MerchantApiKey, Merchant)
            .join(Merchant, Merchant.id == MerchantApiKey.merchant_id)
            .where(MerchantApiKey.api_key == api_key)
            .where(or_(MerchantApiKey.expires_at.is_(None), MerchantApiKey.expires_at > now))
        )
        row = (await self.session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def live_keys(self, merchant_id: uuid.UUID, now: dt.datetime) -> Sequence[MerchantApiKey]:
        statement = (
            select(MerchantApiKey)
            .where(MerchantApiKey.merchant_id == merchant_id)
            .where(or_(MerchantApiKey.expires_at.is_(None), MerchantApiKey.expires_at > now))
            .order_by(MerchantApiKey.created_at)
        )
        return (await self.session.scalars(statement)).all()

    async def key(self, merchant_id: uuid.UUID, key_id: uuid.UUID) -> MerchantApiKey | None:
        return await self.session.scalar(
            select(MerchantApiKey).where(
                MerchantApiKey.id == key_id, MerchantApiKey.merchant_id == merchant_id
            )
        )

    async def expire_keys(self, merchant_id: uuid.UUID, at: dt.datetime, now: dt.datetime) -> None:
        await self.session.execute(
            update(MerchantApiKey)
            .where(MerchantApiKey.merchant_id == merchant_id)
            .where(or_(MerchantApiKey.expires_at.is_(None), MerchantApiKey.expires_at > at))
            .values(expires_at=at)
        )
