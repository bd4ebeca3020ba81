"""`ledger verify` checks every deposit against the ledger transfer it owns."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.crosscheck import service as crosscheck_service
from clearing_gateway.crosscheck.service import verify_all
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import Deposit
from tests.deposits.conftest import Merchant
from tests.providers.conftest import eventually


async def findings(runtime: Runtime) -> list[str]:
    async with runtime.sessionmaker() as session:
        return [f"{f.check} {f.detail}" for f in await verify_all(session)]


async def test_each_completed_deposit_has_its_one_transfer(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    paid = await live_merchant.pay(account, "150000.00")
    assert paid.status_code < 300, paid.text

    async def deposits() -> list[Deposit]:
        async with runtime.sessionmaker() as session:
            return list(await session.scalars(select(Deposit)))

    [deposit] = await eventually(deposits, lambda rows: len(rows) == 1)
    assert await findings(runtime) == []

    async def tamper(**values: object) -> None:
        async with unit_of_work(runtime.sessionmaker) as session:
            await session.execute(update(Deposit).where(Deposit.id == deposit.id).values(**values))

    await tamper(amount=deposit.amount + 100, net_amount=deposit.net_amount + 100)
    assert [f.split(" ")[0] for f in await findings(runtime)] == ["deposit"]
    await tamper(amount=deposit.amount, net_amount=deposit.net_amount, status="FAILED")
    assert await findings(runtime) == ["deposit FAILED but credited"]
    await tamper(status="COMPLETED", payment_request_id="another-payment")
    assert sorted(await findings(runtime)) == [
        "deposit COMPLETED without a posted transfer",
        "deposit deposit transfer without a deposit",
    ]


async def test_disagreeing_deposits_are_listed_up_to_a_cap_and_summarised_beyond(
    live_merchant: Merchant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    for _ in range(3):
        paid = await live_merchant.pay(account, "150000.00")
        assert paid.status_code < 300, paid.text

    async def deposits() -> list[Deposit]:
        async with runtime.sessionmaker() as session:
            return list(await session.scalars(select(Deposit)))

    await eventually(deposits, lambda rows: len(rows) == 3)
    assert await findings(runtime) == []
    async with unit_of_work(runtime.sessionmaker) as session:
        await session.execute(update(Deposit).values(status="FAILED"))
    assert await findings(runtime) == ["deposit FAILED but credited"] * 3
    monkeypatch.setattr(crosscheck_service, "MAX_DEPOSIT_FINDINGS", 2)
    assert await findings(runtime) == [
        "deposit more than 2 deposits disagree with the ledger; the first 2 are listed",
        "deposit FAILED but credited",
        "deposit FAILED but credited",
    ]
