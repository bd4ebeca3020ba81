"""Rules of transfers: posting, holds, idempotency, conflicts, overdraft refusal."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import (
    AccountKey,
    Posting,
    deposit_postings,
    withdrawal_postings,
)
from clearing_gateway.ledger.errors import (
    InsufficientFunds,
    InvalidTransfer,
    TransferConflict,
    TransferNotFound,
    TransferStateError,
)
from tests.ledger.conftest import Books

P = "finpay"


def keys(merchant_id: uuid.UUID) -> dict[str, AccountKey]:
    return {
        "deposit": AccountKey.vault(merchant_id, P, "deposit"),
        "withdrawal": AccountKey.vault(merchant_id, P, "withdrawal"),
        "clearing": AccountKey.clearing(P),
        "fees": AccountKey.fee_revenue(P),
    }


async def test_deposit_credits_net_and_fee_in_one_transfer(
    books: Books, merchant_id: uuid.UUID
) -> None:
    k = keys(merchant_id)
    postings = deposit_postings(merchant_id, P, 1_000_000, 2_500)
    transfer = await books.run(lambda s: ledger.post(s, "dep:1", postings, kind="deposit"))
    assert transfer.status == "posted"
    assert transfer.amount == 1_000_000
    assert (await books.balance(k["deposit"])).available == 997_500
    assert (await books.balance(k["fees"])).posted == 2_500
    clearing = await books.balance(k["clearing"])
    assert clearing.posted == -1_000_000  # an asset: the provider owes us the gross
    assert clearing.version == 1  # two postings, one change of the account
    assert await books.verify() == []


async def test_replay_returns_first_result_and_changes_nothing(
    books: Books, merchant_id: uuid.UUID
) -> None:
    k = keys(merchant_id)
    postings = deposit_postings(merchant_id, P, 50_000, 0)
    first = await books.run(lambda s: ledger.post(s, "dep:r", postings, kind="deposit"))
    again = await books.run(lambda s: ledger.post(s, "dep:r", postings, kind="deposit"))
    assert again.id == first.id
    assert again.postings == first.postings
    assert again.status == "posted"
    assert (await books.balance(k["deposit"])).available == 50_000
    assert (await books.balance(k["deposit"])).version == 1


@pytest.mark.parametrize(
    "change",
    ["amount", "kind", "operation"],
)
async def test_same_id_different_content_is_a_conflict(
    books: Books, merchant_id: uuid.UUID, change: str
) -> None:
    postings = deposit_postings(merchant_id, P, 50_000, 100)
    await books.run(lambda s: ledger.post(s, "dep:c", postings, kind="deposit"))
    other = deposit_postings(merchant_id, P, 50_001, 100) if change == "amount" else postings
    kind = "other" if change == "kind" else "deposit"
    operation = ledger.hold if change == "operation" else ledger.post
    with pytest.raises(TransferConflict):
        await books.run(lambda s: operation(s, "dep:c", other, kind=kind))
    assert (await books.balance(keys(merchant_id)["deposit"])).available == 49_900


async def test_hold_counts_against_available_at_once(books: Books, merchant_id: uuid.UUID) -> None:
    k = keys(merchant_id)
    await books.top_up(merchant_id, 10_000)
    held = await books.run(
        lambda s: ledger.hold(
            s, "wd:1", withdrawal_postings(merchant_id, P, 7_000, 500), kind="withdrawal"
        )
    )
    assert held.status == "pending"
    vault = await books.balance(k["withdrawal"])
    assert (vault.available, vault.debits_pending) == (2_500, 7_500)
    with pytest.raises(InsufficientFunds):
        await books.run(
            lambda s: ledger.hold(
                s, "wd:2", withdrawal_postings(merchant_id, P, 2_001, 500), kind="withdrawal"
            )
        )
    assert (await books.balance(k["withdrawal"])).available == 2_500
    # The refused transfer left no row: the same id may be tried again later.
    assert await books.run(lambda s: ledger.get_transfer(s, "wd:2")) is None
    assert await books.verify() == []


async def test_post_pending_moves_amount_and_fee(books: Books, merchant_id: uuid.UUID) -> None:
    k = keys(merchant_id)
    await books.top_up(merchant_id, 10_000)
    postings = withdrawal_postings(merchant_id, P, 7_000, 500)
    await books.run(lambda s: ledger.hold(s, "wd:p", postings, kind="withdrawal"))
    posted = await books.run(lambda s: ledger.post_pending(s, "wd:p"))
    assert posted.status == "posted"
    assert posted.posted_at is not None
    vault = await books.balance(k["withdrawal"])
    assert (vault.available, vault.debits_pending, vault.posted) == (2_500, 0, 2_500)
    assert (await books.balance(k["fees"])).posted == 500
    clearing = await books.balance(k["clearing"])
    assert (clearing.posted, clearing.credits_pending) == (-10_000 + 7_000, 0)
    # Replays are no-ops; void after post is refused.
    again = await books.run(lambda s: ledger.post_pending(s, "wd:p"))
    assert again.status == "posted"
    assert again.posted_at == posted.posted_at
    with pytest.raises(TransferStateError):
        await books.run(lambda s: ledger.void_pending(s, "wd:p"))
    assert (await books.balance(k["withdrawal"])).version == 3
    assert await books.verify() == []


async def test_post_pending_with_a_final_split(books: Books, merchant_id: uuid.UUID) -> None:
    k = keys(merchant_id)
    await books.top_up(merchant_id, 10_000)
    await books.run(
        lambda s: ledger.hold(
            s, "wd:s", withdrawal_postings(merchant_id, P, 7_000, 500), kind="withdrawal"
        )
    )
    # The provider charged less than estimated: the gateway keeps the difference as fee.
    final = [
        Posting(k["withdrawal"], k["clearing"], 6_900),
        Posting(k["withdrawal"], k["fees"], 600),
    ]
    wrong_total = [Posting(k["withdrawal"], k["clearing"], 7_000)]
    wrong_account = [Posting(k["deposit"], k["clearing"], 7_500)]
    for bad in (wrong_total, wrong_account):
        with pytest.raises(InvalidTransfer):
            await books.run(lambda s, bad=bad: ledger.post_pending(s, "wd:s", bad))
    posted = await books.run(lambda s: ledger.post_pending(s, "wd:s", final))
    assert sorted(p.amount for p in posted.postings) == [600, 6_900]
    assert (await books.balance(k["fees"])).posted == 600
    assert (await books.balance(k["withdrawal"])).available == 2_500
    with pytest.raises(TransferConflict):
        await books.run(lambda s: ledger.post_pending(s, "wd:s"))  # the unsplit hold
    same = await books.run(lambda s: ledger.post_pending(s, "wd:s", list(reversed(final))))
    assert same.status == "posted"
    assert await books.verify() == []


async def test_void_releases_the_hold_once(books: Books, merchant_id: uuid.UUID) -> None:
    k = keys(merchant_id)
    await books.top_up(merchant_id, 10_000)
    await books.run(
        lambda s: ledger.hold(
            s, "wd:v", withdrawal_postings(merchant_id, P, 9_000, 1_000), kind="withdrawal"
        )
    )
    assert (await books.balance(k["withdrawal"])).available == 0
    voided = await books.run(lambda s: ledger.void_pending(s, "wd:v"))
    assert voided.status == "voided"
    assert (await books.balance(k["withdrawal"])).available == 10_000
    again = await books.run(lambda s: ledger.void_pending(s, "wd:v"))
    assert again.voided_at == voided.voided_at
    assert (await books.balance(k["withdrawal"])).version == 3
    with pytest.raises(TransferStateError):
        await books.run(lambda s: ledger.post_pending(s, "wd:v"))
    assert (await books.balance(k["fees"])).credits_pending == 0
    assert await books.verify() == []


async def test_resolving_unknown_or_non_pending_transfers(
    books: Books, merchant_id: uuid.UUID
) -> None:
    with pytest.raises(TransferNotFound):
        await books.run(lambda s: ledger.post_pending(s, "nope"))
    with pytest.raises(TransferNotFound):
        await books.run(lambda s: ledger.void_pending(s, "nope"))
    top_up = await books.top_up(merchant_id, 100)
    with pytest.raises(TransferStateError):
        await books.run(lambda s: ledger.void_pending(s, top_up.id))


async def test_vault_cannot_be_overdrawn_by_a_direct_post(
    books: Books, merchant_id: uuid.UUID
) -> None:
    k = keys(merchant_id)
    await books.top_up(merchant_id, 1_000, vault="deposit")
    move = [Posting(k["deposit"], k["withdrawal"], 1_001)]
    with pytest.raises(InsufficientFunds):
        await books.run(lambda s: ledger.post(s, "move:1", move, kind="transfer"))
    move = [Posting(k["deposit"], k["withdrawal"], 1_000)]
    await books.run(lambda s: ledger.post(s, "move:2", move, kind="transfer"))
    assert (await books.balance(k["deposit"])).available == 0
    assert (await books.balance(k["withdrawal"])).available == 1_000


async def test_refusal_inside_a_callers_transaction_leaves_nothing_behind(
    books: Books, merchant_id: uuid.UUID
) -> None:
    """A caller that catches InsufficientFunds and commits its own work must not commit
    half a transfer: the ledger's savepoint is rolled back."""
    k = keys(merchant_id)
    await books.top_up(merchant_id, 100)
    # Debits two vaults: the first (in lock order) may succeed before the second fails.
    await books.top_up(merchant_id, 100, vault="deposit")
    postings = [
        Posting(k["deposit"], k["clearing"], 50),
        Posting(k["withdrawal"], k["clearing"], 500),
    ]

    async def work(session: AsyncSession) -> None:
        with pytest.raises(InsufficientFunds):
            await ledger.post(session, "two-vaults", postings, kind="transfer")

    await books.run(work)
    assert (await books.balance(k["deposit"])).available == 100
    assert (await books.balance(k["withdrawal"])).available == 100
    assert await books.verify() == []


