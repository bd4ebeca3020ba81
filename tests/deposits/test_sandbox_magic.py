"""The deposit magic values of docs/sandbox.md, each through the merchant API and the
payment simulator (or, for Finan payment requests, the sandbox's pay control)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.providers.sandbox_magic import DEPOSIT_AMOUNTS, DepositOutcome
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway, eventually, settled_inbox
from tests.support.live_server import socket_url

LATE_SECONDS = 1.0


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {
        "public_base_url": socket_url(live_socket),
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.1,
        "sandbox_magic_delay_seconds": LATE_SECONDS,
    }


def magic(outcome: DepositOutcome) -> str:
    return next(amount for amount, found in DEPOSIT_AMOUNTS.items() if found is outcome)


async def deposits(runtime: Runtime) -> list[Deposit]:
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(Deposit)))


async def deposit_vault(merchant: Merchant, provider: str) -> str:
    balances = (await merchant.client.get("/v1/balances")).json()["data"]
    found = next(b for b in balances if b["provider"] == provider)
    return str({v["vaultType"]: v["available"] for v in found["balances"]}["deposit"])


async def va_of(merchant: Merchant) -> dict[str, Any]:
    user = await merchant.user()
    return await merchant.virtual_account(user["userId"], "014")


async def test_failed_payment_credits_nothing_and_the_va_stays_payable(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    account = await va_of(live_merchant)
    failed = await live_merchant.pay(account, magic(DepositOutcome.FAILED))
    assert failed.status_code == 422, failed.text
    assert failed.json()["message"] == "VALIDATION_ERROR"
    assert "failed payment" in failed.json()["reason"]
    (row,) = await settled_inbox(runtime, "topremit", 1)
    assert row.status == "ignored"  # Topremit's FAILED status is no payment
    assert await deposits(runtime) == []
    paid = await live_merchant.pay(account, "150000.00")
    assert paid.status_code == 201, paid.text
    assert await deposit_vault(live_merchant, "topremit") == "150000.00"


async def test_late_callback_answers_504_and_the_deposit_follows(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    account = await va_of(live_merchant)
    late = await live_merchant.pay(account, magic(DepositOutcome.LATE_CALLBACK))
    assert late.status_code == 504, late.text
    assert "late callback" in late.json()["reason"]
    found = await eventually(lambda: deposits(runtime), lambda rows: len(rows) == 1)
    assert [(d.amount, d.status) for d in found] == [(7_770_000, "COMPLETED")]
    assert await deposit_vault(live_merchant, "topremit") == "77700.00"


async def test_duplicate_callback_credits_once(live_merchant: Merchant, runtime: Runtime) -> None:
    account = await va_of(live_merchant)
    paid = await live_merchant.pay(account, magic(DepositOutcome.DUPLICATE_CALLBACK))
    assert paid.status_code == 201, paid.text
    rows = await settled_inbox(runtime, "topremit", 2)
    assert sorted(r.status for r in rows) == ["applied", "duplicate"]
    assert len(await deposits(runtime)) == 1
    assert await deposit_vault(live_merchant, "topremit") == "88800.00"
    assert await ledger_findings(runtime) == []


async def test_finan_partial_payment_is_held_then_credited_in_full(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/cash-in",
        {
            "requestId": str(uuid.uuid4()),
            "userId": user["userId"],
            "amount": magic(DepositOutcome.PARTIAL),
        },
    )
    assert created.status_code == 200, created.text
    pay = f"payments/{created.json()['data']['virtualAccountNo']}/pay"
    assert (await gateway.control("finan", pay))["status"] == "partial_paid"
    await settled_inbox(runtime, "finan", 1)
    async with runtime.sessionmaker() as session:
        exceptions = list(await session.scalars(select(PaymentException)))
    assert [e.amount for e in exceptions] == [2_775_000]  # half, held open
    assert await deposits(runtime) == []
    assert (await gateway.control("finan", pay))["status"] == "paid"  # the rest
    found = await eventually(lambda: deposits(runtime), lambda rows: len(rows) == 1)
    assert [(d.amount, d.status) for d in found] == [(5_550_000, "COMPLETED")]
    assert await deposit_vault(live_merchant, "finan") == "55500.00"
    assert await ledger_findings(runtime) == []
