"""The encryption key ring: a new key in front, old secrets still open, `keys reencrypt`
moves every stored secret to the new key, and the old key can then be dropped."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from typer.testing import CliRunner

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import create_app
from clearing_gateway.cli import app as cli
from clearing_gateway.db import unit_of_work
from clearing_gateway.merchants.crypto import SecretBox, SecretBoxError
from clearing_gateway.webhooks.models import Webhook
from tests.conftest import TEST_ENCRYPTION_KEY, MerchantFixture, make_settings
from tests.support.seed_client import SeedClient

NEW_KEY = Fernet.generate_key().decode("ascii")


@pytest.fixture
async def apps(database_url: str) -> AsyncIterator[Callable[[str], FastAPI]]:
    """An API process started with a given GATEWAY_ENCRYPTION_KEY."""
    started: list[FastAPI] = []

    def start(keys: str) -> FastAPI:
        started.append(
            create_app(settings=make_settings(database_url, gateway_encryption_key=keys))
        )
        return started[-1]

    yield start
    for app in started:
        await app.state.runtime.aclose()


def client(app: FastAPI, merchant: MerchantFixture) -> SeedClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
    credentials = merchant.credentials
    return SeedClient(http, credentials.api_key, credentials.api_secret)


def reencrypt(database_url: str, keys: str, *args: str) -> dict[str, int]:
    result = CliRunner().invoke(
        cli,
        ["keys", "reencrypt", "--json", *args],
        env={"DATABASE_URL": database_url, "GATEWAY_ENCRYPTION_KEY": keys},
    )
    assert result.exit_code == 0, result.output
    return {row["column"]: row["resealed"] for row in json.loads(result.stdout)}


async def test_rotation_reencrypts_every_stored_secret(
    merchant: MerchantFixture,
    apps: Callable[[str], FastAPI],
    database_url: str,
    runtime: Runtime,
) -> None:
    webhook = {
        "requestId": str(uuid.uuid4()),
        "eventType": "va_payment",
        "url": "https://merchant.example/hook",
    }
    created = await merchant.client.post("/v1/webhooks", webhook)  # under the old key
    assert created.status_code == 201, created.text
    secret = created.json()["data"]["secret"]

    # Step 1: the new key in front; everything sealed under the old key still opens.
    ring = f"{NEW_KEY},{TEST_ENCRYPTION_KEY}"
    assert (await client(apps(ring), merchant).get("/v1/balances")).status_code == 200

    # Step 2: re-encrypt (a dry run first changes nothing).
    dry = await asyncio.to_thread(reencrypt, database_url, ring, "--dry-run")
    assert dry["merchant API secrets"] == 1
    assert await asyncio.to_thread(reencrypt, database_url, ring) == dry
    assert dry["webhook secrets"] == 1
    assert dry["sealed idempotent responses"] == 1
    again = await asyncio.to_thread(reencrypt, database_url, ring)
    assert set(again.values()) == {0}

    # Step 3: the old key removed; merchants, webhooks and replays work on the new one.
    only_new = client(apps(NEW_KEY), merchant)
    assert (await only_new.get("/v1/balances")).status_code == 200
    replayed = await only_new.post("/v1/webhooks", webhook)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["data"]["secret"] == secret
    async with unit_of_work(runtime.sessionmaker) as session:
        (row,) = (await session.execute(Webhook.__table__.select())).all()
    assert SecretBox((NEW_KEY.encode(),)).open(row.secret_ciphertext) == secret
    with pytest.raises(SecretBoxError):
        SecretBox((TEST_ENCRYPTION_KEY.encode(),)).open(row.secret_ciphertext)


async def test_a_malformed_key_in_the_ring_stops_start_up(database_url: str) -> None:
    settings = make_settings(database_url, gateway_encryption_key=f"{NEW_KEY},not-a-key")
    with pytest.raises(SecretBoxError, match="key 2 of 2 is not a Fernet key"):
        create_app(settings=settings)


def test_generate_prints_a_usable_key() -> None:
    result = CliRunner().invoke(cli, ["keys", "generate"])
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())