@pytest.mark.parametrize(
    "bad",
    [
        lambda m: [],
        lambda m: [Posting(AccountKey.clearing(P), AccountKey.vault(m, P, "deposit"), 1)] * 65,
        lambda m: [
            Posting(AccountKey.clearing(P), AccountKey.vault(m, P, "deposit"), 1),
            Posting(AccountKey.clearing(P, "USD"), AccountKey.vault(m, P, "deposit", "USD"), 1),
        ],
    ],
    ids=["empty", "too-many", "two-currencies"],
)
async def test_invalid_transfers_are_refused(
    books: Books, merchant_id: uuid.UUID, bad: object
) -> None:
    postings = bad(merchant_id)  # type: ignore[operator]
    with pytest.raises(InvalidTransfer):
        await books.run(lambda s: ledger.post(s, "bad", postings, kind="deposit"))
    assert await books.run(lambda s: ledger.get_transfer(s, "bad")) is None


def test_postings_and_keys_refuse_nonsense() -> None:
    m = uuid.uuid4()
    with pytest.raises(ValueError, match="positive"):
        Posting(AccountKey.clearing(P), AccountKey.vault(m, P, "deposit"), 0)
    with pytest.raises(ValueError, match="positive"):
        Posting(AccountKey.clearing(P), AccountKey.vault(m, P, "deposit"), True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="different"):
        Posting(AccountKey.clearing(P), AccountKey.clearing(P), 5)
    with pytest.raises(ValueError, match="provider"):
        AccountKey.clearing("paypal")
    with pytest.raises(ValueError, match="vault"):
        AccountKey.vault(m, P, "savings")
    with pytest.raises(ValueError, match="currency"):
        AccountKey.fee_revenue(P, "XXX")
    key = AccountKey.vault(m, P, "deposit")
    assert AccountKey.from_code(key.code) == key
    assert AccountKey.from_code(AccountKey.fee_revenue(P).code) == AccountKey.fee_revenue(P)
    assert key.id == AccountKey.vault(m, P, "deposit").id
    assert deposit_postings(m, P, 100, 0) == [
        Posting(AccountKey.clearing(P), AccountKey.vault(m, P, "deposit"), 100)
    ]
    with pytest.raises(ValueError, match="fee"):
        deposit_postings(m, P, 100, 101)
