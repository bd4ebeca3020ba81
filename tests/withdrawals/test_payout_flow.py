"""A withdrawal from request to SUCCESS over real HTTP against the Finpay sandbox, and the
ways it can fail: rejection, name mismatch, whitelist, synchronous refusals."""

from __future__ import annotations

import uuid

from clearing_gateway.db import unit_of_work
from clearing_gateway.ledger import fees
from tests.withdrawals.conftest import ACCOUNT_NO, BANK, Payouts

AMOUNT = 2_000_000  # "20000.00"


async def test_happy_path_pending_processing_success(payouts: Payouts) -> None:
    async with unit_of_work(payouts.runtime.sessionmaker) as session:
        await fees.set_fee(session, "finpay", "disbursement", flat=250_000, percent_bps=0)
    await payouts.fund(10_000_000)
    await payouts.control("settings", {"autoSettle": False})

    created = await payouts.create(merchantFee="5000.00")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == 201
    data = body["data"]
    tx = data["transactionId"]
    assert uuid.UUID(tx).version == 7
    assert (data["status"], data["amount"], data["fee"], data["merchantFee"]) == (
        "PENDING",
        "20000.00",
        "2500.00",
        "5000.00",
    )
    assert data["provider"] == "finpay"
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (10_000_000 - 2_250_000, 2_250_000)

    await payouts.run_jobs()
    assert await payouts.status(tx) == "PROCESSING"
    row = await payouts.row(tx)
    assert row.submitted_at is not None
    assert row.provider_transaction_id is not None
    assert row.verified_account_name == "Karman Prasasta"
    assert len(payouts.finpay.transfers) == 1
    sent = payouts.finpay.transfers[row.provider_reference]
    assert (sent.amount, sent.account_no, sent.bank_code) == (20_000, ACCOUNT_NO, BANK)

    await payouts.control(f"transfers/{row.provider_reference}/settle")
    await payouts.until_status(tx, "SUCCESS")
    final = await payouts.get(tx)
    assert final["completedAt"] is not None
    assert final["providerReference"] == row.provider_transaction_id

    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (10_000_000 - 2_250_000, 0)
    assert vault.debits_posted == 2_250_000
    assert [h[:2] for h in await payouts.history(tx)] == [
        (None, "PENDING"),
        ("PENDING", "PROCESSING"),
        ("PROCESSING", "SUCCESS"),
    ]
    events = await payouts.events(tx)
    assert [(e["responseCode"], e["responseMessage"]) for e in events] == [
        ("01", "Initiated"),
        ("03", "Pending"),
        ("00", "Success"),
    ]
    last = events[-1]
    assert set(last) == {
        "originalReferenceNo",
        "originalPartnerReferenceNo",
        "responseCode",
        "responseMessage",
        "amount",
        "paymentInstrumentId",
        "beneficiaryAccountNo",
        "beneficiaryBankCode",
        "sourceAccountNo",
        "additionalInfo",
    }
    assert last["originalReferenceNo"] == row.provider_transaction_id
    assert last["originalPartnerReferenceNo"] == data["merchantReference"]
    assert last["amount"] == {"value": "20000.00", "currency": "IDR"}
    assert last["additionalInfo"] == {"merchantUserId": payouts.user_id, "caciTxId": tx}
    assert (last["beneficiaryAccountNo"], last["beneficiaryBankCode"]) == (ACCOUNT_NO, BANK)
    assert uuid.UUID(last["paymentInstrumentId"])
    assert len({e["paymentInstrumentId"] for e in events}) == 1

    listed = await payouts.merchant.client.get("/v1/withdrawals", params={"status": "SUCCESS"})
    assert listed.json()["data"]["total"] == 1
    assert listed.json()["data"]["transactions"][0]["transactionId"] == tx


