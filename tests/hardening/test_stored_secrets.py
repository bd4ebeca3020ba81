"""A webhook signing secret is never kept in clear inside a stored idempotent response."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.idempotency.models import IdempotencyRecord
from tests.conftest import MerchantFixture

URL = "https://merchant.example/hook"


async def stored_bodies(runtime: Runtime) -> list[bytes]:
    async with unit_of_work(runtime.sessionmaker) as session:
        rows = await session.scalars(select(IdempotencyRecord.response_body))
        return [row for row in rows if row is not None]


async def test_create_webhook_secret_is_sealed_and_replayed_byte_for_byte(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    body = {"requestId": str(uuid.uuid4()), "eventType": "va_payment", "url": URL}
    first = await merchant.client.post("/v1/webhooks", body)
    assert first.status_code == 201, first.text
    secret = first.json()["data"]["secret"]
    assert secret.startswith("whsec_")

    stored = await stored_bodies(runtime)
    assert stored
    assert all(secret.encode() not in row for row in stored)

    replay = await merchant.client.post("/v1/webhooks", body)
    assert replay.status_code == 201
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.content == first.content


async def test_rotated_secret_is_sealed_and_replayed(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    created = await merchant.client.post(
        "/v1/webhooks", {"requestId": str(uuid.uuid4()), "eventType": "va_payment", "url": URL}
    )
    webhook_id = created.json()["data"]["id"]
    body = {"requestId": str(uuid.uuid4())}
    path = f"/v1/webhooks/{webhook_id}/rotate-secret"
    rotated = await merchant.client.post(path, body)
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["data"]["secret"]

    assert all(secret.encode() not in row for row in await stored_bodies(runtime))
    replay = await merchant.client.post(path, body)
    assert replay.content == rotated.content


async def test_ordinary_responses_are_replayed_unchanged(merchant: MerchantFixture) -> None:
    body = {
        "requestId": str(uuid.uuid4()),
        "userId": "u-1",
        "kycName": "Jhon Doe",
        "type": "retail",
    }
    first = await merchant.client.post("/v1/users", body)
    assert first.status_code == 201, first.text
    replay = await merchant.client.post("/v1/users", body)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.content == first.content
