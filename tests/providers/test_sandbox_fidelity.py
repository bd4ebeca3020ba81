"""The sandboxes as strict as the providers, and retrying as they do: Finpay's 01 → 03 →
00 progression and an unknown status, callbacks re-sent on the provider's schedule after
a 503 (so the gateway's "retry later" path runs end to end), Finan `cashin` webhooks with
Jakarta wall-clock times, Topremit's example callback shape, and refused content types
and missing headers."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from typing import Any

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.clock import WIB, utcnow, wib_wall_clock
from clearing_gateway.providers.base import PaymentRequest, TransferRequest
from clearing_gateway.providers.callback_kit import timestamp
from clearing_gateway.providers.errors import ProviderRejected
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.providers.finan.signing import signature
from clearing_gateway.providers.finpay.signing import basic_authorization
from clearing_gateway.providers.hub import Providers
from tests.providers.conftest import LiveGateway, eventually, settled_inbox
from tests.providers.test_topremit import va_request
from tests.support.live_server import socket_url

RETRY = [0.3, 0.3]


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {
        "public_base_url": socket_url(live_socket),
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.3,
        # The provider-like behaviour the other suites switch off (tests/conftest.py).
        "sandbox_finpay_intermediate_statuses": True,
        "sandbox_finpay_retry_schedule": RETRY,
        "sandbox_finan_retry_schedule": RETRY,
        "sandbox_topremit_retry_schedule": RETRY,
    }


async def finpay_transfer(providers: Providers, account: str = "5006543091") -> TransferRequest:
    inquiry = await providers.finpay.inquire_account("014", account, holder_hint="Ani Wijaya")
    assert inquiry.account_name == "Ani Wijaya"
    request = TransferRequest(
        reference=f"WD-{uuid.uuid4().hex[:12]}",
        bank_code="014",
        account_no=account,
        account_name=inquiry.account_name,
        amount=1_000_000,
        inquiry_reference=inquiry.inquiry_reference,
    )
    accepted = await providers.finpay.transfer(request)
    assert accepted.provider_status_code == "01"
    return request


def deliveries(gateway: LiveGateway, name: str) -> list[tuple[str, int | None]]:
    sender = getattr(gateway.sandboxes, name).callbacks
    return [(record.label, record.status_code) for record in sender.sent]


async def test_finpay_notifies_01_then_03_then_00(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    request = await finpay_transfer(providers)
    rows = await settled_inbox(runtime, "finpay", 3)
    assert sorted(json.loads(r.body)["latestTransactionStatus"] for r in rows) == [
        "00",
        "01",
        "03",
    ]
    labels = sorted(label for label, _status in deliveries(gateway, "finpay"))
    assert labels == [f"transfer:{request.reference}:{code}" for code in ("00", "01", "03")]
    assert all(r.status != "rejected" for r in rows)


async def test_an_unknown_finpay_status_is_pending_not_a_crash(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finpay", "settings", {"autoSettle": False})
    request = await finpay_transfer(providers)
    await gateway.control("finpay", f"transfers/{request.reference}/status", {"status": "08"})
    status = await providers.finpay.check_status(request.reference)
    assert (status.status, status.provider_status_code) == (DisbursementStatus.PENDING, "08")
    (row,) = await settled_inbox(runtime, "finpay", 1)
    assert row.status != "received", row.error  # answered, not left for a retry


async def test_finpay_retries_a_notification_answered_503(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finpay", "settings", {"intermediateStatuses": False})
    # Check Status fails once: the gateway cannot confirm, answers 503 and keeps the row.
    await gateway.control("finpay", "faults", {"mode": "5xx", "count": 1, "path": "/check/"})
    request = await finpay_transfer(providers)
    rows = await settled_inbox(runtime, "finpay", 2)
    assert rows[0].status == "received"
    # Verified and answered 200 (ignored: no withdrawal of the gateway's has it).
    assert rows[1].status in ("applied", "verified", "ignored")
    label = f"transfer:{request.reference}:00"
    assert deliveries(gateway, "finpay") == [(label, 503), (label, 200)]


async def test_finan_retries_a_webhook_its_read_api_cannot_confirm_yet(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    created = await providers.finan.create_payment_request(
        PaymentRequest(
            reference=f"CI-{uuid.uuid4().hex[:10]}",
            amount=50_000_00,
            currency="IDR",
            customer_name="Ani",
        )
    )
    await gateway.control("finan", "callbacks/mode", {"retrySchedule": [1.0]})
    await gateway.control("finan", "read-lag", {"lag": True})
    await gateway.control("finan", f"payments/{created.provider_payment_id}/pay")
    await eventually(lambda: _async(deliveries(gateway, "finan")), lambda sent: len(sent) >= 1)
    await gateway.control("finan", "read-lag", {"lag": False})
    rows = await settled_inbox(runtime, "finan", 2)
    assert rows[0].status == "received"
    # Verified and answered 200 (ignored: no withdrawal of the gateway's has it).
    assert rows[1].status in ("applied", "verified", "ignored")
    # The sandbox records an attempt once it has read the answer, a moment after the
    # gateway committed the inbox row.
    sent = await eventually(
        lambda: _async(deliveries(gateway, "finan")), lambda sent: len(sent) >= 2
    )
    assert [status for _label, status in sent] == [503, 200]


async def _async(value: Any) -> Any:
    return value


async def test_finan_sends_cashin_webhooks_in_jakarta_time(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finan", "settings", {"paymentWebhooks": "cashin"})
    reference = f"CI-{uuid.uuid4().hex[:10]}"
    created = await providers.finan.create_payment_request(
        PaymentRequest(reference=reference, amount=40_000_00, currency="IDR", customer_name="Ani")
    )
    await gateway.control("finan", f"payments/{created.provider_payment_id}/pay")
    (row,) = await settled_inbox(runtime, "finan", 1)
    document = json.loads(row.body)
    assert document["type"] == "cashin"
    assert row.status in ("applied", "verified", "ignored"), row.error
    assert row.event_key == f"payment:{created.provider_payment_id}:paid:4000000"
    # Zone-less, Jakarta wall clock: read as WIB it is now, read as UTC 7 h off.
    settled = dt.datetime.fromisoformat(document["data"]["settled_at"])
    assert settled.tzinfo is None
    assert abs((settled.replace(tzinfo=WIB) - utcnow()).total_seconds()) < 120


async def test_finan_both_webhooks_credit_one_payment(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finan", "settings", {"paymentWebhooks": "both"})
    created = await providers.finan.create_payment_request(
        PaymentRequest(
            reference=f"CI-{uuid.uuid4().hex[:10]}",
            amount=40_000_00,
            currency="IDR",
            customer_name="Ani",
        )
    )
    await gateway.control("finan", f"payments/{created.provider_payment_id}/pay")
    rows = await settled_inbox(runtime, "finan", 2)
    assert sorted(json.loads(r.body)["type"] for r in rows) == ["cashin", "create_payment"]
    # Both confirm to the same state of the same payment: one event, one duplicate.
    assert [r.status for r in rows].count("duplicate") == 1
    assert {r.event_key for r in rows} == {f"payment:{created.provider_payment_id}:paid:4000000"}


async def test_topremit_sends_the_example_callback_shape(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("topremit", "settings", {"callbackShape": "example"})
    created = await providers.topremit.create_virtual_account(va_request())
    paid = await gateway.control("topremit", f"va/{created.reference}/pay")
    (row,) = await settled_inbox(runtime, "topremit", 1)
    document = json.loads(row.body)
    assert "virtualAccountData" in document
    assert "paidAmount" not in json.dumps(document)
    assert row.status in ("applied", "verified", "ignored"), row.error
    assert row.event_key == f"va:{paid['paymentId']}"


async def test_topremit_resends_on_its_schedule_what_the_gateway_cannot_apply_yet(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    # The example shape carries no amount, and an open-amount VA's inquiry cannot state
    # it: the gateway keeps each copy and answers 503, and Topremit tries again.
    await gateway.control("topremit", "settings", {"callbackShape": "example"})
    created = await providers.topremit.create_virtual_account(va_request(amount=None))
    await gateway.control("topremit", f"va/{created.reference}/pay", {"amount": "25000.00"})
    await settled_inbox(runtime, "topremit", 1 + len(RETRY))
    sent = deliveries(gateway, "topremit")
    assert [status for _label, status in sent] == [503] * (1 + len(RETRY))
    # Re-signed each time: a fresh timestamp, so none is refused as a replay.
    rows = await settled_inbox(runtime, "topremit", 1 + len(RETRY))
    assert {r.status for r in rows} == {"received"}
    assert len({r.headers["x-timestamp"] + r.headers["x-signature"] for r in rows}) == len(rows)


async def test_finpay_refuses_calls_without_its_documented_headers(
    gateway: LiveGateway, providers: Providers
) -> None:
    url = f"{gateway.sandbox_url('finpay')}/pg/payment/card/disbursement/inquiry/014/5006543091"
    auth = basic_authorization(
        providers.finpay.config.merchant_id, providers.finpay.config.merchant_key
    )
    missing_accept = await gateway.http.get(
        url, headers={"Authorization": auth, "Content-Type": "application/json"}
    )
    assert missing_accept.status_code == 400
    assert missing_accept.json()["responseCode"] == "4000000"
    wrong_type = await gateway.http.get(
        url,
        headers={"Authorization": auth, "Content-Type": "text/plain", "Accept": "application/json"},
    )
    assert wrong_type.status_code == 400


async def test_finan_refuses_a_body_that_is_not_json(
    gateway: LiveGateway, providers: Providers
) -> None:
    config = providers.finan.config
    body = '{"amount":1000}'
    stamp = str(int(utcnow().timestamp()))
    answer = await gateway.http.post(
        f"{gateway.sandbox_url('finan')}/open/api/v1/payments",
        content=body,
        headers={
            "Content-Type": "text/plain",
            "x-client-id": config.client_id,
            "x-timestamp": stamp,
            "x-signature": signature(config.secret_key, "POST", "/api/v1/payments", body, stamp),
        },
    )
    assert answer.status_code == 415


def test_zone_less_provider_times_are_jakarta_time_never_utc() -> None:
    read = timestamp("2026-12-01T10:00:00")
    assert read == dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    assert timestamp("2026-12-01T10:00:00+00:00") == dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    assert timestamp("not a time") is None
    assert wib_wall_clock(dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)) == "2026-12-01T10:00:00"


async def test_topremit_token_endpoint_refuses_wrong_type_and_missing_headers(
    gateway: LiveGateway, providers: Providers
) -> None:
    url = f"{gateway.sandbox_url('topremit')}/pg/snap/v1/access-token/b2b"
    client_key = providers.topremit.config.client_id
    wrong_type = await gateway.http.post(
        url, content=b"", headers={"Content-Type": "text/plain", "X-CLIENT-KEY": client_key}
    )
    assert (wrong_type.status_code, wrong_type.json()["responseCode"]) == (400, "4007300")
    no_timestamp = await gateway.http.post(
        url, content=b"", headers={"Content-Type": "application/json", "X-CLIENT-KEY": client_key}
    )
    assert (no_timestamp.status_code, no_timestamp.json()["responseCode"]) == (400, "4007302")
    assert await providers.topremit.access_token()  # the connector sends what is documented


async def test_finpay_refuses_what_the_funds_placed_with_it_cannot_cover(
    gateway: LiveGateway, providers: Providers
) -> None:
    await gateway.control("finpay", "settings", {"enforceBalance": True})
    await gateway.control("finpay", "balance", {"add": 13_000})  # whole rupiah
    await finpay_transfer(providers)  # 10,000 rupiah and its 2,500 fee: 500 left
    with pytest.raises(ProviderRejected) as refused:
        await finpay_transfer(providers, account="5006543092")
    assert (refused.value.code, refused.value.http_status) == ("4030014", 403)
