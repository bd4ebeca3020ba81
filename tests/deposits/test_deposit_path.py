"""The money-in path end to end over real HTTP: user → VA → simulated payment at the
provider sandbox → signed callback → inbox → deposit + ledger + outbox → inquiry."""

from __future__ import annotations

import json
import uuid

from clearing_gateway.api.runtime import Runtime
from tests.deposits.conftest import Merchant, events, ledger_findings
from tests.providers.conftest import LiveGateway


async def test_full_deposit_path(live_merchant: Merchant, runtime: Runtime) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"], "014")
    assert account["provider"] == "topremit"
    assert account["status"] == "ACTIVE"
    assert account["bankCode"] == "014"
    assert uuid.UUID(account["paymentInstrumentId"]).version == 7

    paid = await live_merchant.pay({**account, "bankCode": "BCA"}, "150000.00")
    assert paid.status_code == 201, paid.text
    transaction_id = paid.json()["transactionId"]
    assert uuid.UUID(transaction_id).version == 7

    fetched = await live_merchant.client.get(f"/v1/deposits/{transaction_id}")
    assert fetched.status_code == 200, fetched.text
    deposit = fetched.json()["data"]
    assert deposit["status"] == "COMPLETED"
    assert deposit["amount"] == "150000.00"
    assert deposit["fee"] == "0.00"
    assert deposit["netAmount"] == "150000.00"
    assert deposit["paymentInstrumentId"] == account["paymentInstrumentId"]
    assert deposit["userId"] == user["userId"]
    assert deposit["provider"] == "topremit"
    assert deposit["failureReason"] is None

    listed = (await live_merchant.client.get("/v1/deposits")).json()["data"]
    assert listed["total"] == 1
    assert listed["transactions"][0]["transactionId"] == transaction_id

    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    topremit = next(b for b in balances if b["provider"] == "topremit")
    vaults = {v["vaultType"]: v for v in topremit["balances"]}
    assert vaults["deposit"]["available"] == "150000.00"

    (event,) = await events(runtime, "va_payment")
    assert event.transaction_id == transaction_id
    assert await ledger_findings(runtime) == []


async def test_va_payment_body_is_the_seed_schema(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    user = await live_merchant.user(
        kycName="Siti Aminah", phone="+628111", email="siti@example.com"
    )
    account = await live_merchant.virtual_account(user["userId"], "503")
    paid = await live_merchant.pay(account, "20000.50", payer="Siti A")
    transaction_id = paid.json()["transactionId"]
    deposit = (await live_merchant.client.get(f"/v1/deposits/{transaction_id}")).json()["data"]
    (event,) = await events(runtime, "va_payment")
    body = json.loads(event.payload)
    assert list(body) == [
        "partnerServiceId",
        "customerNo",
        "virtualAccountNo",
        "trxId",
        "paymentRequestId",
        "paidAmount",
        "trxDateTime",
        "virtualAccountName",
        "virtualAccountType",
        "virtualAccountPhone",
        "virtualAccountEmail",
        "additionalInfo",
    ]
    assert body["partnerServiceId"] == str(live_merchant.id)
    assert body["customerNo"] == user["userId"]
    assert body["virtualAccountNo"] == account["virtualAccountNo"]
    assert body["trxId"] == transaction_id
    assert body["paymentRequestId"] == deposit["paymentRequestId"]
    assert body["paidAmount"] == {"value": "20000.50", "currency": "IDR"}
    assert body["trxDateTime"] == deposit["trxDateTime"]
    assert body["virtualAccountName"] == "Siti Aminah"
    assert body["virtualAccountType"] == "01"
    assert body["virtualAccountPhone"] == "+628111"
    assert body["virtualAccountEmail"] == "siti@example.com"
    info = body["additionalInfo"]
    assert list(info) == [
        "minAmount",
        "maxAmount",
        "bankCode",
        "customerInfo",
        "expiredDate",
        "failureReason",
        "merchantUserId",
        "caciTxId",
    ]
    assert info["minAmount"] == 10000
    assert info["maxAmount"] == 0
    assert info["bankCode"] == "NOBU"
    assert info["customerInfo"] == {
        "customer_id": user["id"],
        "customer_ref_id": user["userId"],
        "given_name": "Siti Aminah",
        "email": "siti@example.com",
        "mobile": "+628111",
    }
    assert info["expiredDate"] == account["expiredDate"]
    assert info["failureReason"] is None
    assert info["merchantUserId"] == user["userId"]
    assert info["caciTxId"] == transaction_id


async def test_amount_outside_limits_is_recorded_not_credited(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    paid = await live_merchant.pay(account, "5000.00")  # below the IDR 10,000.00 minimum
    assert paid.status_code == 201, paid.text
    deposit = (
        await live_merchant.client.get(f"/v1/deposits/{paid.json()['transactionId']}")
    ).json()["data"]
    assert deposit["status"] == "FAILED"
    assert "minimum" in deposit["failureReason"]
    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    assert all(v["available"] == "0.00" for b in balances for v in b["balances"])
    (event,) = await events(runtime, "va_payment")
    assert "minimum" in json.loads(event.payload)["additionalInfo"]["failureReason"]
    assert await ledger_findings(runtime) == []


async def test_several_payments_to_one_va(live_merchant: Merchant, runtime: Runtime) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"], "002")
    ids = set()
    for amount in ("10000.00", "25000.00", "12345.67"):
        paid = await live_merchant.pay(account, amount)
        assert paid.status_code == 201, paid.text
        ids.add(paid.json()["transactionId"])
    assert len(ids) == 3
    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    vaults = {v["vaultType"]: v for b in balances for v in b["balances"]}
    assert vaults["deposit"]["available"] == "47345.67"
    listed = (
        await live_merchant.client.get("/v1/deposits", params={"userId": user["userId"]})
    ).json()
    assert listed["data"]["total"] == 3
    assert await ledger_findings(runtime) == []


async def test_simulator_inquiry(live_merchant: Merchant, gateway: LiveGateway) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"], "014")
    # the seed shows the simulator without credentials
    response = await gateway.http.post(
        f"{gateway.url}/v1/simulator/deposits/inquiry",
        json={"virtualAccountNo": account["virtualAccountNo"], "bankCode": "BCA"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["paymentInstrumentId"] == account["paymentInstrumentId"]
    missing = await gateway.http.post(
        f"{gateway.url}/v1/simulator/deposits/inquiry",
        json={"virtualAccountNo": "0000", "bankCode": "014"},
    )
    assert missing.status_code == 404
