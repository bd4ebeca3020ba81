"""A withdrawal's hold is resolved once, however many copies of the provider's final
answer arrive together, and while the reconciliation polls the same transfer: one
posting, one `transfer` webhook per status, the vault charged once."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.withdrawals.reconciliation import reconcile
from tests.withdrawals.conftest import Payouts

FUNDS, AMOUNT = 5_000_000, 2_000_000
COPIES = 6


async def test_concurrent_final_notifications_and_a_poll_post_the_hold_once(
    payouts: Payouts,
) -> None:
    await payouts.control("settings", {"autoSettle": False})
    await payouts.fund(FUNDS)
    created = await payouts.create()
    assert created.status_code == 201, created.text
    tx = str(created.json()["data"]["transactionId"])
    await payouts.run_jobs()
    assert await payouts.status(tx) == "PROCESSING"
    reference = (await payouts.row(tx)).provider_reference

    await payouts.control("callbacks/mode", {"mode": "hold"})
    await payouts.control(f"transfers/{reference}/settle")  # "00 Success", held back
    success = payouts.finpay.callbacks.last
    assert success is not None
    async with httpx.AsyncClient(timeout=30) as client:
        outcomes = await asyncio.gather(
            *(
                client.post(success.url, content=success.body, headers=success.headers)
                for _ in range(COPIES)
            ),
            reconcile(payouts.runtime, utcnow() + dt.timedelta(seconds=61)),
            return_exceptions=True,
        )
    replies = outcomes[:COPIES]
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in replies), replies
    assert not isinstance(outcomes[-1], BaseException), outcomes[-1]

    assert await payouts.status(tx) == "SUCCESS"
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending, vault.debits_posted) == (
        FUNDS - AMOUNT,
        0,
        AMOUNT,
    )
    codes = [e["responseCode"] for e in await payouts.events(tx)]
    assert codes.count("00") == 1, codes
    assert len(payouts.finpay.transfers) == 1
