"""Rows that cannot refuse (the shared clearing and fee accounts always, a vault when its
transfer cannot overdraw it) are updated last, at COMMIT, and exactly when their
transfer commits: never after a rollback, never twice."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.service import enqueue
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import (
    AccountKey,
    Posting,
    deposit_postings,
    withdrawal_postings,
)
from clearing_gateway.ledger.errors import InsufficientFunds
from tests.ledger.conftest import Books

P = "finpay"
CLEARING = AccountKey.clearing(P)
FEES = AccountKey.fee_revenue(P)
Work = Callable[[AsyncSession], Awaitable[object]]


def _account_writes(statements: list[str]) -> list[int]:
    """Where accounts were changed: an UPDATE each (SQLite), or one call of
    gateway_ledger_apply for all the changes a COMMIT applies (PostgreSQL)."""
    return [
        i
        for i, s in enumerate(statements)
        if s.startswith(("UPDATE ledger_accounts", "SELECT gateway_ledger_apply"))
    ]


def _one_call_at_commit(runtime: Runtime) -> bool:
    return runtime.engine.dialect.name == "postgresql"


async def _statements_of(runtime: Runtime, work: Work) -> list[str]:
    """The statements `work` issues in one unit of work (each shortened to 60 chars)."""
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split())[:60])

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            await work(session)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


async def _ledger_then_job(runtime: Runtime, ledger_work: Work) -> tuple[list[str], list[int], int]:
    """`ledger_work` followed by what a deposit does after the ledger (an outbox job), in
    one unit of work: its statements, where accounts changed and where the job went."""

    async def work(session: AsyncSession) -> None:
        await ledger_work(session)
        await enqueue(session, "test.after_ledger", {"n": 1})

    statements = await _statements_of(runtime, work)
    job = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO jobs"))
    return statements, _account_writes(statements), job


async def test_a_deposit_updates_every_account_last_before_commit(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    statements, writes, job = await _ledger_then_job(
        runtime,
        lambda s: ledger.post(
            s, "dep:last", deposit_postings(merchant_id, P, 100_000, 700), kind="deposit"
        ),
    )
    # A credit cannot overdraw the vault: its row, like the shared ones, is locked only
    # for the COMMIT, after everything else the transaction does.
    assert writes[0] > job
    if _one_call_at_commit(runtime):
        assert len(writes) == 1
        assert len(statements) == writes[0] + 1  # nothing else before COMMIT
    else:
        assert len(writes) == 3
        assert statements[writes[2] + 1].startswith("INSERT INTO ledger_entries")
        assert len(statements) == writes[2] + 2  # nothing else before COMMIT
    assert (await books.balance(CLEARING)).posted == -100_000
    assert (await books.balance(FEES)).posted == 700
    vault = await books.balance(AccountKey.vault(merchant_id, P, "deposit"))
    assert (vault.posted, vault.version) == (99_300, 1)
    assert await books.verify() == []


async def test_a_hold_checks_its_vault_at_once_and_its_shared_rows_at_commit(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    await books.top_up(merchant_id, 10_000)
    statements, writes, job = await _ledger_then_job(
        runtime,
        lambda s: ledger.hold(
            s, "wd:now", withdrawal_postings(merchant_id, P, 5_000, 100), kind="wd"
        ),
    )
    # The vault may refuse: it is locked and checked in place, where the caller can
    # answer INSUFFICIENT_BALANCE; clearing and fees follow at COMMIT.
    assert statements[writes[0]].startswith("UPDATE ledger_accounts")
    assert writes[0] < job < writes[1]
    assert len(writes) == (2 if _one_call_at_commit(runtime) else 3)
    vault = await books.balance(AccountKey.vault(merchant_id, P, "withdrawal"))
    assert (vault.available, vault.debits_pending) == (4_900, 5_100)
    assert await books.verify() == []


async def test_posting_or_voiding_a_hold_locks_the_vault_only_for_the_commit(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    await books.top_up(merchant_id, 10_000)
    for transfer_id in ("wd:post", "wd:void"):
        await books.run(
            lambda s, t=transfer_id: ledger.hold(
                s, t, withdrawal_postings(merchant_id, P, 2_000, 0), kind="wd"
            )
        )

    async def settle_both(session: AsyncSession) -> None:
        await ledger.post_pending(session, "wd:post")
        await ledger.void_pending(session, "wd:void")

    _statements, writes, job = await _ledger_then_job(runtime, settle_both)
    assert writes
    assert all(i > job for i in writes)
    vault = await books.balance(AccountKey.vault(merchant_id, P, "withdrawal"))
    assert (vault.posted, vault.debits_pending, vault.available) == (8_000, 0, 8_000)
    assert await books.verify() == []


async def test_the_merchant_balances_read_inside_the_transaction_include_its_deposit(
    runtime: Runtime, merchant_id: uuid.UUID
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        await ledger.post(
            session, "dep:seen", deposit_postings(merchant_id, P, 3_000, 0), kind="deposit"
        )
        vaults = await ledger.balances(session, merchant_id)
    assert [(v.vault_type, v.available) for v in vaults] == [("deposit", 3_000)]


async def test_a_rolled_back_savepoint_leaves_the_shared_rows_untouched(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    class Abandon(Exception):
        pass

    async def abandoned(session: AsyncSession) -> None:
        async with session.begin_nested():
            await ledger.post(
                session, "dep:gone", deposit_postings(merchant_id, P, 9_000, 90), kind="deposit"
            )
            raise Abandon

    async with unit_of_work(runtime.sessionmaker) as session:
        with pytest.raises(Abandon):
            await abandoned(session)
        await ledger.post(
            session, "dep:kept", deposit_postings(merchant_id, P, 5_000, 50), kind="deposit"
        )
    assert (await books.balance(CLEARING)).posted == -5_000
    assert (await books.balance(FEES)).posted == 50
    assert await books.run(lambda s: ledger.get_transfer(s, "dep:gone")) is None
    assert await books.verify() == []


async def test_a_refused_transfer_keeps_the_earlier_transfer_of_the_same_transaction(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    await books.top_up(merchant_id, 1_000)
    async with unit_of_work(runtime.sessionmaker) as session:
        await ledger.hold(
            session, "wd:ok", withdrawal_postings(merchant_id, P, 600, 100), kind="withdrawal"
        )
        with pytest.raises(InsufficientFunds):
            await ledger.hold(
                session, "wd:no", withdrawal_postings(merchant_id, P, 600, 100), kind="withdrawal"
            )
    clearing = await books.balance(CLEARING)
    assert (clearing.posted, clearing.credits_pending) == (-1_000, 600)
    assert (await books.balance(FEES)).credits_pending == 100
    assert await books.verify() == []


async def test_a_rolled_back_unit_of_work_defers_nothing_into_the_next(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    class Abandon(Exception):
        pass

    async def abandoned(session: AsyncSession) -> None:
        async with session.begin():
            await ledger.post(
                session, "dep:x", deposit_postings(merchant_id, P, 7_000, 0), kind="deposit"
            )
            raise Abandon

    async with runtime.sessionmaker() as session:
        with pytest.raises(Abandon):
            await abandoned(session)
        # The same session object, a new transaction: only its own transfer counts.
        async with session.begin():
            await ledger.post(
                session, "dep:y", deposit_postings(merchant_id, P, 3_000, 0), kind="deposit"
            )
    clearing = await books.balance(CLEARING)
    assert (clearing.posted, clearing.version) == (-3_000, 1)
    assert await books.verify() == []


async def test_a_read_inside_the_transaction_sees_the_deferred_change(
    runtime: Runtime, merchant_id: uuid.UUID
) -> None:
    async def work(session: AsyncSession) -> tuple[int, int]:
        await ledger.post(
            session, "dep:read", deposit_postings(merchant_id, P, 4_000, 40), kind="deposit"
        )
        clearing = await ledger.account_balance(session, CLEARING)
        fees = await ledger.account_balance(session, FEES)
        return clearing.posted, fees.posted

    async with unit_of_work(runtime.sessionmaker) as session:
        assert await work(session) == (-4_000, 40)
    async with unit_of_work(runtime.sessionmaker) as session:
        clearing = await ledger.account_balance(session, CLEARING)
    assert (clearing.posted, clearing.version) == (-4_000, 1)  # applied once, not twice


async def test_a_hold_checked_at_commit_refuses_there_and_leaves_nothing(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    await books.top_up(merchant_id, 10_000)
    _statements, writes, job = await _ledger_then_job(
        runtime,
        lambda s: ledger.hold(
            s,
            "wd:late-ok",
            withdrawal_postings(merchant_id, P, 6_000, 100),
            kind="wd",
            check_at_commit=True,
        ),
    )
    assert len(writes) == (1 if _one_call_at_commit(runtime) else 3)
    assert all(i > job for i in writes)

    async def refused() -> None:
        async with unit_of_work(runtime.sessionmaker) as session:
            await ledger.hold(
                session,
                "wd:late-no",
                withdrawal_postings(merchant_id, P, 6_000, 100),
                kind="wd",
                check_at_commit=True,
            )
            await enqueue(session, "test.refused", {"n": 2})

    # The hold itself says yes; the COMMIT refuses and takes the job with it.
    with pytest.raises(InsufficientFunds):
        await refused()
    vault = await books.balance(AccountKey.vault(merchant_id, P, "withdrawal"))
    assert (vault.available, vault.debits_pending) == (3_900, 6_100)
    assert await books.run(lambda s: ledger.get_transfer(s, "wd:late-no")) is None
    assert (await books.balance(CLEARING)).credits_pending == 6_000
    assert await books.verify() == []


async def test_accounts_known_to_exist_are_not_inserted_again(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    await books.run(
        lambda s: ledger.post(
            s, "dep:first", deposit_postings(merchant_id, P, 1_000, 10), kind="deposit"
        )
    )
    # The first transfer created its accounts; the next meets them and remembers them.
    await books.run(
        lambda s: ledger.post(
            s, "dep:second", deposit_postings(merchant_id, P, 1_000, 10), kind="deposit"
        )
    )
    statements = await _statements_of(
        runtime,
        lambda s: ledger.post(
            s, "dep:third", deposit_postings(merchant_id, P, 1_000, 10), kind="deposit"
        ),
    )
    assert not [s for s in statements if s.startswith("INSERT INTO ledger_accounts")]
    vault = await books.balance(AccountKey.vault(merchant_id, P, "deposit"))
    assert (vault.posted, vault.version) == (2_970, 3)
    assert await books.verify() == []


async def test_a_hold_after_a_credit_in_the_same_transaction_sees_the_credit(
    runtime: Runtime, books: Books, merchant_id: uuid.UUID
) -> None:
    vault = AccountKey.vault(merchant_id, P, "withdrawal")
    async with unit_of_work(runtime.sessionmaker) as session:
        # The credit cannot refuse and waits for the COMMIT; the hold that follows may
        # refuse, so it is checked at once, against the vault with the credit in it.
        await ledger.post(
            session, "topup:then-hold", [Posting(CLEARING, vault, 10_000)], kind="top_up"
        )
        await ledger.hold(
            session, "wd:after-credit", withdrawal_postings(merchant_id, P, 6_000, 100), kind="wd"
        )
    balance = await books.balance(vault)
    assert (balance.available, balance.debits_pending) == (3_900, 6_100)
    assert await books.verify() == []
