"""A single-use instrument (QRIS) is credited once even when several different payments
for it arrive at the same time; the others become operator exceptions."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit, PaymentException
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway

COPIES = 4


async def test_concurrent_different_payments_credit_a_qris_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/qris", {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": "55000.00"}
    )
    assert created.status_code == 200, created.text
    qris = created.json()["data"]
    await gateway.control("topremit", "callbacks/mode", {"mode": "hold"})
    await gateway.control("topremit", f"qris/{qris['paymentInstrumentId']}/pay", {})
    sandbox = gateway.sandboxes.topremit
    held = sandbox.callbacks.last
    assert held is not None
    template = json.loads(held.body)

    # Distinct payments (their own reference and payment id) for the same QR.
    callbacks = []
    for n in range(COPIES):
        document = json.loads(json.dumps(template))
        document["originalReferenceNo"] = f"{template['originalReferenceNo']}-{n}"
        document["additionalInfo"]["paymentId"] = f"pay-{n}-{uuid.uuid4().hex[:8]}"
        body = json.dumps(document).encode()
        callbacks.append(sandbox._signed("qris", body, f"qris-copy-{n}"))
    async with httpx.AsyncClient(timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post(c.url, content=c.body, headers=c.headers) for c in callbacks)
        )
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]

    async with runtime.sessionmaker() as session:
        deposits = list(await session.scalars(select(Deposit)))
        exceptions = list(await session.scalars(select(PaymentException)))
    assert len(deposits) == COPIES
    assert sorted(d.status for d in deposits) == ["COMPLETED"] + ["FAILED"] * (COPIES - 1)
    assert len(exceptions) == COPIES - 1
    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    found = {v["vaultType"]: v["available"] for b in balances for v in b["balances"]}
    assert found["deposit"] == "55000.00"
    assert await ledger_findings(runtime) == []
