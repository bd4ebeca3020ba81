"""The gateway and its sandboxes over real HTTP (fixtures shared with tests/providers)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.ledger.verify import verify
from clearing_gateway.webhooks.models import WebhookEvent
from tests.conftest import create_merchant
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    LiveGateway,
    gateway,
    live_socket,
    settings_overrides,
)
from tests.support.seed_client import SeedClient


class Merchant:
    def __init__(self, merchant_id: uuid.UUID, client: SeedClient) -> None:
        self.id = merchant_id
        self.client = client

    async def user(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "userId": uuid.uuid4().hex[:8],
            "kycName": "Jhon Doe",
            "phone": "+6281234567891",
            "email": "jhon.doe@example.com",
            "type": "retail",
            "nationality": "ID",
        }
        body.update(overrides)
        response = await self.client.post("/v1/users", body)
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    async def virtual_account(self, user_id: str, bank_code: str = "014") -> dict[str, Any]:
        response = await self.client.post(
            "/v1/virtual-accounts",
            {"requestId": str(uuid.uuid4()), "userId": user_id, "bankCode": bank_code},
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["data"])

    async def pay(
        self, account: dict[str, Any], amount: str, payer: str | None = "Budi Santoso"
    ) -> httpx.Response:
        payment: dict[str, Any] = {"amount": amount}
        if payer:
            payment["payerName"] = payer
        return await self.client.post(
            "/v1/simulator/deposits/payment",
            {
                "virtualAccountNo": account["virtualAccountNo"],
                "bankCode": account["bankCode"],
                "payment": payment,
            },
        )


@pytest.fixture
async def live_merchant(gateway: LiveGateway, runtime: Runtime) -> Merchant:  # noqa: F811
    issued = await create_merchant(runtime)
    client = SeedClient(
        httpx.AsyncClient(base_url=gateway.url, timeout=20), issued.api_key, issued.api_secret
    )
    return Merchant(issued.merchant_id, client)


async def events(runtime: Runtime, event_type: str | None = None) -> list[WebhookEvent]:
    async with runtime.sessionmaker() as session:
        query = select(WebhookEvent).order_by(WebhookEvent.created_at)
        if event_type:
            query = query.where(WebhookEvent.event_type == event_type)
        return list(await session.scalars(query))


async def ledger_findings(runtime: Runtime) -> list[Any]:
    async with runtime.sessionmaker() as session:
        return await verify(session)