async def test_provider_rejection_fails_and_releases(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    # An odd-sen amount Finpay cannot carry: refused before anything is sent.
    created = await payouts.create(amount="20000.50")
    tx = created.json()["data"]["transactionId"]
    await payouts.run_jobs()
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert "provider rejected" in data["failureReason"]
    assert payouts.finpay.transfers == {}
    vault = await payouts.vault()
    assert (vault.available, vault.debits_pending) == (5_000_000, 0)
    assert [e["responseCode"] for e in await payouts.events(tx)] == ["01", "06"]


async def test_name_mismatch_fails_without_sending(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    await payouts.control(
        "accounts", {"bankCode": BANK, "accountNo": "700700700", "accountName": "Budi Santoso"}
    )
    created = await payouts.create(beneficiaryAccountNo="700700700")
    tx = created.json()["data"]["transactionId"]
    await payouts.run_jobs()
    data = await payouts.get(tx)
    assert data["status"] == "FAILED"
    assert "name mismatch" in data["failureReason"]
    assert payouts.finpay.transfers == {}
    assert (await payouts.vault()).available == 5_000_000


async def test_whitelisted_kyc_name_and_title_word_order_match(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    await payouts.control(
        "accounts", {"bankCode": BANK, "accountNo": "800800800", "accountName": "IBU RAHAYU SITI"}
    )
    created = await payouts.create(beneficiaryAccountNo="800800800")
    tx = created.json()["data"]["transactionId"]
    await payouts.run_jobs()
    await payouts.until_status(tx, "SUCCESS")


async def test_unknown_account_fails_clearly(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    # The sandbox knows every well-formed account but this magic one (docs/sandbox.md).
    created = await payouts.create(beneficiaryAccountNo="9990000002")
    tx = created.json()["data"]["transactionId"]
    await payouts.run_jobs()
    data = await payouts.get(tx)
    assert (data["status"], data["failureReason"]) == (
        "FAILED",
        "beneficiary account is invalid (Invalid Account)",
    )
    assert (await payouts.vault()).available == 5_000_000


async def test_whitelist_enforced_synchronously(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    user_id = "wl-user"
    response = await payouts.merchant.client.post(
        "/v1/users",
        {
            "requestId": str(uuid.uuid4()),
            "userId": user_id,
            "kycName": "Karman Prasasta",
            "type": "retail",
            "whitelistedWithdrawalAccounts": [{"bankCode": "BCA", "accountNo": ACCOUNT_NO}],
        },
    )
    assert response.status_code == 201
    refused = await payouts.create(userId=user_id, beneficiaryAccountNo="900900900")
    assert refused.status_code == 422
    assert "whitelistedWithdrawalAccounts" in refused.json()["reason"]
    allowed = await payouts.create(userId=user_id)
    assert allowed.status_code == 201, allowed.text
    await payouts.run_jobs()
    await payouts.until_status(allowed.json()["data"]["transactionId"], "SUCCESS")


async def test_synchronous_refusals_reserve_nothing(payouts: Payouts) -> None:
    await payouts.fund(3_000_000)
    taken = await payouts.create(merchantReference="REF-1")
    assert taken.status_code == 201
    before = await payouts.vault()
    cases = [
        ({"userId": "nobody"}, 404, "NOT_FOUND"),
        ({"amount": "0"}, 422, "VALIDATION_ERROR"),
        ({"amount": "-5.00"}, 422, "VALIDATION_ERROR"),
        ({"amount": "10.001"}, 422, "VALIDATION_ERROR"),
        ({"amount": "1e5"}, 422, "VALIDATION_ERROR"),
        ({"amount": 10000}, 422, "VALIDATION_ERROR"),
        ({"amount": "100000000.01"}, 422, "VALIDATION_ERROR"),
        ({"merchantFee": "abc"}, 422, "VALIDATION_ERROR"),
        ({"beneficiaryBankCode": "XYZ"}, 422, "UNSUPPORTED_BANK"),
        ({"beneficiaryBankCode": "999"}, 422, "UNSUPPORTED_BANK"),
        ({"amount": "20000.00"}, 422, "INSUFFICIENT_BALANCE"),  # 20000 left of 30000 - 20000
        ({"merchantReference": "REF-1"}, 409, "DUPLICATE"),
    ]
    for overrides, status, message in cases:
        response = await payouts.create(**overrides)
        assert response.status_code == status, (overrides, response.text)
        assert response.json()["message"] == message, (overrides, response.text)
        if message == "UNSUPPORTED_BANK":
            assert "beneficiaryBankCode" in response.json()["reason"]
    after = await payouts.vault()
    assert (after.available, after.debits_pending) == (before.available, before.debits_pending)
    listed = await payouts.merchant.client.get("/v1/withdrawals")
    assert listed.json()["data"]["total"] == 1
    # A deleted user cannot withdraw either.
    deleted = await payouts.merchant.client.delete(
        f"/v1/users/{payouts.user_id}", {"requestId": str(uuid.uuid4())}
    )
    assert deleted.status_code == 200, deleted.text
    gone = await payouts.create()
    assert gone.status_code == 404
    await payouts.run_jobs()


async def test_same_request_id_replays_without_a_second_hold(payouts: Payouts) -> None:
    await payouts.fund(5_000_000)
    body_id = str(uuid.uuid4())
    first = await payouts.create(requestId=body_id, merchantReference="SAME")
    second = await payouts.create(requestId=body_id, merchantReference="SAME")
    assert first.status_code == second.status_code == 201
    assert first.json()["data"] == second.json()["data"]
    assert (await payouts.vault()).debits_pending == 2_000_000
    await payouts.run_jobs()
    assert len(payouts.finpay.transfers) == 1
