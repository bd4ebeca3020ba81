"""The payout magic values of docs/sandbox.md, each through the merchant API: any
well-formed account pays out without registration (the API document's own sample
account included), and each magic account number triggers its outcome."""

from __future__ import annotations

import pytest

from clearing_gateway.providers.sandbox_magic import PAYOUT_ACCOUNTS, PayoutOutcome
from tests.providers.conftest import eventually
from tests.withdrawals.conftest import Payouts

FUNDS = 5_000_000


def magic(outcome: PayoutOutcome) -> str:
    return next(account for account, found in PAYOUT_ACCOUNTS.items() if found is outcome)


async def submit(payouts: Payouts, **overrides: str) -> str:
    await payouts.fund(FUNDS)
    created = await payouts.create(**overrides)
    assert created.status_code == 201, created.text
    tx = str(created.json()["data"]["transactionId"])
    await payouts.run_jobs()
    return tx


async def test_the_documents_sample_beneficiary_pays_out_unregistered(payouts: Payouts) -> None:
    tx = await submit(
        payouts,
        beneficiaryBankCode="002",
        beneficiaryAccountNo="888801000003301",
        beneficiaryAccountName="Karman Prasasta",
    )
    await payouts.until_status(tx, "SUCCESS")
    row = await payouts.row(tx)
    assert row.verified_account_name == "Karman Prasasta"  # the name the merchant sent
    (sent,) = payouts.finpay.transfers.values()
    assert (sent.bank_code, sent.account_no) == ("002", "888801000003301")


async def test_without_a_name_the_account_holds_the_users_kyc_name(payouts: Payouts) -> None:
    tx = await submit(payouts, beneficiaryAccountNo="4455667788", beneficiaryAccountName="")
    await payouts.until_status(tx, "SUCCESS")
    assert (await payouts.get(tx))["beneficiaryAccountName"] is None
    assert (await payouts.row(tx)).verified_account_name == "Karman Prasasta"


async def test_a_registered_account_keeps_its_registered_name(payouts: Payouts) -> None:
    await payouts.control(
        "accounts", {"bankCode": "014", "accountNo": "9990000005", "accountName": "Budi Santoso"}
    )
    tx = await submit(payouts, beneficiaryAccountNo="9990000005")
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert "'Budi Santoso'" in data["failureReason"]


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (PayoutOutcome.NAME_MISMATCH, "beneficiary name mismatch"),
        (PayoutOutcome.INVALID_ACCOUNT, "beneficiary account is invalid (Invalid Account)"),
        (PayoutOutcome.INSUFFICIENT_BALANCE, "4030014 Insufficient Funds"),
    ],
)
async def test_refused_before_any_money_moves(
    payouts: Payouts, outcome: PayoutOutcome, reason: str
) -> None:
    tx = await submit(payouts, beneficiaryAccountNo=magic(outcome))
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert reason in data["failureReason"]
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (FUNDS, 0)


async def test_failed_06_releases_the_hold(payouts: Payouts) -> None:
    tx = await submit(payouts, beneficiaryAccountNo=magic(PayoutOutcome.FAILED))
    await payouts.until_status(tx, "FAILED")
    assert (await payouts.row(tx)).provider_status_code == "06"
    assert (await payouts.vault()).available == FUNDS
    assert [e["responseCode"] for e in await payouts.events(tx)][-1] == "06"


async def test_refunded_after_success(payouts: Payouts) -> None:
    tx = await submit(payouts, beneficiaryAccountNo=magic(PayoutOutcome.REFUNDED))
    await payouts.until_status(tx, "REFUNDED")
    statuses = [(old, new) for old, new, _source in await payouts.history(tx)]
    assert ("PROCESSING", "SUCCESS") in statuses
    assert ("SUCCESS", "REFUNDED") in statuses
    vault = await payouts.vault()
    assert vault.available == FUNDS - (await payouts.row(tx)).fee  # the fee stays charged


async def test_provider_timeout_is_an_unknown_outcome_that_resolves(payouts: Payouts) -> None:
    tx = await submit(payouts, beneficiaryAccountNo=magic(PayoutOutcome.TIMEOUT))
    assert await payouts.status(tx) in ("PROCESSING", "SUCCESS")
    # The transfer was carried out: its notification, confirmed by Check Status, settles it.
    await payouts.until_status(tx, "SUCCESS")
    assert len(payouts.finpay.transfers) == 1


async def test_pending_settles_later(payouts: Payouts) -> None:
    tx = await submit(payouts, beneficiaryAccountNo=magic(PayoutOutcome.PENDING))
    reference = (await payouts.row(tx)).provider_reference
    sandbox = payouts.finpay
    await eventually(lambda: _status(sandbox, reference), lambda s: s == "03")
    assert await payouts.status(tx) == "PROCESSING"
    await payouts.control(f"transfers/{reference}/settle")
    await payouts.until_status(tx, "SUCCESS")


async def _status(sandbox: object, reference: str) -> str:
    transfers = sandbox.transfers  # type: ignore[attr-defined]
    return str(transfers[reference].status)
