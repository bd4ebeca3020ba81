"""The Finan connector against its sandbox over real HTTP, and its balance webhook."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.base import AccountInquiryConnector, PaymentRequest, TransferRequest
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.providers.finan.signing import signature
from clearing_gateway.providers.hub import Providers
from tests.providers.conftest import LiveGateway, inbox, settled_inbox


async def test_payment_request_paid_and_webhook_confirmed(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    reference = f"CI-{uuid.uuid4().hex[:10]}"
    created = await providers.finan.create_payment_request(
        PaymentRequest(reference=reference, amount=50_000_00, currency="IDR", customer_name="Ani")
    )
    assert created.status == "unpaid"
    assert created.qr_code
    await gateway.control(
        "finan", f"payments/{created.provider_payment_id}/pay", {"payerName": "Ani"}
    )
    rows = await settled_inbox(runtime, "finan", 1)
    assert (rows[0].status, rows[0].event_key) == (
        "applied",
        f"payment:{created.provider_payment_id}:paid:5000000",
    )
    await gateway.control("finan", "callbacks/resend-last")
    rows = await settled_inbox(runtime, "finan", 2)
    assert [r.status for r in rows] == ["applied", "duplicate"]


async def test_payout_with_otp_settles(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control(
        "finan", "accounts", {"bankCode": "014", "accountNo": "123", "accountName": "Budi"}
    )
    request = TransferRequest(
        reference=f"PO-{uuid.uuid4().hex[:10]}",
        bank_code="014",
        account_no="123",
        account_name="Budi",
        amount=75_000_00,
    )
    accepted = await providers.finan.transfer(request)
    assert accepted.status is DisbursementStatus.PENDING
    rows = await settled_inbox(runtime, "finan", 2)  # Processing, then Completed
    assert sorted(r.event_key or "" for r in rows) == sorted(
        [f"cashout:{request.reference}:processing", f"cashout:{request.reference}:completed"]
    )
    # ignored: genuine, but no withdrawal of the gateway's has this reference
    assert all(r.status == "ignored" for r in rows)
    status = await providers.finan.check_status(request.reference)
    assert status.status is DisbursementStatus.SUCCESS
    assert status.amount == 75_000_00


async def test_rejections_and_faults(gateway: LiveGateway, providers: Providers) -> None:
    # No account inquiry: the capability is absent, the transfer checks the account.
    assert not isinstance(providers.finan, AccountInquiryConnector)
    unknown_account = TransferRequest(
        reference="PO-x", bank_code="014", account_no="none", account_name="X", amount=100
    )
    with pytest.raises(ProviderRejected) as invalid:
        await providers.finan.transfer(unknown_account)
    assert invalid.value.code == "400011"
    await gateway.control("finan", "faults", {"mode": "5xx", "count": 1})
    with pytest.raises(ProviderOutcomeUnknown):
        await providers.finan.check_status("PO-x")
    assert (await providers.finan.check_status("PO-x")).status is DisbursementStatus.NOT_FOUND


async def test_bad_credentials_are_rejected_by_the_sandbox(gateway: LiveGateway) -> None:
    stamp = str(int(time.time()) - 120)  # outside the 30 s window
    path = "/api/v1/payments"
    response = await gateway.http.get(
        gateway.sandbox_url("finan") + "/open" + path,
        headers={
            "x-client-id": "sandbox-finan-client",
            "x-timestamp": stamp,
            "x-signature": signature("sandbox-finan-secret", "GET", path, "", stamp),
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == 401002


async def test_unconfirmed_or_forged_webhooks_get_401(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    config = providers.finan.config
    url = f"{gateway.url}/callbacks/finan/webhook"
    document = {
        "data": {
            "payment_id": "PAY-NOT-AT-FINAN",
            "amount": 2500,
            "account_receiver_name": "Alice",
            "transaction_code": "TRX1",
            "transaction_at": 1693392000,
            "description": "x",
            "reference_code": "REF1",
        },
        "type": "create_payment",
        "client_id": config.client_id,
    }
    body = json.dumps(document)
    unsigned = await gateway.http.post(url, content=body)  # no headers: confirmation decides
    stamp = str(int(time.time()))
    bad_signature = await gateway.http.post(
        url,
        content=body,
        headers={"x-client-id": config.client_id, "x-timestamp": stamp, "x-signature": "00"},
    )
    other_client = await gateway.http.post(
        url, content=json.dumps({**document, "client_id": "someone-else"})
    )
    assert [r.status_code for r in (unsigned, bad_signature, other_client)] == [401, 401, 401]
    assert unsigned.json() == {"message": "Unauthorized"}
    rows = await inbox(runtime, "finan")
    assert [r.status for r in rows] == ["rejected"] * 3
    assert "paid" in (rows[0].error or "") or "confirm" in (rows[0].error or "")
