"""Withdrawals reach every bank that clears through Bank Indonesia, not a short list.
Requests are signed with the seed's own Python function (tests/support/seed_client.py)."""

from __future__ import annotations

import pytest

from clearing_gateway.providers.banks import BANK_ALIASES, BANKS, normalise_bank_code
from tests.withdrawals.conftest import Payouts


def test_the_bank_list_is_complete_and_well_formed() -> None:
    assert len(BANKS) >= 100
    assert all(len(code) == 3 and code.isdigit() and name for code, name in BANKS.items())
    # Every short name resolves to a listed bank.
    assert set(BANK_ALIASES.values()) <= set(BANKS)
    # Banks a merchant's users hold that the old short list refused.
    for code in ("535", "110", "111", "213", "490", "536", "542", "567"):
        assert code in BANKS


@pytest.mark.parametrize(
    ("sent", "stored", "name"),
    [
        ("535", "535", "SeaBank Indonesia"),
        ("110", "110", "Bank BJB (BPD Jawa Barat dan Banten)"),
        ("14", "014", "Bank Central Asia (BCA)"),
    ],
)
async def test_withdrawal_to_any_clearing_member_is_paid(
    payouts: Payouts, sent: str, stored: str, name: str
) -> None:
    assert BANKS[normalise_bank_code(sent)] == name
    await payouts.control(
        "accounts", {"bankCode": stored, "accountNo": "901234567", "accountName": "Karman Prasasta"}
    )
    await payouts.fund(5_000_000)
    created = await payouts.create(beneficiaryBankCode=sent, beneficiaryAccountNo="901234567")
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["beneficiaryBankCode"] == stored
    await payouts.run_jobs()
    assert await payouts.until_status(data["transactionId"], "SUCCESS") == "SUCCESS"
    assert [t.bank_code for t in payouts.finpay.transfers.values()] == [stored]


async def test_a_code_that_is_no_clearing_member_is_refused(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    for code in ("999", "045", "XYZ"):
        response = await payouts.create(beneficiaryBankCode=code)
        assert response.status_code == 422, response.text
        assert response.json()["message"] == "UNSUPPORTED_BANK"


async def test_payment_instruments_list_every_bank_for_payouts(payouts: Payouts) -> None:
    listed = await payouts.merchant.client.get("/v1/payment-instruments")
    assert listed.status_code == 200, listed.text
    payout_banks = {
        bank["bankCode"]: bank["name"]
        for group in listed.json()["data"]
        for instrument in group["instruments"]
        if instrument["type"] == "DISBURSEMENT"
        for bank in instrument["banks"]
    }
    assert set(payout_banks) == set(BANKS)
    assert payout_banks["535"] == "SeaBank Indonesia"
    assert payout_banks["014"] == "BCA"  # banks with a short name keep it
