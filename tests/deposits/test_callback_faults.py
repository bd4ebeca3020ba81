"""Provider callbacks that misbehave never lose or double money: duplicates (sequential and
concurrent), out of order, forged, and for an instrument the gateway does not know."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.providers.base import VirtualAccountRequest
from clearing_gateway.providers.models import CallbackStatus
from tests.deposits.conftest import Merchant, ledger_findings
from tests.providers.conftest import LiveGateway, eventually, inbox, settled_inbox


async def deposit_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Deposit)) or 0)


async def available(merchant: Merchant, vault: str = "deposit") -> str:
    balances = (await merchant.client.get("/v1/balances")).json()["data"]
    found = {v["vaultType"]: v["available"] for b in balances for v in b["balances"]}
    return found.get(vault, "0.00")


async def test_resent_callback_credits_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    assert (await live_merchant.pay(account, "50000.00")).status_code == 201
    for _ in range(3):
        await gateway.control("topremit", "callbacks/resend-last")
    rows = await settled_inbox(runtime, "topremit", 4)
    assert (
        sorted(r.status for r in rows) == [CallbackStatus.APPLIED] + [CallbackStatus.DUPLICATE] * 3
    )
    assert await deposit_count(runtime) == 1
    assert await available(live_merchant) == "50000.00"
    assert await ledger_findings(runtime) == []


async def test_concurrent_copies_credit_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    await gateway.control("topremit", "callbacks/mode", {"mode": "hold"})
    await gateway.control(
        "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": "75000.00"}
    )
    callback = gateway.sandboxes.topremit.callbacks.last
    assert callback is not None
    async with httpx.AsyncClient(timeout=20) as client:
        replies = await asyncio.gather(
            *(
                client.post(callback.url, content=callback.body, headers=callback.headers)
                for _ in range(10)
            )
        )
    assert all(r.status_code in (200, 401, 409) for r in replies), [r.text for r in replies]
    assert any(r.status_code == 200 for r in replies)
    assert await deposit_count(runtime) == 1
    assert await available(live_merchant) == "75000.00"
    assert await ledger_findings(runtime) == []


async def test_out_of_order_callbacks_all_apply(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    first = await live_merchant.virtual_account(user["userId"], "014")
    second = await live_merchant.virtual_account(user["userId"], "002")
    await gateway.control("topremit", "callbacks/mode", {"mode": "hold"})
    for account, amount in ((first, "10000.00"), (second, "20000.00"), (first, "30000.00")):
        await gateway.control(
            "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": amount}
        )
    await gateway.control("topremit", "callbacks/mode", {"mode": "deliver"})
    released = await gateway.control("topremit", "callbacks/release", {"order": "reverse"})
    assert released["released"] == 3
    await settled_inbox(runtime, "topremit", 3)
    assert await deposit_count(runtime) == 3
    assert await available(live_merchant) == "60000.00"
    assert await ledger_findings(runtime) == []


async def test_forged_callback_is_rejected_and_kept(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    await gateway.control("topremit", "callbacks/mode", {"mode": "drop"})
    await gateway.control(
        "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": "10000.00"}
    )
    callback = gateway.sandboxes.topremit.callbacks.last
    assert callback is not None
    forged = callback.body.replace(b'"10000.00"', b'"99999999.00"')
    assert forged != callback.body
    async with httpx.AsyncClient(timeout=20) as client:
        reply = await client.post(callback.url, content=forged, headers=callback.headers)
    assert reply.status_code == 401
    (row,) = await inbox(runtime, "topremit")
    assert row.status == CallbackStatus.REJECTED
    # Kept as metadata and digest only: forgeries cannot fill the disk.
    assert row.body == b""
    assert row.body_sha256 == hashlib.sha256(forged).hexdigest()
    assert row.body_size == len(forged)
    assert await deposit_count(runtime) == 0
    assert await available(live_merchant) == "0.00"


async def test_payment_to_unknown_va_is_recorded_for_operators(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    # A VA that exists at the provider but was never issued through the gateway.
    assert runtime.providers is not None
    stray = await runtime.providers.topremit.create_virtual_account(
        VirtualAccountRequest(
            reference="stray-reference",
            bank_code="014",
            customer_no="123456789012",
            name="Nobody",
            amount=None,
        )
    )
    await gateway.control("topremit", "va/stray-reference/pay", {"amount": "40000.00"})
    (row,) = await settled_inbox(runtime, "topremit", 1)
    assert row.status == CallbackStatus.APPLIED
    async with runtime.sessionmaker() as session:
        (exception,) = (await session.scalars(select(PaymentException))).all()
    assert exception.virtual_account_no == stray.virtual_account_no
    assert exception.amount == 4_000_000
    assert exception.reason == "no such virtual account"
    assert await deposit_count(runtime) == 0
    assert await ledger_findings(runtime) == []


async def test_handler_failure_changes_nothing_and_the_retry_credits_once(
    live_merchant: Merchant,
    gateway: LiveGateway,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database fails half-way through applying a payment (a fault no sandbox can
    produce): the transaction rolls back, the provider is told 503, its retry credits once."""
    from clearing_gateway.deposits import service as deposits_service

    real_fee_for = deposits_service.fees.fee_for
    failures = iter([RuntimeError("database connection lost")])

    async def failing_once(*args: Any, **kwargs: Any) -> int:
        for error in failures:
            raise error
        return await real_fee_for(*args, **kwargs)

    monkeypatch.setattr(deposits_service.fees, "fee_for", failing_once)
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    await gateway.control(
        "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": "65000.00"}
    )
    (row,) = await settled_inbox(runtime, "topremit", 1)
    assert row.status == CallbackStatus.RECEIVED
    assert "database connection lost" in (row.error or "")

    async def replies() -> list[int | None]:
        sent = await gateway.http.get(f"{gateway.sandbox_url('topremit')}/control/callbacks")
        return [r["statusCode"] for r in sent.json()["sent"]]

    assert await eventually(replies, lambda codes: len(codes) == 1) == [503]
    assert await deposit_count(runtime) == 0
    assert await available(live_merchant) == "0.00"

    await gateway.control("topremit", "callbacks/resend-last")  # the provider retries
    rows = await settled_inbox(runtime, "topremit", 2)
    assert sorted(r.status for r in rows) == [CallbackStatus.APPLIED, CallbackStatus.RECEIVED]
    assert await deposit_count(runtime) == 1
    assert await available(live_merchant) == "65000.00"
    assert await ledger_findings(runtime) == []
