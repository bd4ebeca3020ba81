"""No unauthenticated callback can make the gateway hold a large body, fill the inbox or
fan out into upstream look-ups (providers/intake.py), and the inbox is kept tidy."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.models import Job
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import RawCallback
from clearing_gateway.providers.config import SANDBOX_FINAN
from clearing_gateway.providers.errors import CallbackRejected
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.finan.client import FinanClient
from clearing_gateway.providers.finan.signing import signature
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.providers.repository import InboxRepository
from clearing_gateway.providers.tasks import purge_inbox, sweep_stuck

LIMIT = 5
FINAN_SECRET = "finan-webhook-secret"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"callback_rejections_per_minute": LIMIT}


async def rows(runtime: Runtime) -> list[ProviderCallback]:
    async with runtime.sessionmaker() as session:
        query = select(ProviderCallback).order_by(ProviderCallback.received_at)
        return list(await session.scalars(query))


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def test_an_oversized_chunked_body_is_refused_before_it_is_read_whole(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    chunk = b"x" * 65536
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(256):  # 16 MiB offered, chunked (no Content-Length)
            sent += len(chunk)
            yield chunk

    response = await http.post("/callbacks/finpay/disbursement", content=body())
    assert response.status_code == 413
    # Refused within a chunk of the limit, not after holding all 16 MiB.
    assert sent <= runtime.settings.max_body_bytes + 2 * len(chunk)
    assert await rows(runtime) == []


async def test_a_declared_oversized_body_is_refused_unread(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    too_big = runtime.settings.max_body_bytes + 1
    response = await http.post(
        "/callbacks/topremit/va",
        content=b"{}",
        headers={"Content-Length": str(too_big)},
    )
    assert response.status_code == 413
    assert await rows(runtime) == []


async def test_a_rejected_callback_keeps_metadata_and_digest_not_its_body(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    forged = json.dumps({"padding": "x" * 250_000, "signature": "00"}).encode()
    response = await http.post("/callbacks/finpay/disbursement", content=forged)
    assert response.status_code == 401
    (row,) = await rows(runtime)
    assert row.status == CallbackStatus.REJECTED
    assert row.body == b""
    assert row.body_size == len(forged)
    assert row.body_sha256 == hashlib.sha256(forged).hexdigest()
    assert row.source == "127.0.0.1"


async def test_a_source_that_spent_its_rejection_budget_is_throttled_unread(
    http: httpx.AsyncClient, app: FastAPI, runtime: Runtime
) -> None:
    forged = b'{"latestTransactionStatus": "00", "signature": "00"}'
    replies = [
        (await http.post("/callbacks/finpay/disbursement", content=forged)).status_code
        for _ in range(LIMIT + 5)
    ]
    assert replies == [401] * LIMIT + [429] * 5
    assert len(await rows(runtime)) == LIMIT  # throttled ones are not stored
    throttled = await http.post("/callbacks/finpay/disbursement", content=forged)
    assert throttled.headers["retry-after"] == "60"
    # The budget is per source (and per provider): another caller is still heard.
    async with client_from(app, "198.51.100.7") as other:
        reply = await other.post("/callbacks/finpay/disbursement", content=forged)
    assert reply.status_code == 401
    assert len(await rows(runtime)) == LIMIT + 1


def finan_webhook(payment_id: str) -> bytes:
    return json.dumps(
        {
            "type": "create_payment",
            "client_id": SANDBOX_FINAN["client_id"],
            "data": {"payment_id": payment_id, "amount": 150000, "account_receiver_name": "X"},
        }
    ).encode()


class CountingLookups:
    """Stands in for Finan's read API: counts look-ups, never shows a payment as paid."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0

        async def confirm_payment(_client: FinanClient, event: PaymentReceived) -> Any:
            self.calls += 1
            await asyncio.sleep(0.2)  # the upstream round trip
            raise CallbackRejected("Finan does not show this payment as paid")

        monkeypatch.setattr(FinanClient, "confirm_payment", confirm_payment)


