"""Finpay's daily statement lists each payout and each refund; matched against the
withdrawals they belong to, a clean day has no break and a doctored one has each kind."""

from __future__ import annotations

from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.reconciliation.service import reconcile_statement
from clearing_gateway.reconciliation.statements import StatementReport
from tests.withdrawals.conftest import Payouts
from tests.withdrawals.test_faults import start

TODAY = utcnow().date().isoformat()


async def reconcile(payouts: Payouts) -> StatementReport:
    text = payouts.finpay.statement.render(TODAY)
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        return await reconcile_statement(session, "finpay", TODAY, text)


async def test_payouts_and_refunds_match_the_statement(payouts: Payouts) -> None:
    tx = await start(payouts)
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    paid = await reconcile(payouts)
    assert (paid.lines, paid.matched, paid.breaks) == (1, 1, [])

    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/refund")
    await payouts.until_status(tx, "REFUNDED")
    refunded = await reconcile(payouts)
    assert (refunded.lines, refunded.matched, refunded.breaks) == (2, 2, [])

    payouts.finpay.statement.breaks[TODAY] = ["amount_mismatch", "missing_in_ledger"]
    broken = await reconcile(payouts)
    assert sorted(b.kind.value for b in broken.breaks) == ["amount_mismatch", "missing_in_ledger"]
