"""Every fault the Finpay sandbox can inject ends with the right status, exactly one
disbursement and an exact balance: timeouts, 5xx, crashes, duplicate, late and
out-of-order notifications, refunds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import AccountInquiry, TransferRequest, TransferStatus
from clearing_gateway.withdrawals.reconciliation import reconcile
from tests.providers.conftest import eventually, settled_inbox
from tests.withdrawals.conftest import Payouts

FUNDS = 5_000_000
AMOUNT = 2_000_000


def after_poll_age() -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=61)


async def fault_on_transfer(payouts: Payouts, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Arm the sandbox fault right after the account inquiry, so it hits the transfer."""
    finpay = payouts.runtime.providers.finpay  # type: ignore[union-attr]
    real = finpay.inquire_account

    async def inquire_then_arm(bank: str, account: str, **hints: Any) -> AccountInquiry:
        answer = await real(bank, account, **hints)
        await payouts.control("faults", {"mode": mode, "count": 1, "holdSeconds": 1.5})
        monkeypatch.setattr(finpay, "inquire_account", real)
        return answer

    monkeypatch.setattr(finpay, "inquire_account", inquire_then_arm)


async def start(payouts: Payouts) -> str:
    await payouts.fund(FUNDS)
    created = await payouts.create()
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["transactionId"])


async def assert_one_transfer_and_balance(payouts: Payouts, *, paid: bool) -> None:
    """Exactly one disbursement reached the sandbox; the vault paid for it only if paid."""
    assert len(payouts.finpay.transfers) == 1
    vault = await payouts.vault()
    spent = AMOUNT if paid else 0
    assert (vault.available, vault.debits_pending, vault.debits_posted) == (
        FUNDS - spent,
        0,
        spent,
    )


