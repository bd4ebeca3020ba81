"""Many transactions at once against the same vault.

PostgreSQL runs them truly concurrently (READ COMMITTED, row locks); SQLite runs them
one at a time (BEGIN IMMEDIATE). The outcome must be the same on both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting, withdrawal_postings
from clearing_gateway.ledger.errors import InsufficientFunds, TransferStateError
from tests.ledger.conftest import Books

P = "finpay"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"db_pool_size": 20, "db_max_overflow": 0}


async def _outcome(runtime: Runtime, work: Any) -> str:
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            await work(session)
    except InsufficientFunds:
        return "insufficient"
    except TransferStateError:
        return "already resolved"
    return "ok"


async def test_200_holds_of_1_against_100(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    vault = AccountKey.vault(merchant_id, P, "withdrawal")
    await books.top_up(merchant_id, 100)
    postings = [Posting(vault, AccountKey.clearing(P), 1)]

    def hold(i: int) -> Any:
        return lambda s: ledger.hold(s, f"hold:{i}", postings, kind="withdrawal")

    # Any exception other than InsufficientFunds (a deadlock, a CHECK violation)
    # propagates out of gather and fails the test.
    outcomes = await asyncio.gather(*(_outcome(runtime, hold(i)) for i in range(200)))
    assert Counter(outcomes) == {"ok": 100, "insufficient": 100}
    balance = await books.balance(vault)
    assert balance.available == 0
    assert balance.debits_pending == 100
    assert balance.version == 101
    assert await books.verify() == []


async def test_concurrent_replays_apply_once(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    vault = AccountKey.vault(merchant_id, P, "deposit")
    postings = [Posting(AccountKey.clearing(P), vault, 1_000)]
    outcomes = await asyncio.gather(
        *(
            _outcome(runtime, lambda s: ledger.post(s, "dep:same", postings, kind="deposit"))
            for _ in range(30)
        )
    )
    assert outcomes == ["ok"] * 30
    balance = await books.balance(vault)
    assert (balance.available, balance.version) == (1_000, 1)
    assert await books.verify() == []


async def test_crossing_transfers_do_not_deadlock(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    deposit = AccountKey.vault(merchant_id, P, "deposit")
    withdrawal = AccountKey.vault(merchant_id, P, "withdrawal")
    await books.top_up(merchant_id, 1_000, vault="deposit")
    await books.top_up(merchant_id, 1_000, vault="withdrawal")

    def move(i: int) -> Any:
        debit, credit = (deposit, withdrawal) if i % 2 else (withdrawal, deposit)
        # Both vaults and both system accounts in one transfer, in opposite orders.
        postings = [
            Posting(debit, credit, 3),
            Posting(AccountKey.clearing(P), credit, 1),
            Posting(debit, AccountKey.fee_revenue(P), 1),
        ]
        return lambda s: ledger.post(s, f"move:{i}", postings, kind="vault_transfer")

    outcomes = await asyncio.gather(*(_outcome(runtime, move(i)) for i in range(120)))
    assert set(outcomes) == {"ok"}
    total = (await books.balance(deposit)).available + (await books.balance(withdrawal)).available
    assert total == 2_000  # each move: -4 +4 across the vaults, +1 from clearing, -1 fee
    assert await books.verify() == []


async def test_concurrent_post_and_void_of_one_hold_resolve_it_once(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    withdrawal = AccountKey.vault(merchant_id, P, "withdrawal")
    await books.top_up(merchant_id, 10_000)
    postings = withdrawal_postings(merchant_id, P, 9_000, 1_000)
    for n in range(5):
        await books.run(lambda s, n=n: ledger.hold(s, f"wd:{n}", postings, kind="withdrawal"))
        await books.top_up(merchant_id, 10_000)

    def resolve(n: int, i: int) -> Any:
        if i % 2:
            return lambda s: ledger.void_pending(s, f"wd:{n}")
        return lambda s: ledger.post_pending(s, f"wd:{n}")

    # Posts and voids of the same holds race: each hold ends either posted or voided.
    outcomes = await asyncio.gather(
        *(_outcome(runtime, resolve(n, i)) for n in range(5) for i in range(6))
    )
    assert set(outcomes) <= {"ok", "already resolved"}
    available = (await books.balance(withdrawal)).available
    posted = 50_000 + 10_000 - available  # what left the vault for good
    assert posted % 10_000 == 0
    assert (await books.balance(withdrawal)).debits_pending == 0
    assert await books.verify() == []
