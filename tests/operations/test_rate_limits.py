"""Rate limits on the merchant API: per merchant and per address, 429 in the envelope
with Retry-After; provider callbacks and health checks are never limited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import create_app
from clearing_gateway.config import Settings
from tests.conftest import MerchantFixture, create_merchant, make_settings
from tests.support.seed_client import SeedClient


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limit_enabled": True,
        "rate_limit_per_merchant": "3/minute",
        "rate_limit_per_address": "5/minute",
    }


async def test_a_merchant_over_its_limit_gets_429_with_retry_after(
    merchant: MerchantFixture, other_merchant: MerchantFixture, http: httpx.AsyncClient
) -> None:
    statuses = [(await merchant.client.get("/v1/balances")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = await merchant.client.get("/v1/balances")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == 429
    assert body["message"] == "TOO_MANY_REQUESTS"
    assert "merchant" in body["reason"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another merchant has its own budget (the address budget of 5 is not spent yet).
    assert (await other_merchant.client.get("/v1/balances")).status_code == 200
    # Health and metrics are not merchant API calls.
    for _ in range(10):
        assert (await http.get("/healthz")).status_code == 200


async def test_an_address_over_its_limit_is_refused_before_authentication(
    http: httpx.AsyncClient,
) -> None:
    answers = [await http.get("/v1/balances") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[-1].json()["message"] == "TOO_MANY_REQUESTS"
    assert "address" in answers[-1].json()["reason"]
    # Provider callbacks are protected by verification, never by the rate limit.
    callback = await http.post("/callbacks/finpay/disbursement", content=b"{}")
    assert callback.status_code != 429


@pytest.fixture
async def redis_apps(database_url: str) -> AsyncIterator[list[FastAPI]]:
    """Two API processes' apps sharing one count in Redis."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings: Settings = make_settings(
        database_url,
        rate_limit_enabled=True,
        rate_limit_per_merchant="4/minute",
        rate_limit_per_address="100/minute",
        rate_limit_storage_url="async+redis://127.0.0.1:6379/0",
        rate_limit_key_prefix=prefix,
    )
    apps = [create_app(settings=settings) for _ in range(2)]
    yield apps
    for app in apps:
        await app.state.runtime.aclose()


async def test_redis_storage_shares_the_count_between_processes(
    redis_apps: list[FastAPI],
) -> None:
    runtime: Runtime = redis_apps[0].state.runtime
    issued = await create_merchant(runtime)
    clients = []
    for app in redis_apps:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        clients.append(SeedClient(http, issued.api_key, issued.api_secret))
    statuses = [(await clients[i % 2].get("/v1/balances")).status_code for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_a_malformed_limit_is_refused_at_start_up(database_url: str) -> None:
    with pytest.raises(ValueError, match="not a rate limit like '600/minute'"):
        make_settings(database_url, rate_limit_per_merchant="lots")