@pytest.mark.parametrize("outcome", ["settle", "fail"])
async def test_timeout_then_status_inquiry_resolves(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    await payouts.control("settings", {"autoSettle": False})
    await payouts.control("callbacks/mode", {"mode": "drop"})
    await fault_on_transfer(payouts, monkeypatch, "timeout")
    tx = await start(payouts)
    await payouts.run_jobs()
    row = await payouts.row(tx)
    assert (row.status, row.outcome_unknown) == ("PROCESSING", True)
    assert len(payouts.finpay.transfers) == 1  # it did arrive; we just never heard back
    # The submit job is done: nothing resubmits blindly.
    await payouts.run_jobs()
    assert len(payouts.finpay.transfers) == 1

    await payouts.control(f"transfers/{row.provider_reference}/{outcome}")
    report = await reconcile(payouts.runtime, after_poll_age())
    assert (report.polled, report.resolved, report.resubmitted) == (1, 1, 0)
    wanted = "SUCCESS" if outcome == "settle" else "FAILED"
    data = await payouts.get(tx)
    assert data["status"] == wanted
    assert (await payouts.row(tx)).outcome_unknown is False
    await assert_one_transfer_and_balance(payouts, paid=outcome == "settle")
    assert [h[2] for h in await payouts.history(tx)][-1] == "poll"


def auto_resubmit(payouts: Payouts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn WITHDRAWAL_AUTO_RESUBMIT on for the test's worker and reconciliation."""
    updated = payouts.runtime.settings.model_copy(update={"withdrawal_auto_resubmit": True})
    monkeypatch.setattr(payouts.runtime, "settings", updated)


def after_not_found_window(payouts: Payouts) -> dt.datetime:
    window = payouts.runtime.settings.withdrawal_not_found_after_seconds
    return utcnow() + dt.timedelta(seconds=window + 1)


async def test_5xx_never_reached_the_provider_and_is_resubmitted_after_checking(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_resubmit(payouts, monkeypatch)
    await fault_on_transfer(payouts, monkeypatch, "5xx")
    tx = await start(payouts)
    await payouts.run_jobs()
    row = await payouts.row(tx)
    assert (row.status, row.outcome_unknown) == ("PROCESSING", True)
    assert payouts.finpay.transfers == {}
    # Too early: the lost call might still be in flight, so nothing happens yet.
    early = await reconcile(payouts.runtime, utcnow() + dt.timedelta(seconds=5))
    assert early.polled == 0
    # "Not found" inside the window is not proof that nothing arrived.
    polled = await reconcile(payouts.runtime, after_poll_age())
    assert (polled.polled, polled.resubmitted) == (1, 0)
    report = await reconcile(payouts.runtime, after_not_found_window(payouts))
    assert (report.polled, report.resubmitted) == (1, 1)
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    await assert_one_transfer_and_balance(payouts, paid=True)
    assert (await payouts.row(tx)).provider_reference == row.provider_reference


async def _crash_inside_transfer(
    payouts: Payouts,
    monkeypatch: pytest.MonkeyPatch,
    send_first: bool,
) -> str:
    finpay = payouts.runtime.providers.finpay  # type: ignore[union-attr]
    real: Callable[[TransferRequest], Awaitable[TransferStatus]] = finpay.transfer
    reached = asyncio.Event()

    async def crashing(request: TransferRequest) -> TransferStatus:
        if send_first:
            await real(request)
        reached.set()
        await asyncio.Event().wait()  # the process dies here
        raise AssertionError("unreachable")

    monkeypatch.setattr(finpay, "transfer", crashing)
    # The fence's lease ends quickly here, as it would after a real crash.
    updated = payouts.runtime.settings.model_copy(update={"withdrawal_submit_lease_seconds": 0.2})
    monkeypatch.setattr(payouts.runtime, "settings", updated)
    tx = await start(payouts)
    worker = payouts.worker()
    worker.start()
    await asyncio.wait_for(reached.wait(), 10)
    await worker.abandon()
    monkeypatch.setattr(finpay, "transfer", real)
    row = await payouts.row(tx)
    assert row.status == "PENDING"
    assert row.submitted_at is not None
    await asyncio.sleep(0.3)
    payouts.clock.advance(payouts.runtime.settings.job_lease_seconds + 1)
    await payouts.run_jobs()
    return tx


async def test_crash_after_marking_started_before_sending(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = await _crash_inside_transfer(payouts, monkeypatch, send_first=False)
    # The restart asked first: "not found", but too soon to prove nothing arrived.
    row = await payouts.row(tx)
    assert (row.status, row.outcome_unknown) == ("PROCESSING", True)
    assert payouts.finpay.transfers == {}
    # Later still "not found": automatic resubmission is off, so an operator decides.
    await reconcile(payouts.runtime, after_not_found_window(payouts))
    row = await payouts.row(tx)
    assert row.stuck_since is not None
    assert row.review_reason is not None
    assert payouts.finpay.transfers == {}
    # With it on, the same pass resubmits through the check-first path, once.
    auto_resubmit(payouts, monkeypatch)
    report = await reconcile(
        payouts.runtime, after_not_found_window(payouts) + dt.timedelta(hours=2)
    )
    assert report.resubmitted == 1
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    await assert_one_transfer_and_balance(payouts, paid=True)


async def test_crash_after_sending_before_recording_the_answer(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await payouts.control("settings", {"autoSettle": False})
    tx = await _crash_inside_transfer(payouts, monkeypatch, send_first=True)
    # The restart found the transfer by its reference and adopted it, sending nothing.
    assert await payouts.status(tx) == "PROCESSING"
    assert len(payouts.finpay.transfers) == 1
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/settle")
    await payouts.until_status(tx, "SUCCESS")
    await assert_one_transfer_and_balance(payouts, paid=True)


async def test_duplicate_late_and_out_of_order_notifications(payouts: Payouts) -> None:
    await payouts.control("settings", {"autoSettle": False})
    tx = await start(payouts)
    await payouts.run_jobs()
    row = await payouts.row(tx)
    ref = row.provider_reference
    await payouts.control("callbacks/mode", {"mode": "hold"})
    await payouts.control(f"transfers/{ref}/hold")
    await payouts.control(f"transfers/{ref}/notify")  # "03 Pending", held back
    await payouts.control(f"transfers/{ref}/settle")  # "00 Success", held back
    await payouts.control("callbacks/mode", {"mode": "deliver"})
    await payouts.control("callbacks/release", {"order": "reverse"})  # success first
    rows = await settled_inbox(payouts.runtime, "finpay", 2)
    assert await payouts.status(tx) == "SUCCESS"
    await payouts.control("callbacks/resend-last")  # the same notification again
    rows = await settled_inbox(payouts.runtime, "finpay", 3)
    assert sorted(r.status for r in rows) == ["applied", "duplicate", "ignored"]
    assert await payouts.status(tx) == "SUCCESS"
    assert [e["responseCode"] for e in await payouts.events(tx)] == ["01", "03", "00"]
    await assert_one_transfer_and_balance(payouts, paid=True)


async def test_callback_before_the_worker_records_the_answer(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    finpay = payouts.runtime.providers.finpay  # type: ignore[union-attr]
    real = finpay.transfer

    async def slow_answer(request: TransferRequest) -> Any:
        answer = await real(request)
        await eventually(
            lambda: payouts.status(tx_holder[0]),
            lambda s: s == "SUCCESS",
        )
        return answer

    tx_holder: list[str] = []
    monkeypatch.setattr(finpay, "transfer", slow_answer)
    tx = await start(payouts)
    tx_holder.append(tx)
    await payouts.run_jobs()
    assert await payouts.status(tx) == "SUCCESS"
    assert [h[:2] for h in await payouts.history(tx)] == [
        (None, "PENDING"),
        ("PENDING", "PROCESSING"),
        ("PROCESSING", "SUCCESS"),
    ]
    await assert_one_transfer_and_balance(payouts, paid=True)


async def test_refund_credits_the_amount_back(payouts: Payouts) -> None:
    tx = await start(payouts)
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/refund")
    await payouts.until_status(tx, "REFUNDED")
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (FUNDS, 0)
    assert [e["responseCode"] for e in await payouts.events(tx)] == ["01", "03", "00", "04"]
    # A late failure after the refund changes nothing.
    await payouts.control(f"transfers/{row.provider_reference}/fail")
    rows = await settled_inbox(payouts.runtime, "finpay", 3)
    assert rows[-1].status == "ignored"
    assert await payouts.status(tx) == "REFUNDED"
    assert (await payouts.vault()).available == FUNDS
