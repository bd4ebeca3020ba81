"""Helpers for ledger tests: a merchant to own vaults and one-transaction shortcuts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.ledger.verify import Finding, verify
from tests.conftest import create_merchant

T = TypeVar("T")


class Books:
    """The ledger of one test database, each call in its own committed transaction."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with unit_of_work(self.runtime.sessionmaker) as session:
            return await work(session)

    async def top_up(
        self,
        merchant_id: uuid.UUID,
        amount: int,
        *,
        vault: str = "withdrawal",
        provider: str = "finpay",
    ) -> ledger.Transfer:
        posting = Posting(
            AccountKey.clearing(provider), AccountKey.vault(merchant_id, provider, vault), amount
        )
        return await self.run(
            lambda s: ledger.post(s, f"topup:{uuid.uuid4()}", [posting], kind="top_up")
        )

    async def balance(self, key: AccountKey) -> ledger.AccountBalance:
        return await self.run(lambda s: ledger.account_balance(s, key))

    async def verify(self) -> list[Finding]:
        return await self.run(verify)


@pytest.fixture
def books(runtime: Runtime) -> Books:
    return Books(runtime)


@pytest.fixture
async def merchant_id(runtime: Runtime) -> uuid.UUID:
    return (await create_merchant(runtime)).merchant_id
