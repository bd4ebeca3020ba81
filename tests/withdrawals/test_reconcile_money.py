"""Withdrawal reconciliation against Finpay: a refund after success is never dropped, a
disbursement is never sent twice, and an amount the provider sees differently is never
settled (docs/reconciliation.md, "Withdrawals")."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from clearing_gateway import jobs
from clearing_gateway.cli import app as cli
from clearing_gateway.crosscheck.service import verify_all
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.models import Job
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import TransferRequest, TransferStatus
from clearing_gateway.providers.config import FinpayConfig
from clearing_gateway.providers.errors import ProviderOutcomeUnknown
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.providers.finpay.client import FinpayClient
from clearing_gateway.withdrawals.models import Withdrawal
from clearing_gateway.withdrawals.reconciliation import reconcile
from clearing_gateway.withdrawals.submission import submit_withdrawal
from clearing_gateway.withdrawals.tasks import submit as submit_job
from tests.providers.conftest import settled_inbox
from tests.withdrawals.conftest import Payouts
from tests.withdrawals.test_faults import AMOUNT, FUNDS, after_poll_age, fault_on_transfer, start
from tests.withdrawals.test_reconciliation import operator


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def configure(payouts: Payouts, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    """Settings for the test's own runtime (the worker and the reconciliation)."""
    updated = payouts.runtime.settings.model_copy(update=settings)
    monkeypatch.setattr(payouts.runtime, "settings", updated)