async def test_unsigned_finan_webhooks_for_one_payment_share_one_lookup(
    http: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = CountingLookups(monkeypatch)
    body = finan_webhook("pay-forged")
    replies = await asyncio.gather(
        *(http.post("/callbacks/finan/webhook", content=body) for _ in range(LIMIT))
    )
    assert [r.status_code for r in replies] == [401] * LIMIT
    assert lookups.calls == 1
    # The source spent its budget: the next forgeries cost no look-up at all.
    later = [
        (await http.post("/callbacks/finan/webhook", content=finan_webhook(f"p{i}"))).status_code
        for i in range(20)
    ]
    assert later == [429] * 20
    assert lookups.calls == 1


def signed_finan(body: bytes, secret: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "x-client-id": SANDBOX_FINAN["client_id"],
        "x-timestamp": stamp,
        "x-signature": signature(secret, "POST", "/callbacks/finan/webhook", body.decode(), stamp),
    }


@pytest.mark.parametrize("settings_overrides", [{"finan_webhook_secret": FINAN_SECRET}])
async def test_finan_webhooks_must_be_signed_when_a_secret_is_configured(
    http: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = CountingLookups(monkeypatch)
    body = finan_webhook("pay-1")
    unsigned = await http.post("/callbacks/finan/webhook", content=body)
    assert unsigned.status_code == 401
    wrong = await http.post(
        "/callbacks/finan/webhook", content=body, headers=signed_finan(body, "other-secret")
    )
    assert wrong.status_code == 401
    assert lookups.calls == 0  # neither reached the read API
    signed = await http.post(
        "/callbacks/finan/webhook", content=body, headers=signed_finan(body, FINAN_SECRET)
    )
    assert lookups.calls == 1  # genuine: confirmed upstream (the fake says not paid)
    assert signed.status_code == 401
    errors = [row.error for row in await rows(runtime)]
    assert errors[:2] == ["x-signature is required", "x-signature does not match"]


async def add_row(runtime: Runtime, status: str, age: dt.timedelta, **fields: Any) -> None:
    callback = RawCallback("finan", "webhook", "/callbacks/finan/webhook", {}, b'{"x": 1}')
    async with unit_of_work(runtime.sessionmaker) as session:
        repository = InboxRepository(session)
        row = await repository.record(callback, status=status, **fields)
        if status in (CallbackStatus.APPLIED, CallbackStatus.VERIFIED):
            assert fields.get("event_key")
            assert await repository.claim("finan", fields["event_key"], row.id)
        await session.execute(
            update(ProviderCallback)
            .where(ProviderCallback.id == row.id)
            .values(received_at=utcnow() - age)
        )


async def test_the_retention_job_deletes_only_old_rows_that_moved_no_money(
    runtime: Runtime,
) -> None:
    old, recent = dt.timedelta(days=31), dt.timedelta(days=29)
    for status in (CallbackStatus.REJECTED, CallbackStatus.DUPLICATE, CallbackStatus.IGNORED):
        await add_row(runtime, status, old, error=f"old {status}")
        await add_row(runtime, status, recent, error=f"recent {status}")
    await add_row(runtime, CallbackStatus.APPLIED, dt.timedelta(days=4000), event_key="k1")
    await add_row(runtime, CallbackStatus.VERIFIED, old, event_key="k2")
    await add_row(runtime, CallbackStatus.RECEIVED, old, event_key="k3")

    await purge_inbox(runtime, Job(kind="providers.inbox_purge", payload={}))

    left = await rows(runtime)
    assert sorted(r.error or r.status for r in left) == sorted(
        [
            "recent rejected",
            "recent duplicate",
            "recent ignored",
            CallbackStatus.APPLIED,
            CallbackStatus.VERIFIED,
            CallbackStatus.RECEIVED,
        ]
    )
    applied = next(r for r in left if r.status == CallbackStatus.APPLIED)
    assert applied.body == b'{"x": 1}'  # evidence of a money movement keeps its body


async def test_the_sweep_settles_rows_stuck_in_received_without_a_verdict(
    runtime: Runtime,
) -> None:
    await add_row(runtime, CallbackStatus.RECEIVED, dt.timedelta(hours=1))
    await add_row(runtime, CallbackStatus.RECEIVED, dt.timedelta(minutes=1))
    await add_row(runtime, CallbackStatus.RECEIVED, dt.timedelta(hours=1), event_key="verified")

    await sweep_stuck(runtime, Job(kind="providers.inbox_sweep", payload={}))

    by_age = {(r.event_key, r.status, r.body) for r in await rows(runtime)}
    assert by_age == {
        (None, CallbackStatus.REJECTED, b""),
        (None, CallbackStatus.RECEIVED, b'{"x": 1}'),
        ("verified", CallbackStatus.RECEIVED, b'{"x": 1}'),
    }
