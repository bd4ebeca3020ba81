"""A single-use instrument (QRIS) is credited once even when several different payments
for it arrive at the same time; the others become operator exceptions. A closed
(expired) VA is credited never, however many copies of a payment arrive at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import utcnow
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


async def test_concurrent_copies_of_a_payment_to_an_expired_va_credit_nothing(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    """A VA past its `expiredDate` is closed: copies of a late payment arriving together
    make one refused deposit and one exception, and move no money."""
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    async with unit_of_work(runtime.sessionmaker) as session:
        row = await session.get(VirtualAccount, uuid.UUID(account["paymentInstrumentId"]))
        assert row is not None
        row.expired_date = utcnow() - dt.timedelta(hours=1)
    await gateway.control("topremit", "callbacks/mode", {"mode": "hold"})
    await gateway.control(
        "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": "25000.00"}
    )
    held = gateway.sandboxes.topremit.callbacks.last
    assert held is not None
    async with httpx.AsyncClient(timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post(held.url, content=held.body, headers=held.headers) for _ in range(COPIES))
        )
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]

    async with runtime.sessionmaker() as session:
        deposits = list(await session.scalars(select(Deposit)))
        exceptions = list(await session.scalars(select(PaymentException)))
    assert [(d.status, d.failure_reason) for d in deposits] == [
        ("FAILED", "virtual account had expired")
    ]
    assert [e.deposit_id for e in exceptions] == [deposits[0].id]
    balances = (await live_merchant.client.get("/v1/balances")).json()["data"]
    found = {v["vaultType"]: v["available"] for b in balances for v in b["balances"]}
    assert found.get("deposit", "0.00") == "0.00"
    assert await ledger_findings(runtime) == []