def lag_refunds(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Check Status keeps saying `00` for a refunded transfer while lag["on"]."""
    real = FinpayClient.check_status
    lag = {"on": True}

    async def lagging(self: FinpayClient, reference: str) -> TransferStatus:
        answer = await real(self, reference)
        if lag["on"] and answer.status is DisbursementStatus.REFUNDED:
            return dataclasses.replace(
                answer, status=DisbursementStatus.SUCCESS, provider_status_code="00"
            )
        return answer

    monkeypatch.setattr(FinpayClient, "check_status", lagging)  # server and test runtimes
    return lag


async def paid(payouts: Payouts) -> str:
    """A funded withdrawal, paid out (SUCCESS)."""
    tx = await start(payouts)
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    return tx


async def resubmit_jobs(payouts: Payouts) -> list[Job]:
    async with payouts.runtime.sessionmaker() as session:
        query = select(Job).where(Job.dedupe_key.like("withdrawal-resubmit:%"))
        return list(await session.scalars(query))


# --- a refund after success ---------------------------------------------------------------


async def test_refund_notice_kept_while_check_status_lags_then_credited_once(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = await paid(payouts)
    row = await payouts.row(tx)
    lag = lag_refunds(monkeypatch)
    await payouts.control(f"transfers/{row.provider_reference}/refund")  # sends "04"
    rows = await settled_inbox(payouts.runtime, "finpay", 2)
    assert rows[-1].status != "ignored"  # kept, not answered-and-dropped
    kept = await payouts.row(tx)
    assert (kept.status, kept.notice_code) == ("SUCCESS", "REFUNDED")
    # Still lagging: re-checked, nothing moves.
    report = await reconcile(payouts.runtime, later(1))
    assert report.polled == 1
    assert await payouts.status(tx) == "SUCCESS"
    lag["on"] = False  # Check Status now says 04
    report = await reconcile(payouts.runtime, later(3600))
    assert (report.polled, report.resolved) == (1, 1)
    assert await payouts.status(tx) == "REFUNDED"
    assert (await payouts.row(tx)).notice_code is None
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (FUNDS, 0)
    # The same notification again, and more passes: nothing moves twice.
    await payouts.control("callbacks/resend-last")
    await settled_inbox(payouts.runtime, "finpay", 3)
    await reconcile(payouts.runtime, later(7 * 86400))
    assert (await payouts.vault()).available == FUNDS
    assert [e["responseCode"] for e in await payouts.events(tx)] == ["01", "03", "00", "04"]


async def test_lost_refund_notification_is_found_within_the_refund_window(
    payouts: Payouts,
) -> None:
    tx = await paid(payouts)
    row = await payouts.row(tx)
    await payouts.control("callbacks/mode", {"mode": "drop"})
    await payouts.control(f"transfers/{row.provider_reference}/refund")
    window = payouts.runtime.settings.withdrawal_refund_window_seconds
    assert window == 30 * 86400  # the documented default
    # Past the window a SUCCESS withdrawal is no longer asked about.
    assert (await reconcile(payouts.runtime, later(window + 60))).polled == 0
    report = await reconcile(payouts.runtime, later(5 * 86400))
    assert (report.polled, report.resolved) == (1, 1)
    assert await payouts.status(tx) == "REFUNDED"
    assert (await payouts.vault()).available == FUNDS
    assert [e["responseCode"] for e in await payouts.events(tx)][-1] == "04"


async def test_refund_checks_back_off_up_to_their_cap(payouts: Payouts) -> None:
    tx = await paid(payouts)
    settings = payouts.runtime.settings
    when = later(settings.withdrawal_poll_after_seconds + 1)
    gaps = []
    for _ in range(12):
        report = await reconcile(payouts.runtime, when)
        assert report.polled == 1
        row = await payouts.row(tx)
        assert row.next_poll_at is not None
        gaps.append(row.next_poll_at - when)
        when = row.next_poll_at
    assert gaps == sorted(gaps)
    assert gaps[-1] == dt.timedelta(seconds=settings.withdrawal_refund_poll_max_interval_seconds)
    assert await payouts.status(tx) == "SUCCESS"


async def test_unconfirmed_notice_goes_to_an_operator_after_its_expiry(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = await paid(payouts)
    row = await payouts.row(tx)
    lag = lag_refunds(monkeypatch)
    await payouts.control(f"transfers/{row.provider_reference}/refund")
    await settled_inbox(payouts.runtime, "finpay", 2)
    expiry = payouts.runtime.settings.withdrawal_notice_confirm_seconds
    await reconcile(payouts.runtime, later(60))
    assert (await payouts.row(tx)).stuck_since is None
    await reconcile(payouts.runtime, later(expiry + 60))
    flagged = await payouts.row(tx)
    assert flagged.status == "SUCCESS"
    assert flagged.stuck_since is not None
    assert flagged.review_reason is not None
    assert "REFUNDED" in flagged.review_reason
    assert (await payouts.vault()).available == FUNDS - AMOUNT
    # Check Status catches up at last: refunded, and nothing waits for an operator.
    lag["on"] = False
    await reconcile(payouts.runtime, later(expiry + 2 * 86400))
    settled = await payouts.row(tx)
    assert (settled.status, settled.stuck_since, settled.review_reason) == ("REFUNDED", None, None)
    assert (await payouts.vault()).available == FUNDS


# --- no second disbursement --------------------------------------------------------------


async def test_two_submit_runs_send_one_transfer(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await payouts.control("settings", {"autoSettle": False})
    tx = await start(payouts)
    sent: list[str] = []
    real = FinpayClient.transfer

    async def counting(self: FinpayClient, request: TransferRequest) -> TransferStatus:
        sent.append(request.reference)
        await asyncio.sleep(0.2)  # a slow provider: both runs would be in flight
        return await real(self, request)

    monkeypatch.setattr(FinpayClient, "transfer", counting)
    outcomes = await asyncio.gather(
        submit_withdrawal(payouts.runtime, uuid.UUID(tx)),
        submit_withdrawal(payouts.runtime, uuid.UUID(tx)),
        return_exceptions=True,
    )
    assert len(sent) == 1, outcomes
    assert await payouts.status(tx) == "PROCESSING"
    row = await payouts.row(tx)
    assert row.submit_lease_until is None  # released once the answer is recorded


async def test_a_stale_submission_cannot_record_its_answer(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose lease ran out (and was taken over) records nothing."""
    await payouts.control("settings", {"autoSettle": False})
    configure(payouts, monkeypatch, withdrawal_submit_lease_seconds=0.3)
    tx = await start(payouts)
    real = FinpayClient.transfer
    release = asyncio.Event()

    async def slow(self: FinpayClient, request: TransferRequest) -> TransferStatus:
        await release.wait()
        return await real(self, request)

    monkeypatch.setattr(FinpayClient, "transfer", slow)
    stale = asyncio.create_task(submit_withdrawal(payouts.runtime, uuid.UUID(tx)))
    await asyncio.sleep(0.6)  # the lease is over; another run takes the withdrawal
    monkeypatch.setattr(FinpayClient, "transfer", real)
    await submit_withdrawal(payouts.runtime, uuid.UUID(tx))
    taken = await payouts.row(tx)
    # The new run asked first: "not found", too early to count as never received.
    assert (taken.status, taken.outcome_unknown) == ("PROCESSING", True)
    assert payouts.finpay.transfers == {}
    release.set()
    await stale
    row = await payouts.row(tx)
    assert row.provider_transaction_id is None  # the stale answer was not recorded
    assert row.outcome_unknown is True
    # The truth still arrives through the poll.
    report = await reconcile(payouts.runtime, after_poll_age())
    assert report.polled == 1
    assert (await payouts.row(tx)).outcome_unknown is False
    assert len(payouts.finpay.transfers) == 1


async def test_overlapping_passes_poll_once_and_resubmit_once(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(payouts, monkeypatch, withdrawal_auto_resubmit=True)
    await fault_on_transfer(payouts, monkeypatch, "5xx")  # answer lost, nothing arrived
    tx = await start(payouts)
    await payouts.run_jobs()
    real = FinpayClient.check_status
    asked: list[str] = []

    async def slow(self: FinpayClient, reference: str) -> TransferStatus:
        asked.append(reference)
        await asyncio.sleep(0.3)
        return await real(self, reference)

    monkeypatch.setattr(FinpayClient, "check_status", slow)
    when = later(payouts.runtime.settings.withdrawal_not_found_after_seconds + 1)
    reports = await asyncio.gather(
        reconcile(payouts.runtime, when), reconcile(payouts.runtime, when)
    )
    assert sorted(r.polled for r in reports) == [0, 1]
    assert len(asked) == 1
    assert len(await resubmit_jobs(payouts)) == 1
    monkeypatch.setattr(FinpayClient, "check_status", real)
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    assert len(payouts.finpay.transfers) == 1


async def test_not_found_counts_only_after_its_window_and_then_goes_to_review(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fault_on_transfer(payouts, monkeypatch, "5xx")
    tx = await start(payouts)
    await payouts.run_jobs()
    assert payouts.runtime.settings.withdrawal_auto_resubmit is False  # the default
    window = payouts.runtime.settings.withdrawal_not_found_after_seconds
    early = await reconcile(payouts.runtime, after_poll_age())
    assert (early.polled, early.resubmitted) == (1, 0)
    row = await payouts.row(tx)
    assert (row.status, row.stuck_since) == ("PROCESSING", None)
    late = await reconcile(payouts.runtime, later(window + 3600))
    assert (late.polled, late.resubmitted) == (1, 0)
    row = await payouts.row(tx)
    assert row.stuck_since is not None
    assert row.review_reason is not None
    assert "resubmit" in row.review_reason
    assert await resubmit_jobs(payouts) == []
    await payouts.run_jobs()
    assert payouts.finpay.transfers == {}  # nothing was sent again
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (FUNDS - AMOUNT, AMOUNT)
    # The operator may not fail it (it was submitted), but may approve sending it again.
    refused = await asyncio.to_thread(
        operator, payouts, "resolve", tx, "--status", "FAILED", "--note", "x", code=1
    )
    assert "cannot be failed by hand" in refused
    listed = await asyncio.to_thread(operator, payouts, "stuck")
    assert "automatic resubmission is off" in listed
    await asyncio.to_thread(operator, payouts, "resubmit", tx, "--note", "Finpay: never seen")
    await asyncio.to_thread(operator, payouts, "resubmit", tx, "--note", "twice by mistake")
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    assert len(payouts.finpay.transfers) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, json={"message": "no Route matched with those values"}),
        httpx.Response(404, text="<html>Not Found</html>"),
        httpx.Response(404, json={"responseCode": "4040001", "responseMessage": "Not Found"}),
        httpx.Response(502, text="bad gateway"),
    ],
)
async def test_only_an_explicit_07_reads_as_not_found(answer: httpx.Response) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: answer))
    client = FinpayClient(FinpayConfig("https://finpay.example", "M", "K", "signature"), http)
    with pytest.raises(ProviderOutcomeUnknown):
        await client.check_status("WD0123")
    explicit = httpx.AsyncClient(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(
                404,
                json={
                    "responseCode": "4040001",
                    "responseMessage": "Transaction Not Found",
                    "latestTransactionStatus": "07",
                },
            )
        )
    )
    client = FinpayClient(FinpayConfig("https://finpay.example", "M", "K", "signature"), explicit)
    assert (await client.check_status("WD0123")).status is DisbursementStatus.NOT_FOUND


