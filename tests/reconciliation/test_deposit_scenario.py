"""A day of misbehaving providers, on the deposit side: every fault the sandboxes can make
(dropped, duplicated, reordered and delayed callbacks, a 5xx read API, a read API that
lags its webhook, a payment completed in steps, an open-amount VA payment whose callback
is lost and only the statement knows). At the end the ledger verifies clean,
both statements reconcile without a break, and each vault holds exactly what was paid."""

from __future__ import annotations

import uuid
from typing import Any

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.handlers import load_callback_handlers
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.callbacks import CallbackHandlers
from clearing_gateway.reconciliation.deposits import reconcile_deposits
from clearing_gateway.reconciliation.recovery import apply_break
from clearing_gateway.reconciliation.service import list_breaks, reconcile_statement
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway, eventually, inbox
from tests.reconciliation.test_deposit_reconciliation import later

TODAY = utcnow().date().isoformat()


async def vaults(merchant: Merchant) -> dict[str, str]:
    balances = (await merchant.client.get("/v1/balances")).json()["data"]
    return {
        b["provider"]: v["available"]
        for b in balances
        for v in b["balances"]
        if v["vaultType"] == "deposit"
    }


async def fixed(merchant: Merchant, user: dict[str, Any], path: str, amount: str) -> str:
    created = await merchant.client.post(
        path, {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": amount}
    )
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    return str(data["virtualAccountNo"] if path == "/v1/cash-in" else data["paymentInstrumentId"])


async def statement(gateway: LiveGateway, provider: str = "topremit") -> str:
    return (await gateway.http.get(f"{gateway.sandbox_url(provider)}/statements/{TODAY}")).text


async def settled(runtime: Runtime, count: int) -> None:
    await eventually(
        lambda: inbox(runtime),
        lambda rows: len(rows) >= count and all(r.processed_at for r in rows),
    )


async def test_every_deposit_fault_ends_reconciled(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    va = (await live_merchant.virtual_account(user["userId"]))["paymentInstrumentId"]
    qris = await fixed(live_merchant, user, "/v1/qris", "55000.00")
    lagging = await fixed(live_merchant, user, "/v1/cash-in", "80000.00")
    in_steps = await fixed(live_merchant, user, "/v1/cash-in", "125000.00")
    topremit = "topremit"

    # Duplicates: one payment, its callback three times.
    await gateway.control(topremit, f"va/{va}/pay", {"amount": "50000.00"})
    await settled(runtime, 1)
    for _ in range(2):
        await gateway.control(topremit, "callbacks/resend-last")
    await settled(runtime, 3)

    # Dropped: a QRIS payment whose callback never arrives.
    await gateway.control(topremit, "callbacks/mode", {"mode": "drop"})
    await gateway.control(topremit, f"qris/{qris}/pay", {})
    # ... and an open-amount VA payment whose callback is lost: no read API states it.
    await gateway.control(topremit, f"va/{va}/pay", {"amount": "40000.00"})

    # Reordered: two payments on the VA, their callbacks delivered newest first.
    await gateway.control(topremit, "callbacks/mode", {"mode": "hold"})
    await gateway.control(topremit, f"va/{va}/pay", {"amount": "20000.00"})
    await gateway.control(topremit, f"va/{va}/pay", {"amount": "30000.00"})
    await gateway.control(topremit, "callbacks/release", {"order": "reverse"})
    await settled(runtime, 5)

    # Delayed.
    await gateway.control(topremit, "callbacks/mode", {"mode": "deliver", "delaySeconds": 0.5})
    await gateway.control(topremit, f"va/{va}/pay", {"amount": "10000.00"})
    await settled(runtime, 6)

    # A read API that lags its webhook: answered 503, kept.
    await gateway.control("finan", "read-lag", {"lag": True})
    await gateway.control("finan", f"payments/{lagging}/pay", {})
    await settled(runtime, 7)
    await gateway.control("finan", "read-lag", {"lag": False})

    # A payment completed in two steps.
    await gateway.control("finan", f"payments/{in_steps}/pay", {"amount": 100000})
    await settled(runtime, 8)
    await gateway.control("finan", f"payments/{in_steps}/pay", {"amount": 25000})
    await settled(runtime, 9)

    # Reconciliation, the first pass meeting a 5xx from both read APIs.
    await gateway.control("finan", "faults", {"mode": "5xx", "count": 1})
    await gateway.control(topremit, "faults", {"mode": "5xx", "count": 1})
    first = await reconcile_deposits(runtime, later())
    assert first.unavailable == 2
    second = await reconcile_deposits(runtime, later())
    assert (second.applied, second.unavailable, second.anomalies) == (2, 0, [])
    assert (await reconcile_deposits(runtime, later())).applied == 0

    assert await vaults(live_merchant) == {"topremit": "165000.00", "finan": "205000.00"}
    # Only the statement knows the lost open-VA payment; an operator applies it, once.
    async with unit_of_work(runtime.sessionmaker) as session:
        report = await reconcile_statement(session, topremit, TODAY, await statement(gateway))
    (lost,) = report.breaks
    assert (lost.kind.value, lost.provider_amount, lost.instrument_reference) == (
        "missing_in_ledger",
        4_000_000,
        va,
    )
    async with runtime.sessionmaker() as session:
        (open_break,) = await list_breaks(session, status="open")
    handlers = CallbackHandlers()
    load_callback_handlers(handlers)
    applied = await apply_break(
        runtime.sessionmaker, open_break.id, note="bank mutation", actor="ops", registry=handlers
    )
    assert applied.status == "applied"

    assert await vaults(live_merchant) == {"topremit": "205000.00", "finan": "205000.00"}
    assert await ledger_findings(runtime) == []
    for provider in ("topremit", "finan"):
        async with unit_of_work(runtime.sessionmaker) as session:
            report = await reconcile_statement(
                session, provider, TODAY, await statement(gateway, provider)
            )
        assert report.breaks == [], (provider, report.breaks)
    rows = await inbox(runtime)
    assert not [r for r in rows if r.status in ("received", "rejected")]
