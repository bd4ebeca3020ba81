"""The fee schedule: per (provider, method), a flat fee and/or a percentage.

fee = flat + amount * percent_bps / 10 000, the percentage rounded half-up to the minor
unit (kit.money.percent_of), and never more than the amount it is charged on. A
(provider, method) with no schedule charges nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.money import percent_of
from clearing_gateway.ledger.accounts import PROVIDERS
from clearing_gateway.ledger.repository import FeeRepository

METHOD_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
KNOWN_METHODS = ("va", "qris", "disbursement", "cashin", "payout")


class FeeScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Fee:
    provider: str
    method: str
    flat: int  # minor units
    percent_bps: int  # 1 bp = 0.01 %

    def on(self, amount: int) -> int:
        return min(amount, self.flat + percent_of(amount, self.percent_bps))


def _check(provider: str, method: str) -> None:
    if provider not in PROVIDERS:
        raise FeeScheduleError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
    if not METHOD_PATTERN.fullmatch(method):
        raise FeeScheduleError(
            f"method must be lowercase letters, digits or _ (e.g. {KNOWN_METHODS})"
        )


async def fee_for(session: AsyncSession, provider: str, method: str, amount: int) -> int:
    """The fee on `amount` minor units; 0 when no schedule is set."""
    if amount < 0:
        raise FeeScheduleError("amount must not be negative")
    schedule = await FeeRepository(session).find(provider, method)
    if schedule is None:
        return 0
    return Fee(provider, method, schedule.flat, schedule.percent_bps).on(amount)


async def set_fee(
    session: AsyncSession, provider: str, method: str, *, flat: int, percent_bps: int
) -> Fee:
    _check(provider, method)
    if flat < 0:
        raise FeeScheduleError("flat fee must not be negative")
    if not 0 <= percent_bps <= 10_000:
        raise FeeScheduleError("percent must be between 0 and 10000 basis points")
    await FeeRepository(session).upsert(provider, method, flat, percent_bps)
    return Fee(provider, method, flat, percent_bps)


async def list_fees(session: AsyncSession) -> list[Fee]:
    return [
        Fee(s.provider, s.method, s.flat, s.percent_bps) for s in await FeeRepository(session).all()
    ]
