"""Every withdrawal fault the Finpay sandbox can make, through the public API, in one
book: drop, duplicate, reorder, delay, 5xx, timeout, late refund and a lagging Check
Status. At the end `ledger verify` (with its cross-checks) is clean, provider clearing
equals the balance Finpay reports, and the merchant's vault holds exactly what the
scenario intended."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from clearing_gateway.crosscheck.service import provider_balance, verify_all
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.finpay.client import FinpayClient
from clearing_gateway.withdrawals.reconciliation import reconcile
from tests.providers.conftest import settled_inbox
from tests.withdrawals.conftest import Payouts
from tests.withdrawals.test_faults import fault_on_transfer
from tests.withdrawals.test_reconcile_money import lag_refunds, later
from tests.withdrawals.test_reconciliation import operator

FUNDS = 20_000_000  # minor units placed with Finpay
AMOUNT = 2_000_000  # each withdrawal: 20,000.00


async def create(payouts: Payouts) -> str:
    created = await payouts.create()
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["transactionId"])


async def reference(payouts: Payouts, tx: str) -> str:
    return (await payouts.row(tx)).provider_reference


async def test_every_withdrawal_fault_ends_in_balanced_books(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await payouts.fund(FUNDS)
    await payouts.control("balance", {"add": FUNDS // 100})
    await payouts.control("settings", {"autoSettle": False})
    paid: list[str] = []
    returned: list[str] = []

    # 1. delay + duplicate: the notification is held back, then sent twice.
    delayed = await create(payouts)
    await payouts.run_jobs()
    await payouts.control("callbacks/mode", {"mode": "hold"})
    await payouts.control(f"transfers/{await reference(payouts, delayed)}/settle")
    await asyncio.sleep(0.3)
    assert await payouts.status(delayed) == "PROCESSING"
    await payouts.control("callbacks/mode", {"mode": "deliver"})
    await payouts.control("callbacks/release", {"order": "fifo"})
    await payouts.until_status(delayed, "SUCCESS")
    await payouts.control("callbacks/resend-last")
    paid.append(delayed)

    # 2. reorder: "03 Pending" arrives after "00 Success".
    reordered = await create(payouts)
    await payouts.run_jobs()
    ref = await reference(payouts, reordered)
    await payouts.control("callbacks/mode", {"mode": "hold"})
    await payouts.control(f"transfers/{ref}/hold")
    await payouts.control(f"transfers/{ref}/notify")
    await payouts.control(f"transfers/{ref}/settle")
    await payouts.control("callbacks/mode", {"mode": "deliver"})
    await payouts.control("callbacks/release", {"order": "reverse"})
    await payouts.until_status(reordered, "SUCCESS")
    paid.append(reordered)

    # 3. drop: the notification never comes; the poll finds the failure.
    dropped = await create(payouts)
    await payouts.run_jobs()
    await payouts.control("callbacks/mode", {"mode": "drop"})
    await payouts.control(f"transfers/{await reference(payouts, dropped)}/fail")
    await reconcile(payouts.runtime, later(61))
    assert await payouts.status(dropped) == "FAILED"
    await payouts.control("callbacks/mode", {"mode": "deliver"})

    # 4. timeout: the transfer arrived, the answer did not; the poll adopts it.
    await fault_on_transfer(payouts, monkeypatch, "timeout")
    timed_out = await create(payouts)
    await payouts.run_jobs()
    assert (await payouts.row(timed_out)).outcome_unknown is True
    await payouts.control(f"transfers/{await reference(payouts, timed_out)}/settle")
    await payouts.until_status(timed_out, "SUCCESS")
    paid.append(timed_out)

    # 5. 5xx: nothing arrived; never resent by itself, an operator approves it.
    await fault_on_transfer(payouts, monkeypatch, "5xx")
    lost = await create(payouts)
    await payouts.run_jobs()
    window = payouts.runtime.settings.withdrawal_not_found_after_seconds
    await reconcile(payouts.runtime, utcnow() + dt.timedelta(seconds=window + 1))
    assert (await payouts.row(lost)).stuck_since is not None
    await asyncio.to_thread(operator, payouts, "resubmit", lost, "--note", "never received")
    await payouts.run_jobs()
    await payouts.control(f"transfers/{await reference(payouts, lost)}/settle")
    await payouts.until_status(lost, "SUCCESS")
    paid.append(lost)

    # 6. late refund while Check Status lags: kept, re-checked, credited once.
    refunded = await create(payouts)
    await payouts.run_jobs()
    await payouts.control(f"transfers/{await reference(payouts, refunded)}/settle")
    await payouts.until_status(refunded, "SUCCESS")
    lag = lag_refunds(monkeypatch)
    await payouts.control(f"transfers/{await reference(payouts, refunded)}/refund")
    await settled_inbox(payouts.runtime, "finpay", 9)
    assert await payouts.status(refunded) == "SUCCESS"
    lag["on"] = False
    await reconcile(payouts.runtime, later(3600))
    assert await payouts.status(refunded) == "REFUNDED"
    returned.append(refunded)

    # 7. a refund whose notification is lost, found inside the refund window.
    silent = await create(payouts)
    await payouts.run_jobs()
    await payouts.control(f"transfers/{await reference(payouts, silent)}/settle")
    await payouts.until_status(silent, "SUCCESS")
    await payouts.control("callbacks/mode", {"mode": "drop"})
    await payouts.control(f"transfers/{await reference(payouts, silent)}/refund")
    await reconcile(payouts.runtime, later(86400))
    assert await payouts.status(silent) == "REFUNDED"
    returned.append(silent)

    # The books.
    assert len(payouts.finpay.transfers) == 7  # one disbursement per withdrawal
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (FUNDS - len(paid) * AMOUNT, 0)
    async with payouts.runtime.sessionmaker() as session:
        assert await verify_all(session) == []
        finpay = payouts.runtime.providers.finpay  # type: ignore[union-attr]
        reported = await FinpayClient.balance(finpay)
        assert await provider_balance(session, "finpay", reported) is None
    assert reported == FUNDS - len(paid) * AMOUNT - (len(paid) + len(returned)) * 250_000
