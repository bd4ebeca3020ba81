"""Verified credentials are cached per API process and revoked at once, from any process,
when the merchant or its keys change (PostgreSQL NOTIFY); without the revocation feed
(SQLite, or the LISTEN connection down) every request reads the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.merchants.credentials import CredentialCache
from clearing_gateway.merchants.models import Merchant
from clearing_gateway.merchants.service import MerchantService
from tests.conftest import MerchantFixture

USERS = "/v1/users"


def user_body() -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "userId": uuid.uuid4().hex[:8],
        "kycName": "Jhon Doe",
        "type": "retail",
    }


@pytest.fixture
async def cache(
    app: FastAPI, runtime: Runtime, merchant: MerchantFixture
) -> AsyncIterator[CredentialCache]:
    # LISTEN starts after the merchant was created: its own NOTIFY is not heard later.
    credentials = runtime.credentials
    assert credentials is not None
    credentials.start(runtime.engine)
    try:
        yield credentials
    finally:
        await credentials.stop()


@pytest.fixture
def key_lookups(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM merchant_api_keys" in statement:
            seen.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def revoked(cache: CredentialCache, before: int) -> None:
    # The NOTIFY arrives asynchronously after the COMMIT; wait for it, bounded.
    async def wait() -> None:
        while cache.generation == before:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), 30)


@pytest.mark.postgres_only
async def test_a_verified_key_is_served_from_memory(
    cache: CredentialCache, merchant: MerchantFixture, key_lookups: list[str]
) -> None:
    await asyncio.wait_for(cache.listening.wait(), 30)
    for _ in range(3):
        assert (await merchant.client.post(USERS, user_body())).status_code == 201
    assert len(key_lookups) == 1


@pytest.mark.postgres_only
async def test_rotation_without_overlap_refuses_the_old_key_on_the_next_request(
    runtime: Runtime, cache: CredentialCache, merchant: MerchantFixture
) -> None:
    await asyncio.wait_for(cache.listening.wait(), 30)
    assert (await merchant.client.post(USERS, user_body())).status_code == 201
    before = cache.generation
    # As `clearing-gateway merchants rotate-key` would, from another process.
    async with unit_of_work(runtime.sessionmaker) as session:
        await MerchantService(runtime.settings).rotate_key(
            session, merchant.id, overlap=dt.timedelta(0)
        )
    await revoked(cache, before)
    response = await merchant.client.post(USERS, user_body())
    assert response.status_code == 401
    assert response.json()["message"] == "UNKNOWN_API_KEY"


@pytest.mark.postgres_only
async def test_a_disabled_merchant_is_refused_on_the_next_request(
    runtime: Runtime, cache: CredentialCache, merchant: MerchantFixture
) -> None:
    await asyncio.wait_for(cache.listening.wait(), 30)
    assert (await merchant.client.post(USERS, user_body())).status_code == 201
    before = cache.generation
    async with unit_of_work(runtime.sessionmaker) as session:
        await session.execute(
            update(Merchant).where(Merchant.id == merchant.id).values(status="disabled")
        )
    await revoked(cache, before)
    response = await merchant.client.post(USERS, user_body())
    assert response.status_code == 401
    assert response.json()["message"] == "MERCHANT_DISABLED"


async def test_without_the_revocation_feed_every_request_reads_the_database(
    runtime: Runtime, merchant: MerchantFixture, key_lookups: list[str]
) -> None:
    # No LISTEN running (SQLite never has one): the cache stays out of the way.
    assert runtime.credentials is not None
    assert not runtime.credentials.active
    for _ in range(3):
        assert (await merchant.client.post(USERS, user_body())).status_code == 201
    assert len(key_lookups) == 3


async def test_a_failed_signature_is_never_cached(
    runtime: Runtime, merchant: MerchantFixture, key_lookups: list[str]
) -> None:
    cache = CredentialCache(30)
    cache.listening.set()  # as if the feed were connected
    runtime.credentials = cache
    forged = merchant.client.headers("POST", USERS, "{}")
    forged["X-Signature"] = "0" * 64
    response = await merchant.client.http.post(USERS, content="{}", headers=forged)
    assert response.status_code == 401
    assert cache.get(merchant.credentials.api_key, dt.datetime.now(dt.UTC)) is None
