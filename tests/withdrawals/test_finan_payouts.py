"""Finan payouts through the merchant API: routed by bank, currency and where the
merchant's money is; no account inquiry (a connector capability Finan lacks), so the
merchant's name is checked against KYC; an OTP step whose answer was lost is finished by
the poll, and one never finished expires into a failure that releases the hold."""

from __future__ import annotations

import datetime as dt

import pytest

from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.providers.finan.sandbox import FinanSandbox
from clearing_gateway.providers.sandbox_magic import PAYOUT_ACCOUNTS, PayoutOutcome
from clearing_gateway.withdrawals.reconciliation import reconcile
from tests.withdrawals.conftest import Payouts

FUNDS = 5_000_000


async def fund_finan(payouts: Payouts, amount: int = FUNDS) -> None:
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        await ledger.post(
            session,
            f"top-up:{new_id()}",
            [
                Posting(
                    AccountKey.clearing("finan"),
                    AccountKey.vault(payouts.merchant.id, "finan", "withdrawal"),
                    amount,
                )
            ],
            kind="top_up",
        )


async def finan_vault(payouts: Payouts) -> ledger.AccountBalance:
    async with payouts.runtime.sessionmaker() as session:
        return await ledger.account_balance(
            session, AccountKey.vault(payouts.merchant.id, "finan", "withdrawal")
        )


def sandbox(payouts: Payouts) -> FinanSandbox:
    found: FinanSandbox = payouts.gateway.sandboxes.finan
    return found


def after_poll_age() -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=61)


async def create(payouts: Payouts, **overrides: str) -> str:
    created = await payouts.create(beneficiaryAccountNo="5566778899", **overrides)
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["transactionId"])


async def test_money_in_the_finan_vault_pays_out_through_finan(payouts: Payouts) -> None:
    await fund_finan(payouts)
    tx = await create(payouts)
    assert (await payouts.get(tx))["provider"] == "finan"
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")
    (payout,) = sandbox(payouts).payouts.values()
    assert payout["beneficiary_info"]["name"] == "Karman Prasasta"  # the merchant's name
    assert payout["amount"] == 20_000  # whole rupiah
    vault = await finan_vault(payouts)
    assert vault.debits_pending == 0
    assert vault.available == FUNDS - 20_000_00 - (await payouts.row(tx)).fee
    assert payouts.finpay.transfers == {}


async def test_the_preferred_provider_wins_when_it_holds_the_money(payouts: Payouts) -> None:
    await fund_finan(payouts)
    await payouts.fund(FUNDS)
    tx = await create(payouts)
    assert (await payouts.get(tx))["provider"] == "finpay"


async def test_no_vault_covers_it_insufficient_balance(payouts: Payouts) -> None:
    await fund_finan(payouts, 1_000_00)
    created = await payouts.create()
    assert created.status_code == 422, created.text
    assert created.json()["message"] == "INSUFFICIENT_BALANCE"


async def test_a_name_that_is_not_the_users_fails_before_sending(payouts: Payouts) -> None:
    await fund_finan(payouts)
    tx = await create(payouts, beneficiaryAccountName="Budi Santoso")
    await payouts.run_jobs()
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert "no account inquiry" in data["failureReason"]
    assert sandbox(payouts).payouts == {}
    assert (await finan_vault(payouts)).available == FUNDS


async def test_a_lost_otp_answer_is_finished_by_the_poll(payouts: Payouts) -> None:
    await fund_finan(payouts)
    # The OTP call fails with a 5xx: the payout exists, waiting for its OTP.
    await payouts.gateway.control("finan", "faults", {"mode": "5xx", "count": 1, "path": "/otps"})
    tx = await create(payouts)
    await payouts.run_jobs()
    row = await payouts.row(tx)
    assert (row.status, row.outcome_unknown) == ("PROCESSING", True)
    (payout,) = sandbox(payouts).payouts.values()
    assert payout["status"] == "waiting_confirm"
    report = await reconcile(payouts.runtime, after_poll_age())
    assert report.polled == 1
    await payouts.until_status(tx, "SUCCESS")
    assert len(sandbox(payouts).payouts) == 1


async def test_an_otp_step_never_finished_expires_and_releases_the_hold(
    payouts: Payouts,
) -> None:
    await fund_finan(payouts)
    await payouts.gateway.control("finan", "settings", {"otpExpirySeconds": 0})
    await payouts.gateway.control("finan", "faults", {"mode": "5xx", "count": 1, "path": "/otps"})
    tx = await create(payouts)
    await payouts.run_jobs()
    assert (await payouts.row(tx)).outcome_unknown
    await reconcile(payouts.runtime, after_poll_age())
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    (payout,) = sandbox(payouts).payouts.values()
    assert payout["status"] == "cancelled"
    vault = await finan_vault(payouts)
    assert (vault.available, vault.debits_pending) == (FUNDS, 0)


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (PayoutOutcome.INVALID_ACCOUNT, "400011"),
        (PayoutOutcome.INSUFFICIENT_BALANCE, "400031"),
        (PayoutOutcome.FAILED, "provider failed the transfer"),
    ],
)
async def test_finan_magic_accounts(payouts: Payouts, outcome: PayoutOutcome, reason: str) -> None:
    await fund_finan(payouts)
    account = next(a for a, found in PAYOUT_ACCOUNTS.items() if found is outcome)
    created = await payouts.create(beneficiaryAccountNo=account)
    tx = str(created.json()["data"]["transactionId"])
    assert (await payouts.get(tx))["provider"] == "finan"
    await payouts.run_jobs()
    await payouts.until_status(tx, "FAILED")
    assert reason in (await payouts.get(tx))["failureReason"]
    vault = await finan_vault(payouts)
    assert (vault.available, vault.debits_pending) == (FUNDS, 0)
