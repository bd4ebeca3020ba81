"""Finan payments whose confirmation lags or that arrive in steps (B2, B3 of the money
review): a genuine payment is kept, answered so that Finan retries, and credited once by
exactly what was paid; a payment completed in steps is credited by the increase."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit, PaymentException
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway, eventually, settled_inbox


async def cash_in(merchant: Merchant, amount: str = "125000.00") -> dict[str, Any]:
    user = await merchant.user()
    created = await merchant.client.post(
        "/v1/cash-in", {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": amount}
    )
    assert created.status_code == 200, created.text
    return dict(created.json()["data"])


async def rows(runtime: Runtime) -> tuple[list[Deposit], list[PaymentException]]:
    async with runtime.sessionmaker() as session:
        deposits = list(await session.scalars(select(Deposit).order_by(Deposit.created_at)))
        exceptions = list(await session.scalars(select(PaymentException)))
    return deposits, exceptions


async def deposit_vault(merchant: Merchant) -> str:
    balances = (await merchant.client.get("/v1/balances")).json()["data"]
    found = {
        v["vaultType"]: v["available"]
        for b in balances
        if b["provider"] == "finan"
        for v in b["balances"]
    }
    return found.get("deposit", "0.00")


async def test_a_payment_the_read_api_does_not_show_yet_is_kept_and_retried(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    request = await cash_in(live_merchant)
    await gateway.control("finan", "read-lag", {"lag": True})
    await gateway.control("finan", f"payments/{request['virtualAccountNo']}/pay", {})
    (row,) = await settled_inbox(runtime, "finan", 1)
    # Not the forgery answer: kept as received, answered 503 so that Finan retries.
    assert row.status == "received"
    assert "not show" in (row.error or "")
    assert "as paid yet" in (row.error or "")
    (sent,) = (await gateway.http.get(gateway.sandbox_url("finan") + "/control/callbacks")).json()[
        "sent"
    ]
    assert sent["statusCode"] == 503
    assert await rows(runtime) == ([], [])

    await gateway.control("finan", "read-lag", {"lag": False})
    await gateway.control("finan", "callbacks/resend-last")  # Finan's retry
    await gateway.control("finan", "callbacks/resend-last")  # and a copy of it
    await settled_inbox(runtime, "finan", 3)
    deposits, exceptions = await rows(runtime)
    assert [(d.status, d.amount) for d in deposits] == [("COMPLETED", 12_500_000)]
    assert exceptions == []
    assert await deposit_vault(live_merchant) == "125000.00"
    assert await ledger_findings(runtime) == []


async def test_a_payment_completed_in_two_steps_is_credited_in_full(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    request = await cash_in(live_merchant)
    pay = f"payments/{request['virtualAccountNo']}/pay"
    await gateway.control("finan", pay, {"amount": 100000})  # partial_paid
    await settled_inbox(runtime, "finan", 1)
    deposits, exceptions = await rows(runtime)
    # Parked, not refused for good: the operator sees what has arrived so far.
    assert deposits == []
    assert [(e.amount, e.resolved_at is None) for e in exceptions] == [(10_000_000, True)]
    assert "partial" in exceptions[0].reason

    await gateway.control("finan", pay, {"amount": 25000})  # the payer sends the rest
    inbox_rows = await settled_inbox(runtime, "finan", 2)
    # The live gateway's worker runs the deposit reconciliation on every minute: when
    # one falls between the first payment and its callback, the reconciliation parks
    # the payment first and the callback is its duplicate. Either way it counts once.
    assert [r.status for r in inbox_rows][1:] == ["applied"]
    assert inbox_rows[0].status in ("applied", "duplicate")
    deposits, exceptions = await rows(runtime)
    assert [(d.status, d.amount) for d in deposits] == [("COMPLETED", 12_500_000)]
    assert [(e.amount, e.resolved_at is not None) for e in exceptions] == [(12_500_000, True)]
    assert await deposit_vault(live_merchant) == "125000.00"
    assert await ledger_findings(runtime) == []


async def test_money_paid_beyond_a_credited_request_is_an_exception_with_its_amount(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    request = await cash_in(live_merchant, "50000.00")
    pay = f"payments/{request['virtualAccountNo']}/pay"
    await gateway.control("finan", pay, {"amount": 30000})
    await settled_inbox(runtime, "finan", 1)
    await gateway.control("finan", pay, {"amount": 20000})
    await settled_inbox(runtime, "finan", 2)
    payment = gateway.sandboxes.finan.payments[request["virtualAccountNo"]]
    payment["status"] = "partial_paid"  # the payer pays once more by mistake
    await gateway.control("finan", pay, {"amount": 7000})
    await settled_inbox(runtime, "finan", 3)
    deposits, exceptions = await eventually(lambda: rows(runtime), lambda found: len(found[0]) == 2)
    assert sorted((d.status, d.amount) for d in deposits) == [
        ("COMPLETED", 5_000_000),
        ("FAILED", 700_000),
    ]
    open_ones = [(e.amount, e.reason) for e in exceptions if e.resolved_at is None]
    assert [amount for amount, _ in open_ones] == [700_000]
    assert await deposit_vault(live_merchant) == "50000.00"
    assert await ledger_findings(runtime) == []
