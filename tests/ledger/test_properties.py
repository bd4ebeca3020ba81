"""Random sequences of ledger operations against a simple model of what they should do.

After every step: each currency sums to zero across all accounts, no vault is negative,
every vault matches the model, and `verify` finds nothing. A replay of any earlier
successful operation returns the same transfer and changes no account at all.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import build_runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import (
    AccountKey,
    Posting,
    deposit_postings,
    withdrawal_postings,
)
from clearing_gateway.ledger.errors import InsufficientFunds, TransferStateError
from clearing_gateway.ledger.verify import verify
from tests.conftest import create_merchant, make_settings
from tests.support.databases import PostgresTestDatabase, SqliteTemplate

PROVIDERS = ("topremit", "finpay")
VAULTS = ("deposit", "withdrawal")

merchants = st.integers(0, 1)
providers = st.sampled_from(PROVIDERS)
amounts = st.integers(1, 400)

operations = st.one_of(
    st.tuples(st.just("top_up"), merchants, providers, st.sampled_from(VAULTS), amounts),
    st.tuples(st.just("deposit"), merchants, providers, amounts, st.integers(0, 2_000)),
    st.tuples(st.just("hold"), merchants, providers, amounts, st.integers(0, 50)),
    st.tuples(st.just("post"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("move"), merchants, providers, st.sampled_from(VAULTS), amounts),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


@dataclass
class Hold:
    transfer_id: str
    vault: AccountKey
    provider: str
    amount: int
    fee: int
    state: str = "pending"
    split: bool | None = None  # how it was posted

    @property
    def total(self) -> int:
        return self.amount + self.fee


@dataclass
class Model:
    merchant_ids: list[uuid.UUID]
    available: dict[AccountKey, int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[AccountKey, int] = field(default_factory=lambda: defaultdict(int))
    holds: list[Hold] = field(default_factory=list)

    def vault(self, m: int, provider: str, vault: str) -> AccountKey:
        return AccountKey.vault(self.merchant_ids[m], provider, vault)


class Step:
    """One executed operation: how to run it again, and what it returned."""

    def __init__(self, run: Any, result: ledger.Transfer) -> None:
        self.run = run
        self.result = result


async def _snapshot(session: AsyncSession) -> list[tuple[Any, ...]]:
    return [
        (
            b.key.code,
            b.debits_pending,
            b.debits_posted,
            b.credits_pending,
            b.credits_posted,
            b.version,
        )
        for b in await ledger.all_balances(session)
    ]


async def _check(runtime: Runtime, model: Model) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        assert await verify(session) == []
        balances = await ledger.all_balances(session)
    assert sum(b.posted for b in balances) == 0
    assert sum(b.credits_pending - b.debits_pending for b in balances) == 0
    for b in balances:
        if b.key.must_not_go_negative:
            assert b.available >= 0
            assert (b.available, b.debits_pending) == (model.available[b.key], model.pending[b.key])


async def _apply(
    runtime: Runtime, model: Model, n: int, op: tuple[Any, ...], done: list[Step]
) -> None:
    name = op[0]
    transfer_id = f"op:{n}"
    expect_ok = True
    effects: list[tuple[AccountKey, int, int]] = []  # (vault, Δavailable, Δpending)

    if name == "top_up":
        _, m, provider, vault_type, amount = op
        vault = model.vault(m, provider, vault_type)
        postings = [Posting(AccountKey.clearing(provider), vault, amount)]
        run: Any = lambda s: ledger.post(s, transfer_id, postings, kind="top_up")  # noqa: E731
        effects = [(vault, amount, 0)]
    elif name == "deposit":
        _, m, provider, gross, bps = op
        fee = gross * bps // 10_000
        postings = deposit_postings(model.merchant_ids[m], provider, gross, fee)
        run = lambda s: ledger.post(s, transfer_id, postings, kind="deposit")  # noqa: E731
        effects = [(model.vault(m, provider, "deposit"), gross - fee, 0)]
    elif name == "hold":
        _, m, provider, amount, fee = op
        vault = model.vault(m, provider, "withdrawal")
        postings = withdrawal_postings(model.merchant_ids[m], provider, amount, fee)
        run = lambda s: ledger.hold(s, transfer_id, postings, kind="withdrawal")  # noqa: E731
        expect_ok = model.available[vault] >= amount + fee
        effects = [(vault, -(amount + fee), amount + fee)]
        if expect_ok:
            model.holds.append(Hold(transfer_id, vault, provider, amount, fee))
    elif name in ("post", "void"):
        if not model.holds:
            return
        hold = model.holds[op[1] % len(model.holds)]
        if name == "post":
            split = (
                [Posting(hold.vault, AccountKey.clearing(hold.provider), hold.total)]
                if op[2]
                else None
            )
            run = lambda s: ledger.post_pending(s, hold.transfer_id, split)  # noqa: E731
            expect_ok = hold.state != "voided"
            if hold.state == "pending":
                effects = [(hold.vault, 0, -hold.total)]
                hold.state = "posted"
                hold.split = op[2]
            elif hold.state == "posted" and op[2] != hold.split:
                return  # posting again with another split is a conflict, tested elsewhere
        else:
            run = lambda s: ledger.void_pending(s, hold.transfer_id)  # noqa: E731
            expect_ok = hold.state != "posted"
            if hold.state == "pending":
                effects = [(hold.vault, hold.total, -hold.total)]
                hold.state = "voided"
    elif name == "move":
        _, m, provider, source, amount = op
        debit = model.vault(m, provider, source)
        credit = model.vault(m, provider, "withdrawal" if source == "deposit" else "deposit")
        postings = [Posting(debit, credit, amount)]
        run = lambda s: ledger.post(s, transfer_id, postings, kind="vault_transfer")  # noqa: E731
        expect_ok = model.available[debit] >= amount
        effects = [(debit, -amount, 0), (credit, amount, 0)]
    else:  # replay
        if not done:
            return
        step = done[op[1] % len(done)]
        async with unit_of_work(runtime.sessionmaker) as session:
            before = await _snapshot(session)
            again = await step.run(session)
            after = await _snapshot(session)
        assert after == before
        assert again.id == step.result.id
        assert again.kind == step.result.kind
        return

    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            result = await run(session)
    except (InsufficientFunds, TransferStateError):
        assert not expect_ok, f"{op} was refused"
        return
    assert expect_ok, f"{op} should have been refused"
    for vault, available, pending in effects:
        model.available[vault] += available
        model.pending[vault] += pending
    done.append(Step(run, result))


async def _run_example(database_url: str, ops: list[tuple[Any, ...]]) -> None:
    runtime = build_runtime(make_settings(database_url))
    try:
        ids = [(await create_merchant(runtime, name=f"m{i}")).merchant_id for i in range(2)]
        model = Model(ids)
        done: list[Step] = []
        # Start every example with some money in every vault, so that holds, posts and
        # voids succeed often enough to matter (and refusals still happen).
        funding = [
            ("top_up", m, provider, vault, 500)
            for m in range(2)
            for provider in PROVIDERS
            for vault in VAULTS
        ]
        for n, op in enumerate([*funding, *ops]):
            await _apply(runtime, model, n, op, done)
            await _check(runtime, model)
    finally:
        await runtime.engine.dispose()


@pytest.fixture
def fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A callable giving an empty database per hypothesis example (fixtures run once)."""
    counter = itertools.count()

    def make() -> str:
        if backend == "sqlite":
            template: SqliteTemplate = request.getfixturevalue("sqlite_template")
            directory = tmp_path / f"example-{next(counter)}"
            directory.mkdir()
            return template.fresh(directory)
        database: PostgresTestDatabase = request.getfixturevalue("postgres_database")
        asyncio.run(database.reset())
        return database.url

    return make


# The fixture is a factory that builds a fresh database for every example, so sharing it
# across examples is intended.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=25))
def test_random_operations_keep_the_books_balanced(
    fresh_database: Any, ops: list[tuple[Any, ...]]
) -> None:
    asyncio.run(_run_example(fresh_database(), ops))
