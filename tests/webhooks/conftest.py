from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from clearing_gateway import webhooks
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.models import Job
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.tasks import load_task_modules
from clearing_gateway.webhooks.models import WebhookEvent
from tests.conftest import MerchantFixture
from tests.support.clock import ManualClock
from tests.support.receiver import Receiver

load_task_modules()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "webhook_retry_schedule_seconds": [10, 60, 600],
        "webhook_retry_jitter": 0.0,
        "webhook_timeout_seconds": 2.0,
        "webhook_connect_timeout_seconds": 1.0,
    }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def worker(runtime: Runtime, clock: ManualClock) -> AsyncIterator[Worker]:
    running = Worker(runtime, clock=clock, poll_interval=0.02)
    try:
        yield running
    finally:
        await running.abandon()


def va_payment(transaction_id: str, merchant_id: str) -> dict[str, Any]:
    """Shaped exactly like seed 000's va_payment example."""
    return {
        "partnerServiceId": merchant_id,
        "customerNo": "merchant-user-id",
        "virtualAccountNo": "1234567890",
        "trxId": transaction_id,
        "paymentRequestId": transaction_id,
        "paidAmount": {"value": "100000", "currency": "IDR"},
        "trxDateTime": "2025-01-01T10:00:00Z",
        "virtualAccountName": "John Doe",
        "virtualAccountType": "01",
        "virtualAccountPhone": "+62812345678",
        "virtualAccountEmail": "john@example.com",
        "additionalInfo": {
            "minAmount": 0,
            "maxAmount": 10000000,
            "bankCode": "BCA",
            "customerInfo": {
                "customer_id": "internal-user-uuid",
                "customer_ref_id": "merchant-user-ref",
                "given_name": "John Doe",
                "email": "john@example.com",
                "mobile": "+62812345678",
            },
            "expiredDate": "2025-01-02T00:00:00Z",
            "failureReason": None,
            "merchantUserId": "merchant-user-ref",
            "caciTxId": transaction_id,
        },
    }


def transfer(transaction_id: str) -> dict[str, Any]:
    """Shaped exactly like seed 000's transfer example."""
    return {
        "originalReferenceNo": "provider-reference-number",
        "originalPartnerReferenceNo": "merchant-reference",
        "responseCode": "00",
        "responseMessage": "Success",
        "amount": {"value": "500000", "currency": "IDR"},
        "paymentInstrumentId": "pi-uuid",
        "beneficiaryAccountNo": "0987654321",
        "beneficiaryBankCode": "BNI",
        "sourceAccountNo": "source-account-number",
        "additionalInfo": {"merchantUserId": "merchant-user-ref", "caciTxId": transaction_id},
    }


def compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def publish(
    runtime: Runtime,
    merchant_id: uuid.UUID,
    transaction_id: str | None = None,
    event_type: str = "va_payment",
) -> WebhookEvent:
    tx = transaction_id or str(uuid.uuid4())
    payload = va_payment(tx, str(merchant_id)) if event_type == "va_payment" else transfer(tx)
    async with unit_of_work(runtime.sessionmaker) as session:
        return await webhooks.publish(
            session,
            merchant_id=merchant_id,
            event_type=event_type,
            transaction_id=tx,
            payload=payload,
        )


async def add_webhook(
    merchant: MerchantFixture, url: str, event_type: str = "va_payment", **fields: Any
) -> dict[str, Any]:
    body = {"requestId": str(uuid.uuid4()), "eventType": event_type, "url": url, **fields}
    response = await merchant.client.post("/v1/webhooks", body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def deliveries(merchant: MerchantFixture, **params: str) -> list[dict[str, Any]]:
    response = await merchant.client.get("/v1/webhooks/deliveries", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return sorted(rows, key=lambda row: (row["createdAt"], row["attempt"]))


async def pending_deliveries(runtime: Runtime) -> list[Job]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Job).where(
                Job.kind == "webhooks.deliver", Job.status.in_(["pending", "running"])
            )
        )
        return list(rows)
