"""All SQL of settlement."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep


class SettlementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def policy(self, merchant_id: uuid.UUID) -> SettlementPolicy | None:
        return await self.session.get(SettlementPolicy, merchant_id, populate_existing=True)

    async def save_policy(self, values: dict[str, Any]) -> None:
        existing = await self.policy(values["merchant_id"])
        if existing is None:
            self.session.add(SettlementPolicy(**values))
        else:
            for name, value in values.items():
                setattr(existing, name, value)
        await self.session.flush()

    async def policies(self, mode: str | None = None) -> list[SettlementPolicy]:
        query = select(SettlementPolicy).order_by(SettlementPolicy.merchant_id)
        if mode is not None:
            query = query.where(SettlementPolicy.mode == mode)
        return list(await self.session.scalars(query))

    async def sweep_by_key(self, merchant_id: uuid.UUID, sweep_key: str) -> SettlementSweep | None:
        return await self.session.scalar(
            select(SettlementSweep).where(
                SettlementSweep.merchant_id == merchant_id,
                SettlementSweep.sweep_key == sweep_key,
            )
        )

    async def insert_sweep(self, values: dict[str, Any]) -> bool:
        """False when the merchant already has a sweep with this key."""
        statement = insert_ignoring_conflicts(
            self.session.get_bind().dialect.name,
            SettlementSweep.__table__,
            ["merchant_id", "sweep_key"],
        ).values(**values)
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def sweeps(
        self,
        merchant_id: uuid.UUID | None = None,
        *,
        since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[SettlementSweep]:
        query = select(SettlementSweep).order_by(SettlementSweep.created_at.desc()).limit(limit)
        if merchant_id is not None:
            query = query.where(SettlementSweep.merchant_id == merchant_id)
        if since is not None:
            query = query.where(SettlementSweep.created_at >= since)
        return list(await self.session.scalars(query))
