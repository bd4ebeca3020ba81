"""QRIS (Topremit) and cash-in payment requests (Finan) take the deposit path too."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit
from tests.deposits.conftest import Merchant, events, ledger_findings
from tests.providers.conftest import LiveGateway, eventually


async def deposits(runtime: Runtime) -> list[Deposit]:
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(Deposit).order_by(Deposit.created_at)))


async def test_qris_payment_becomes_a_qr_payment_deposit(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/qris", {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": "55000.00"}
    )
    assert created.status_code == 200, created.text
    qris = created.json()["data"]
    assert qris["type"] == "QRIS"
    assert qris["qrContent"]
    assert qris["minAmount"] == qris["maxAmount"] == "55000.00"

    await gateway.control("topremit", f"qris/{qris['paymentInstrumentId']}/pay", {})
    (deposit,) = await eventually(lambda: deposits(runtime), lambda rows: len(rows) == 1)
    assert deposit.instrument == "qris"
    assert deposit.amount == 5_500_000
    assert deposit.status == "COMPLETED"
    (event,) = await events(runtime, "qr_payment")
    body = json.loads(event.payload)
    assert body["additionalInfo"]["caciTxId"] == str(deposit.id)
    assert body["virtualAccountType"] == "02"
    fetched = (
        await live_merchant.client.get(f"/v1/virtual-accounts/{qris['paymentInstrumentId']}")
    ).json()
    assert fetched["data"]["status"] == "PAID"
    assert await ledger_findings(runtime) == []


async def test_cash_in_payment_becomes_a_deposit(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/cash-in",
        {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": "125000.00"},
    )
    assert created.status_code == 200, created.text
    request = created.json()["data"]
    assert request["type"] == "CASHIN"
    assert request["provider"] == "finan"

    await gateway.control("finan", f"payments/{request['virtualAccountNo']}/pay", {})
    (deposit,) = await eventually(lambda: deposits(runtime), lambda rows: len(rows) == 1)
    assert deposit.instrument == "cashin"
    assert deposit.provider == "finan"
    assert deposit.amount == 12_500_000
    assert deposit.status == "COMPLETED"
    assert len(await events(runtime, "va_payment")) == 1
    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    finan = next(b for b in balances if b["provider"] == "finan")
    assert {v["vaultType"]: v["available"] for v in finan["balances"]}["deposit"] == "125000.00"
    assert await ledger_findings(runtime) == []


async def test_bad_amount(live_merchant: Merchant) -> None:
    user = await live_merchant.user()
    for amount in ("0", "-5", "1.001", "abc"):
        response = await live_merchant.client.post(
            "/v1/qris", {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": amount}
        )
        assert response.status_code == 422, amount
        assert response.json()["reason"].startswith("amount")
