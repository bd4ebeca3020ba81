"""The webhook configuration endpoints as seed 000 describes them."""

from __future__ import annotations

import uuid

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.merchants.crypto import secret_box
from clearing_gateway.webhooks.models import Webhook
from tests.conftest import MerchantFixture
from tests.webhooks.conftest import add_webhook

URL = "https://merchant.example/hooks/caci"


async def test_create_list_update_delete(merchant: MerchantFixture, runtime: Runtime) -> None:
    created = await merchant.client.post(
        "/v1/webhooks",
        {
            "requestId": str(uuid.uuid4()),
            "eventType": "va_payment",
            "url": URL,
            "headers": {"X-Auth": "abc"},
            "description": "deposits",
        },
    )
    assert created.status_code == 201, created.text
    envelope = created.json()
    assert (envelope["code"], envelope["message"]) == (201, "SUCCESS")
    data = envelope["data"]
    assert data["eventType"] == "va_payment"
    assert data["url"] == URL
    assert data["headers"] == {"X-Auth": "abc"}
    assert data["description"] == "deposits"
    assert data["isActive"] is True
    assert data["secret"].startswith("whsec_")
    webhook_id = data["id"]

    # The secret is stored encrypted and never shown again.
    async with runtime.sessionmaker() as session:
        row = await session.get(Webhook, uuid.UUID(webhook_id))
        assert row is not None
        assert data["secret"] not in row.secret_ciphertext
        assert secret_box(runtime.settings).open(row.secret_ciphertext) == data["secret"]
    listed = (await merchant.client.get("/v1/webhooks")).json()["data"]
    assert [w["id"] for w in listed] == [webhook_id]
    assert "secret" not in listed[0]

    updated = await merchant.client.put(
        f"/v1/webhooks/{webhook_id}",
        {"requestId": str(uuid.uuid4()), "url": URL + "/v2", "isActive": False},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["url"] == URL + "/v2"
    assert updated.json()["data"]["isActive"] is False
    assert updated.json()["data"]["headers"] == {"X-Auth": "abc"}  # untouched fields stay

    patched = await merchant.client.patch(
        f"/v1/webhooks/{webhook_id}",
        {"requestId": str(uuid.uuid4()), "eventType": "va_payment", "headers": {}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["headers"] == {}

    deleted = await merchant.client.delete(
        f"/v1/webhooks/{webhook_id}", {"requestId": str(uuid.uuid4())}
    )
    assert deleted.status_code == 200
    assert deleted.json()["message"] == "SUCCESS"
    assert (await merchant.client.get("/v1/webhooks")).json()["data"] == []
    again = await merchant.client.delete(
        f"/v1/webhooks/{webhook_id}", {"requestId": str(uuid.uuid4())}
    )
    assert again.status_code == 404


async def test_several_urls_per_event_type(merchant: MerchantFixture) -> None:
    for n in range(3):
        await add_webhook(merchant, f"{URL}/{n}")
    await add_webhook(merchant, URL, event_type="transfer")
    await add_webhook(merchant, URL, event_type="qr_payment")
    await add_webhook(merchant, URL, event_type="debit_notify")
    listed = (await merchant.client.get("/v1/webhooks")).json()["data"]
    assert [w["eventType"] for w in listed].count("va_payment") == 3
    assert len(listed) == 6


async def test_event_type_cannot_change(merchant: MerchantFixture) -> None:
    webhook = await add_webhook(merchant, URL)
    response = await merchant.client.put(
        f"/v1/webhooks/{webhook['id']}", {"requestId": "r-1", "eventType": "transfer"}
    )
    assert response.status_code == 422
    assert "eventType" in response.json()["reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"eventType": "refund", "url": URL}, "eventType"),
        ({"eventType": "va_payment"}, "url"),
        ({"eventType": "va_payment", "url": "ftp://merchant.example/x"}, "url"),
        ({"eventType": "va_payment", "url": "not a url"}, "url"),
        ({"eventType": "va_payment", "url": "https://user:pw@merchant.example/"}, "url"),
        (
            {"eventType": "va_payment", "url": URL, "headers": {"Content-Type": "text/plain"}},
            "headers",
        ),
        ({"eventType": "va_payment", "url": URL, "headers": {"user-agent": "x"}}, "headers"),
        (
            {"eventType": "va_payment", "url": URL, "headers": {"Webhook-Signature": "v1,x"}},
            "headers",
        ),
        ({"eventType": "va_payment", "url": URL, "headers": {"X-Evil": "a\r\nb"}}, "headers"),
        ({"eventType": "va_payment", "url": URL, "headers": {"bad name": "x"}}, "headers"),
        ({"eventType": "va_payment", "url": URL, "isActive": "maybe"}, "isActive"),
    ],
)
async def test_bad_input_is_rejected_and_changes_nothing(
    merchant: MerchantFixture, body: dict[str, object], reason: str
) -> None:
    response = await merchant.client.post("/v1/webhooks", {"requestId": str(uuid.uuid4()), **body})
    assert response.status_code == 422, response.text
    assert response.json()["reason"].startswith(reason)
    assert (await merchant.client.get("/v1/webhooks")).json()["data"] == []


async def test_other_merchants_webhooks_are_invisible(
    merchant: MerchantFixture, other_merchant: MerchantFixture
) -> None:
    webhook = await add_webhook(merchant, URL)
    assert (await other_merchant.client.get("/v1/webhooks")).json()["data"] == []
    for call in (
        other_merchant.client.put(f"/v1/webhooks/{webhook['id']}", {"requestId": "x", "url": URL}),
        other_merchant.client.delete(f"/v1/webhooks/{webhook['id']}", {"requestId": "y"}),
        other_merchant.client.post(
            f"/v1/webhooks/{webhook['id']}/rotate-secret", {"requestId": "z"}
        ),
        merchant.client.put("/v1/webhooks/not-a-uuid", {"requestId": "w", "url": URL}),
    ):
        assert (await call).status_code == 404


async def test_reactivating_clears_the_disabled_reason(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    webhook = await add_webhook(merchant, URL)
    async with unit_of_work(runtime.sessionmaker) as session:
        row = await session.get(Webhook, uuid.UUID(webhook["id"]))
        assert row is not None
        row.is_active, row.disabled_reason = False, "endpoint answered 410 Gone"
    response = await merchant.client.patch(
        f"/v1/webhooks/{webhook['id']}", {"requestId": "on", "isActive": True}
    )
    assert response.json()["data"]["isActive"] is True
    assert response.json()["data"]["disabledReason"] is None


async def test_deliveries_filters_are_validated(merchant: MerchantFixture) -> None:
    bad_status = await merchant.client.get("/v1/webhooks/deliveries", params={"status": "lost"})
    assert bad_status.status_code == 422
    bad_id = await merchant.client.get("/v1/webhooks/deliveries", params={"webhookId": "nope"})
    assert bad_id.status_code == 422
