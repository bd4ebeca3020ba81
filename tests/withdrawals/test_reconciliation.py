"""Reconciliation backoff, the stuck flag, operator commands, and concurrent requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import pytest
from typer.testing import CliRunner

from clearing_gateway.cli import app as cli
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.withdrawals.reconciliation import reconcile
from tests.withdrawals.conftest import Payouts


def operator(payouts: Payouts, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        cli, ["withdrawals", *args], env={"DATABASE_URL": payouts.runtime.settings.database_url}
    )
    assert result.exit_code == code, result.output
    return result.output


async def held_at_provider(payouts: Payouts) -> str:
    await payouts.fund(5_000_000)
    await payouts.control("settings", {"autoSettle": False})
    created = await payouts.create()
    tx = str(created.json()["data"]["transactionId"])
    await payouts.run_jobs()
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/hold")
    return tx


async def test_polls_back_off_then_flag_stuck_and_operator_resolves(payouts: Payouts) -> None:
    tx = await held_at_provider(payouts)
    settings = payouts.runtime.settings
    now = utcnow()
    first = await reconcile(payouts.runtime, now + dt.timedelta(seconds=61))
    assert (first.polled, first.resolved, first.flagged) == (1, 0, [])
    row = await payouts.row(tx)
    assert row.polls == 1
    assert row.next_poll_at is not None
    gap = row.next_poll_at - (now + dt.timedelta(seconds=61))
    assert gap == dt.timedelta(seconds=settings.withdrawal_poll_after_seconds * 2)
    # Not due again before the backed-off time.
    assert (await reconcile(payouts.runtime, now + dt.timedelta(seconds=100))).polled == 0
    late = now + dt.timedelta(seconds=settings.withdrawal_stuck_after_seconds + 1)
    flagged = await reconcile(payouts.runtime, late)
    assert flagged.flagged == [uuid.UUID(tx)]
    assert await payouts.status(tx) == "PROCESSING"  # flagged, never guessed

    listed = json.loads(await asyncio.to_thread(operator, payouts, "stuck", "--json"))
    assert [r["transactionId"] for r in listed] == [tx]
    assert "PROCESSING" in await asyncio.to_thread(operator, payouts, "stuck")
    refused = await asyncio.to_thread(
        operator, payouts, "resolve", tx, "--status", "REFUNDED", "--note", "x", code=1
    )
    assert "SUCCESS or FAILED" in refused
    # Submitted: an operator cannot release the hold, the provider may still pay.
    refused = await asyncio.to_thread(
        operator,
        payouts,
        "resolve",
        tx,
        "--status",
        "FAILED",
        "--note",
        "Finpay support: transfer cancelled",
        code=1,
    )
    assert "cannot be failed by hand" in refused
    assert await payouts.status(tx) == "PROCESSING"
    # The provider's own answer fails it.
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/fail")
    await payouts.until_status(tx, "FAILED")
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert "06" in data["failureReason"]
    assert (await payouts.vault()).available == 5_000_000
    assert (await payouts.history(tx))[-1] == ("PROCESSING", "FAILED", "callback")
    assert json.loads(await asyncio.to_thread(operator, payouts, "stuck", "--json")) == []
    again = await asyncio.to_thread(
        operator, payouts, "resolve", tx, "--status", "SUCCESS", "--note", "oops", code=1
    )
    assert "already FAILED" in again


async def test_operator_success_posts_the_hold(payouts: Payouts) -> None:
    tx = await held_at_provider(payouts)
    await asyncio.to_thread(
        operator, payouts, "resolve", tx, "--status", "success", "--note", "bank statement"
    )
    assert await payouts.status(tx) == "SUCCESS"
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending, vault.debits_posted) == (
        3_000_000,
        0,
        2_000_000,
    )
    assert [e["responseCode"] for e in await payouts.events(tx)] == ["01", "03", "00"]
    # The provider's late word agrees: nothing moves twice.
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/settle")
    await reconcile(payouts.runtime, utcnow() + dt.timedelta(days=2))
    assert (await payouts.vault()).debits_posted == 2_000_000


@pytest.mark.postgres_only
async def test_hundred_concurrent_withdrawals_against_sixty(payouts: Payouts) -> None:
    await payouts.fund(60 * 1_000_000)
    responses = await asyncio.gather(
        *(payouts.create(amount="10000.00") for _ in range(100)),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 60
    assert codes.count(422) == 40
    assert all(
        r.json()["message"] == "INSUFFICIENT_BALANCE" for r in responses if r.status_code == 422
    )
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (0, 60 * 1_000_000)
    listed = await payouts.merchant.client.get("/v1/withdrawals", params={"limit": 500})
    assert listed.json()["data"]["total"] == 60
