"""Deposit reconciliation finds payments whose callback was lost or not yet confirmed,
through each provider's read API, and applies them through the callback path: a payment
found both ways is credited once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.reconciliation.deposits import reconcile_deposits
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway, inbox, settled_inbox


async def deposits(runtime: Runtime) -> list[tuple[str, str, int]]:
    async with runtime.sessionmaker() as session:
        found = await session.scalars(select(Deposit).order_by(Deposit.created_at))
        return [(d.instrument, d.status, d.amount) for d in found]


async def instrument(merchant: Merchant, path: str, amount: str) -> dict[str, Any]:
    user = await merchant.user()
    created = await merchant.client.post(
        path, {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": amount}
    )
    assert created.status_code == 200, created.text
    return dict(created.json()["data"])


def later() -> Any:
    import datetime as dt

    return utcnow() + dt.timedelta(minutes=5)


async def test_lost_callbacks_are_found_and_credited_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    cash_in = await instrument(live_merchant, "/v1/cash-in", "125000.00")
    qris = await instrument(live_merchant, "/v1/qris", "55000.00")
    for provider in ("finan", "topremit"):
        await gateway.control(provider, "callbacks/mode", {"mode": "drop"})
    await gateway.control("finan", f"payments/{cash_in['virtualAccountNo']}/pay", {})
    await gateway.control("topremit", f"qris/{qris['paymentInstrumentId']}/pay", {})
    assert await deposits(runtime) == []

    report = await reconcile_deposits(runtime, later())
    assert (report.applied, report.unavailable, report.anomalies) == (2, 0, [])
    again = await reconcile_deposits(runtime, later())
    assert (again.applied, again.asked) == (0, 0)  # paid instruments are no longer asked

    # The provider's late callbacks find the payments already applied.
    for provider in ("finan", "topremit"):
        await gateway.control(provider, "callbacks/mode", {"mode": "deliver"})
        await gateway.control(provider, "callbacks/resend-last")
    rows = await settled_inbox(runtime, "finan", 2)
    assert [r.status for r in rows] == ["applied", "duplicate"]
    assert [r.channel for r in rows] == ["reconciliation", "webhook"]
    await settled_inbox(runtime, "topremit", 2)
    assert sorted(await deposits(runtime)) == [
        ("cashin", "COMPLETED", 12_500_000),
        ("qris", "COMPLETED", 5_500_000),
    ]
    assert await ledger_findings(runtime) == []


async def test_an_unconfirmed_callback_is_confirmed_by_the_pass(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    cash_in = await instrument(live_merchant, "/v1/cash-in", "80000.00")
    await gateway.control("finan", "read-lag", {"lag": True})
    await gateway.control("finan", f"payments/{cash_in['virtualAccountNo']}/pay", {})
    (row,) = await settled_inbox(runtime, "finan", 1)
    assert row.status == "received"
    lagging = await reconcile_deposits(runtime, later())
    assert (lagging.unpaid, lagging.applied) == (1, 0)  # still not shown as paid

    await gateway.control("finan", "read-lag", {"lag": False})
    report = await reconcile_deposits(runtime, later())
    assert (report.applied, report.settled_callbacks) == (1, 1)
    statuses = {r.channel: r.status for r in await inbox(runtime, "finan")}
    assert statuses == {"webhook": "duplicate", "reconciliation": "applied"}
    assert await deposits(runtime) == [("cashin", "COMPLETED", 8_000_000)]
    # The provider's retry, when it finally comes, changes nothing.
    await gateway.control("finan", "callbacks/resend-last")
    await settled_inbox(runtime, "finan", 3)
    assert await deposits(runtime) == [("cashin", "COMPLETED", 8_000_000)]
    assert await ledger_findings(runtime) == []


async def test_provider_down_changes_nothing(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    cash_in = await instrument(live_merchant, "/v1/cash-in", "20000.00")
    await gateway.control("finan", "callbacks/mode", {"mode": "drop"})
    await gateway.control("finan", f"payments/{cash_in['virtualAccountNo']}/pay", {})
    await gateway.control("finan", "faults", {"mode": "5xx", "count": 1})
    down = await reconcile_deposits(runtime, later())
    assert (down.unavailable, down.applied) == (1, 0)
    up = await reconcile_deposits(runtime, later())
    assert up.applied == 1
    assert await deposits(runtime) == [("cashin", "COMPLETED", 2_000_000)]