# --- the provider's amount --------------------------------------------------------------


async def test_amount_the_provider_reports_differently_goes_to_an_operator(
    payouts: Payouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await payouts.control("settings", {"autoSettle": False})
    await payouts.control("callbacks/mode", {"mode": "drop"})
    tx = await start(payouts)
    await payouts.run_jobs()
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/settle")
    real = FinpayClient.check_status

    async def other_amount(self: FinpayClient, reference: str) -> TransferStatus:
        answer = await real(self, reference)
        return dataclasses.replace(answer, amount=AMOUNT + 100_000)

    monkeypatch.setattr(FinpayClient, "check_status", other_amount)
    await reconcile(payouts.runtime, after_poll_age())
    flagged = await payouts.row(tx)
    assert flagged.status == "PROCESSING"  # never settled silently
    assert flagged.stuck_since is not None
    assert flagged.review_reason is not None
    assert "21000.00" in flagged.review_reason
    assert "20000.00" in flagged.review_reason
    vault = await payouts.vault()
    assert (vault.debits_pending, vault.debits_posted) == (AMOUNT, 0)
    monkeypatch.setattr(FinpayClient, "check_status", real)
    await reconcile(payouts.runtime, later(3600))
    assert await payouts.status(tx) == "SUCCESS"


# --- ledger verify: every withdrawal against its hold -------------------------------------


async def test_verify_checks_each_withdrawal_against_its_hold(payouts: Payouts) -> None:
    tx = await paid(payouts)
    async with payouts.runtime.sessionmaker() as session:
        assert await verify_all(session) == []
    expected = {
        "PROCESSING": "PROCESSING but its hold is posted",
        "FAILED": "FAILED but its hold is posted",
        "REFUNDED": "REFUNDED without a refund",
    }
    for wrong, finding in expected.items():
        await set_status(payouts, tx, wrong)
        async with payouts.runtime.sessionmaker() as session:
            findings = await verify_all(session)
        assert {f.check for f in findings} == {"withdrawal"}, wrong
        assert all(tx in f.subject for f in findings)
        assert finding in [f.detail for f in findings]
    await set_status(payouts, tx, "SUCCESS")


async def set_status(payouts: Payouts, tx: str, status: str) -> None:
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        await session.execute(
            update(Withdrawal).where(Withdrawal.id == uuid.UUID(tx)).values(status=status)
        )


async def test_a_held_fence_makes_the_submit_job_wait_for_its_lease(payouts: Payouts) -> None:
    await payouts.control("settings", {"autoSettle": False})
    await payouts.fund(FUNDS)
    with_lease = utcnow() + dt.timedelta(seconds=120)

    async def hold_fence(session: Any) -> None:
        await session.execute(
            update(Withdrawal).values(submit_token="t" * 32, submit_lease_until=with_lease)
        )

    created = await payouts.create()
    tx = str(created.json()["data"]["transactionId"])
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        await hold_fence(session)
    with pytest.raises(jobs.Retry) as retry:
        await submit_job(payouts.runtime, Job(payload={"withdrawalId": tx}))
    assert dt.timedelta(seconds=100) < retry.value.after <= dt.timedelta(seconds=120)
    assert payouts.finpay.transfers == {}
    assert await payouts.status(tx) == "PENDING"
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        await session.execute(update(Withdrawal).values(submit_lease_until=None))
    await payouts.run_jobs()
    assert len(payouts.finpay.transfers) == 1


async def test_a_failure_after_success_goes_to_an_operator(payouts: Payouts) -> None:
    tx = await paid(payouts)
    await payouts.control("callbacks/mode", {"mode": "drop"})
    await payouts.control(f"transfers/{(await payouts.row(tx)).provider_reference}/fail")
    await reconcile(payouts.runtime, later(3600))
    row = await payouts.row(tx)
    assert row.status == "SUCCESS"  # nothing moves on a contradiction
    assert row.review_reason is not None
    assert "06 after SUCCESS" in row.review_reason
    assert (await payouts.vault()).available == FUNDS - AMOUNT


async def test_verify_compares_provider_clearing_with_the_finpay_balance(
    payouts: Payouts,
) -> None:
    await payouts.control("balance", {"add": FUNDS // 100})
    await paid(payouts)  # 20,000.00 paid out, 2,500.00 charged by Finpay
    env = {
        "DATABASE_URL": payouts.runtime.settings.database_url,
        "PUBLIC_BASE_URL": payouts.runtime.settings.public_base_url,
    }

    def verify_cli(code: int) -> str:
        result = CliRunner().invoke(
            cli, ["ledger", "verify", "--provider-balance", "finpay"], env=env
        )
        assert result.exit_code == code, result.output
        return result.output

    assert "every check passed" in await asyncio.to_thread(verify_cli, 0)
    await payouts.control("balance", {"add": 1})  # money at Finpay we never booked
    out = await asyncio.to_thread(verify_cli, 2)
    assert "[provider-balance] finpay" in out
    assert "the provider reports 2750100" in out
