"""The Finpay connector against its sandbox over real HTTP, and its notifications."""

from __future__ import annotations

import json
import uuid

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.base import TransferRequest
from clearing_gateway.providers.callbacks import handlers
from clearing_gateway.providers.errors import ProviderOutcomeUnknown, ProviderRejected
from clearing_gateway.providers.events import DisbursementStatus, DisbursementStatusChanged
from clearing_gateway.providers.finpay.phpjson import php_json_encode
from clearing_gateway.providers.finpay.signing import notification_signature
from clearing_gateway.providers.hub import Providers
from tests.providers.conftest import LiveGateway, inbox, settled_inbox

ACCOUNT = {"bankCode": "014", "accountNo": "500654309", "accountName": "Karman Prasasta"}


async def start_transfer(
    gateway: LiveGateway, providers: Providers, amount: int = 1_000_000
) -> TransferRequest:
    await gateway.control("finpay", "accounts", ACCOUNT)
    inquiry = await providers.finpay.inquire_account("BCA", ACCOUNT["accountNo"])
    assert inquiry.account_name == "Karman Prasasta"
    assert inquiry.fee == 250_000
    request = TransferRequest(
        reference=f"WD-{uuid.uuid4().hex[:12]}",
        bank_code="014",
        account_no=ACCOUNT["accountNo"],
        account_name=inquiry.account_name,
        amount=amount,
        inquiry_reference=inquiry.inquiry_reference,
    )
    return request


async def test_transfer_settles_and_the_confirmed_notification_is_applied(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    seen: list[DisbursementStatusChanged] = []

    async def handler(_session: object, event: DisbursementStatusChanged, _row: object) -> None:
        seen.append(event)

    request = await start_transfer(gateway, providers)
    handlers.register(DisbursementStatusChanged, handler)
    try:
        accepted = await providers.finpay.transfer(request)
        assert accepted.status is DisbursementStatus.PENDING
        rows = await settled_inbox(runtime, "finpay", 1)
        await gateway.control("finpay", "callbacks/resend-last")
        rows = await settled_inbox(runtime, "finpay", 2)
    finally:
        handlers.unregister(DisbursementStatusChanged)
    assert [r.status for r in rows] == ["applied", "duplicate"]
    assert len(seen) == 1
    assert seen[0].status is DisbursementStatus.SUCCESS
    assert seen[0].reference == request.reference
    assert seen[0].provider_reference == accepted.provider_reference
    assert seen[0].amount == 1_000_000
    status = await providers.finpay.check_status(request.reference)
    assert (status.status, status.provider_status_code) == (DisbursementStatus.SUCCESS, "00")
    deliveries = (
        await gateway.http.get(gateway.sandbox_url("finpay") + "/control/callbacks")
    ).json()
    assert json.loads(deliveries["sent"][0]["reply"])["responseCode"] == "2000000"


async def test_held_then_failed_transfer(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finpay", "settings", {"autoSettle": False})
    request = await start_transfer(gateway, providers)
    await providers.finpay.transfer(request)
    await gateway.control("finpay", f"transfers/{request.reference}/hold")
    assert (await providers.finpay.check_status(request.reference)).provider_status_code == "03"
    await gateway.control("finpay", f"transfers/{request.reference}/fail")
    rows = await settled_inbox(runtime, "finpay", 1)
    # genuine; ignored because no withdrawal of the gateway's has this reference
    assert rows[0].status == "ignored"
    assert rows[0].event_type == "DisbursementStatusChanged"
    assert (
        await providers.finpay.check_status(request.reference)
    ).status is DisbursementStatus.FAILED


async def test_rejections(gateway: LiveGateway, providers: Providers) -> None:
    with pytest.raises(ProviderRejected) as unknown_account:
        await providers.finpay.inquire_account("014", "999")
    assert (unknown_account.value.code, unknown_account.value.http_status) == ("4040011", 404)
    request = await start_transfer(gateway, providers)
    await providers.finpay.transfer(request)
    with pytest.raises(ProviderRejected) as reused:
        await providers.finpay.transfer(request)  # same order id, and the refCode is spent
    assert reused.value.code == "4090001"
    missing = await providers.finpay.check_status("never-sent")
    assert missing.status is DisbursementStatus.NOT_FOUND


async def test_fault_modes(gateway: LiveGateway, providers: Providers) -> None:
    request = await start_transfer(gateway, providers)
    await gateway.control("finpay", "faults", {"mode": "timeout", "count": 1, "holdSeconds": 1.5})
    with pytest.raises(ProviderOutcomeUnknown):
        await providers.finpay.transfer(request)
    # The provider did take the transfer: a status check tells the truth.
    status = await providers.finpay.check_status(request.reference)
    assert status.status is not DisbursementStatus.NOT_FOUND
    await gateway.control("finpay", "faults", {"mode": "5xx", "count": 1})
    with pytest.raises(ProviderOutcomeUnknown):
        await providers.finpay.check_status(request.reference)


async def test_forged_notifications_are_rejected_and_cannot_shadow_the_real_one(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    await gateway.control("finpay", "settings", {"autoSettle": False})
    request = await start_transfer(gateway, providers)
    accepted = await providers.finpay.transfer(request)
    fields = {
        "amount": {"currency": "IDR", "value": "10000.00"},
        "originalReferenceNo": accepted.provider_reference,
        "beneficiaryAccountNo": ACCOUNT["accountNo"],
        "originalPartnerReferenceNo": request.reference,
        "latestTransactionStatus": "00",
        "beneficiaryAccountName": "Karman Prasasta",
        "beneficiaryBankCode": "014",
        "additionalInfo": {"notes": None},
    }
    url = f"{gateway.url}/callbacks/finpay/disbursement"
    forged = await gateway.http.post(
        url,
        content=php_json_encode({**fields, "signature": notification_signature(fields, "guess")}),
    )
    assert forged.status_code == 401
    assert forged.json()["responseCode"] == "4010000"
    # Signed with the right key but claiming success that Check Status does not show:
    # the status from Check Status wins.
    key = providers.finpay.config.merchant_key
    signed = await gateway.http.post(
        url, content=php_json_encode({**fields, "signature": notification_signature(fields, key)})
    )
    assert signed.status_code == 200
    rows = await inbox(runtime, "finpay")
    assert [r.status for r in rows] == ["rejected", "ignored"]
    assert "signature" in (rows[0].error or "")
    await gateway.control("finpay", f"transfers/{request.reference}/settle")
    rows = await settled_inbox(runtime, "finpay", 3)
    # not "duplicate": an ignored event (no withdrawal has this reference) claims no key
    assert [r.status for r in rows][2] == "ignored"
    unknown = {**fields, "originalPartnerReferenceNo": "not-ours", "originalReferenceNo": "X1"}
    not_found = await gateway.http.post(
        url, content=php_json_encode({**unknown, "signature": notification_signature(unknown, key)})
    )
    assert not_found.status_code == 401
    bad_json = await gateway.http.post(url, content=b"[1,2")
    assert bad_json.status_code == 400
