"""Topremit callbacks: one payment id rule, both documented body shapes, QRIS or VA by
the body, and a status that is not a payment answered 200 and recorded (never a 400
that invites endless retries)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.base import QrisRequest
from clearing_gateway.providers.callbacks import handlers
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.hub import Providers
from clearing_gateway.providers.topremit.client import external_id
from clearing_gateway.providers.topremit.signing import snap_timestamp, transaction_signature
from tests.providers.conftest import LiveGateway, settled_inbox
from tests.providers.test_topremit import va_request


@pytest.fixture
def seen() -> Iterator[list[PaymentReceived]]:
    events: list[PaymentReceived] = []

    async def handler(_session: object, event: PaymentReceived, _row: object) -> None:
        events.append(event)

    handlers.register(PaymentReceived, handler)
    try:
        yield events
    finally:
        handlers.unregister(PaymentReceived)


async def post(
    gateway: LiveGateway,
    providers: Providers,
    channel: str,
    document: dict[str, Any],
    prefix: str = "",
) -> httpx.Response:
    body = json.dumps(document).encode()
    path = f"{prefix}/callbacks/topremit/{channel}"
    stamp = snap_timestamp(utcnow())
    config = providers.topremit.config
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer t",
        "X-TIMESTAMP": stamp,
        "X-SIGNATURE": transaction_signature(
            config.callback_secret, "POST", path, "t", body, stamp, config.signature_encoding
        ),
        "X-PARTNER-ID": config.partner_id,
        "X-EXTERNAL-ID": external_id(),
        "CHANNEL-ID": "95221",
    }
    return await gateway.http.post(gateway.url + path, content=body, headers=headers)


def field_table_body(**info: Any) -> dict[str, Any]:
    return {
        "partnerServiceId": "   88899",
        "customerNo": "1",
        "virtualAccountNo": "888991",
        "virtualAccountName": "X",
        "trxId": "T-1",
        "paidAmount": {"value": "10000.00", "currency": "IDR"},
        "trxDateTime": snap_timestamp(utcnow()),
        "referenceNo": "R-1",
        "additionalInfo": {"paymentId": "P-1", "status": "PAID", "type": "VIRTUAL_ACCOUNT", **info},
    }


async def test_one_payment_id_rule(
    gateway: LiveGateway, providers: Providers, runtime: Runtime, seen: list[PaymentReceived]
) -> None:
    first = await post(gateway, providers, "va", field_table_body())
    without_id = field_table_body()
    del without_id["additionalInfo"]["paymentId"]  # the same payment, only referenceNo
    second = await post(gateway, providers, "va", without_id)
    assert first.status_code == 200
    assert second.status_code == 400
    rows = await settled_inbox(runtime, "topremit", 2)
    assert [(r.status, r.event_key) for r in rows] == [("applied", "va:P-1"), ("rejected", None)]
    assert "paymentId" in (rows[1].error or "")
    assert [e.provider_payment_id for e in seen] == ["P-1"]


async def test_non_payment_status_is_answered_200_and_recorded(
    gateway: LiveGateway, providers: Providers, runtime: Runtime, seen: list[PaymentReceived]
) -> None:
    expired = await post(gateway, providers, "va", field_table_body(status="EXPIRED"))
    qris_pending = await post(
        gateway,
        providers,
        "qris",
        {
            "originalReferenceNo": "QR-1",
            "originalPartnerReferenceNo": "Q-1",
            "latestTransactionStatus": "06",
            "amount": {"value": "10000.00", "currency": "IDR"},
        },
    )
    assert [(r.status_code, r.content) for r in (expired, qris_pending)] == [(200, b"{}")] * 2
    rows = await settled_inbox(runtime, "topremit", 2)
    assert [r.status for r in rows] == ["ignored", "ignored"]
    assert "EXPIRED" in (rows[0].error or "")
    assert seen == []


async def test_the_example_shape_is_confirmed_through_the_inquiry(
    gateway: LiveGateway, providers: Providers, runtime: Runtime, seen: list[PaymentReceived]
) -> None:
    created = await providers.topremit.create_virtual_account(va_request(amount=15_000_000))
    await gateway.control("topremit", "callbacks/mode", {"mode": "drop"})
    paid = await gateway.control("topremit", f"va/{created.reference}/pay", {})
    document = {
        "responseCode": "2002500",
        "responseMessage": "Successful",
        "virtualAccountData": {
            "partnerServiceId": providers.topremit.config.partner_service_id,
            "customerNo": created.customer_no,
            "virtualAccountNo": created.virtual_account_no,
            "trxId": created.reference,
            "additionalInfo": {},
            "paymentId": paid["paymentId"],
            "channelCode": "BCA",
            "status": "PAID",
            "created_at": snap_timestamp(utcnow()),
        },
    }
    answer = await post(gateway, providers, "va", document)
    assert answer.status_code == 200, answer.text
    (row,) = await settled_inbox(runtime, "topremit", 1)
    assert (row.status, row.event_key) == ("applied", f"va:{paid['paymentId']}")
    (event,) = seen
    assert (event.amount, event.reference) == (15_000_000, created.reference)


async def test_qris_or_va_is_decided_by_the_body(
    gateway: LiveGateway, providers: Providers, runtime: Runtime, seen: list[PaymentReceived]
) -> None:
    qris = await providers.topremit.create_qris(
        QrisRequest(reference=f"Q-{uuid.uuid4().hex[:8]}", amount=5_500_000)
    )
    await gateway.control("topremit", "callbacks/mode", {"mode": "hold"})
    await gateway.control("topremit", f"qris/{qris.provider_reference}/pay", {})
    held = gateway.sandboxes.topremit.callbacks.held[0]
    answer = await post(gateway, providers, "va", json.loads(held.body))  # the other URL
    assert answer.status_code == 200, answer.text
    (row,) = await settled_inbox(runtime, "topremit", 1)
    assert (row.status, row.event_key) == ("applied", f"qris:{qris.provider_reference}")
    assert [e.instrument for e in seen] == ["qris"]
