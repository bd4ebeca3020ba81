"""`ledger verify` sees a transfer whose status or legs disagree with the entries."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting, withdrawal_postings
from tests.ledger.conftest import Books


async def test_status_and_legs_drift_are_found(books: Books, merchant_id: uuid.UUID) -> None:
    vault = AccountKey.vault(merchant_id, "finpay", "withdrawal")
    await books.top_up(merchant_id, 1_000_000)
    postings = withdrawal_postings(merchant_id, "finpay", 200_000, 0)
    await books.run(lambda s: ledger.hold(s, "withdrawal:A", postings, kind="withdrawal"))
    deposit = [Posting(AccountKey.clearing("finpay"), vault, 50_000)]
    await books.run(lambda s: ledger.post(s, "deposit:x", deposit, kind="deposit"))
    assert await books.verify() == []

    async def tamper(session: AsyncSession) -> None:
        await session.execute(
            text("UPDATE ledger_transfers SET status='voided' WHERE id='withdrawal:A'")
        )
        await session.execute(
            text("UPDATE ledger_postings SET amount=5000000 WHERE transfer_id='deposit:x'")
        )

    await books.run(tamper)
    found = {(f.check, f.subject) for f in await books.verify()}
    assert found == {("transfer-state", "withdrawal:A"), ("transfer-state", "deposit:x")}
