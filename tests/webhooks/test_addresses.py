"""SSRF rules in production: https only, public addresses only, at save and at connect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.config import Settings
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.webhooks.addresses import BlockedAddressError, check_url
from clearing_gateway.webhooks.service import RESOLVER_KEY
from tests.conftest import PRODUCTION_SETTINGS, MerchantFixture, create_merchant
from tests.support.receiver import Receiver
from tests.support.seed_client import SeedClient
from tests.webhooks.conftest import add_webhook, deliveries, publish


class TableResolver:
    """DNS answers from a table (no real DNS in tests)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise OSError(f"no such host: {host}")
        return self.table[host]


RESOLVER = TableResolver(
    {
        "hooks.merchant.example": ["93.184.216.34"],
        "internal.merchant.example": ["10.1.2.3"],
        "mixed.merchant.example": ["93.184.216.34", "192.168.0.7"],
        "v6.merchant.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    }
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {**PRODUCTION_SETTINGS, "webhook_retry_schedule_seconds": [10]}


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.merchant.example/caci",  # not https
        "https://10.0.0.1/hook",
        "https://10.255.255.254/hook",
        "https://172.16.0.1/hook",
        "https://172.31.255.254/hook",
        "https://192.168.1.10/hook",
        "https://127.0.0.1/hook",
        "https://127.8.9.10:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[fe80::1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "https://224.0.0.1/hook",
        "https://internal.merchant.example/hook",  # a name resolving to a private address
        "https://mixed.merchant.example/hook",  # one private answer is enough
        "https://unknown.merchant.example/hook",  # does not resolve
    ],
)
async def test_production_rejects(url: str, settings: Settings) -> None:
    with pytest.raises(BlockedAddressError):
        await check_url(url, settings, RESOLVER)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.merchant.example/caci",
        "https://hooks.merchant.example:8443/caci?x=1",
        "https://v6.merchant.example/caci",
        "https://93.184.216.34/hook",
        "https://172.32.0.1/hook",  # just outside 172.16.0.0/12
    ],
)
async def test_production_accepts_public_https(url: str, settings: Settings) -> None:
    await check_url(url, settings, RESOLVER)


@pytest.fixture
async def prod_merchant(runtime: Runtime, http: httpx.AsyncClient) -> MerchantFixture:
    runtime.extras[RESOLVER_KEY] = RESOLVER
    credentials = await create_merchant(runtime, ips=["127.0.0.1"])
    return MerchantFixture(
        credentials, SeedClient(http, credentials.api_key, credentials.api_secret)
    )


async def test_api_rejects_private_targets(prod_merchant: MerchantFixture) -> None:
    for url in (
        "https://internal.merchant.example/h",
        "https://169.254.169.254/",
        "http://hooks.merchant.example/",
    ):
        response = await prod_merchant.client.post(
            "/v1/webhooks", {"requestId": str(uuid.uuid4()), "eventType": "va_payment", "url": url}
        )
        assert response.status_code == 422, url
        assert response.json()["reason"].startswith("url:")
    await add_webhook(prod_merchant, "https://hooks.merchant.example/caci")
    update = await prod_merchant.client.patch(
        f"/v1/webhooks/{(await prod_merchant.client.get('/v1/webhooks')).json()['data'][0]['id']}",
        {"requestId": str(uuid.uuid4()), "url": "https://10.0.0.8/"},
    )
    assert update.status_code == 422


@pytest.fixture
async def prod_worker(runtime: Runtime) -> AsyncIterator[Worker]:
    worker = Worker(runtime, poll_interval=0.02)
    try:
        yield worker
    finally:
        await worker.abandon()


async def test_connect_time_check_stops_dns_rebinding(
    prod_merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, prod_worker: Worker
) -> None:
    """The name was public when saved; by delivery time it points at the receiver on
    127.0.0.1. The connection is refused before a byte is sent."""
    host = "rebind.merchant.example"
    rebinding = TableResolver({host: ["93.184.216.34"]})
    runtime.extras[RESOLVER_KEY] = rebinding
    await add_webhook(prod_merchant, f"https://{host}:{receiver.port}/hook")
    rebinding.table[host] = ["127.0.0.1"]

    await publish(runtime, prod_merchant.id, "tx-rebind")
    await prod_worker.run_until_idle()
    assert receiver.received() == []
    (row,) = await deliveries(prod_merchant, transactionId="tx-rebind")
    assert row["status"] == "failed"
    assert row["statusCode"] is None
    assert "non-public" in row["error"]
