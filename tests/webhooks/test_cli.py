"""Operator commands: the delivery log and bulk redelivery after a merchant's outage."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from typer.testing import CliRunner

from clearing_gateway.app import build_runtime
from clearing_gateway.cli import app
from clearing_gateway.config import Settings
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.merchants.service import MerchantService
from clearing_gateway.webhooks.schemas import CreateWebhookRequest
from clearing_gateway.webhooks.service import SystemResolver, create_webhook
from tests.support.receiver import Receiver, Reply
from tests.webhooks.conftest import publish


def run(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert settings.gateway_encryption_key is not None
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", settings.gateway_encryption_key.get_secret_value())
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_deliveries_and_redeliver(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.script("/hook", Reply(status=503))

    async def outage() -> uuid.UUID:
        runtime = build_runtime(settings)
        try:
            async with unit_of_work(runtime.sessionmaker) as session:
                issued = await MerchantService(settings).create(session, name="Cli", ips=[])
                await create_webhook(
                    session,
                    settings,
                    SystemResolver(),
                    issued.merchant_id,
                    CreateWebhookRequest(requestId="r", eventType="va_payment", url=receiver.url()),
                )
            await publish(runtime, issued.merchant_id, "tx-cli")
            await Worker(runtime).run_until_idle()
            return issued.merchant_id
        finally:
            await runtime.close_resources()
            await runtime.engine.dispose()

    merchant_id = asyncio.run(outage())
    rows = json.loads(
        run(
            settings,
            monkeypatch,
            "webhooks",
            "deliveries",
            "--merchant",
            str(merchant_id),
            "--failed",
            "--json",
        )
    )
    assert [(r["transactionId"], r["statusCode"]) for r in rows] == [("tx-cli", 503)]
    text = run(settings, monkeypatch, "webhooks", "deliveries", "--merchant", str(merchant_id))
    assert "tx-cli" in text
    assert "503" in text

    scheduled = json.loads(
        run(
            settings,
            monkeypatch,
            "webhooks",
            "redeliver",
            "--since",
            "1h",
            "--merchant",
            str(merchant_id),
        )
    )
    assert scheduled["scheduled"] == 1

    async def deliver() -> None:
        runtime = build_runtime(settings)
        try:
            await Worker(runtime).run_until_idle()
        finally:
            await runtime.close_resources()
            await runtime.engine.dispose()

    asyncio.run(deliver())
    assert [r.path for r in receiver.received()] == ["/hook"] * 2  # failed, then manual
    rows = json.loads(
        run(
            settings,
            monkeypatch,
            "webhooks",
            "deliveries",
            "--merchant",
            str(merchant_id),
            "--json",
        )
    )
    assert rows[0]["status"] == "succeeded"
    assert rows[0]["trigger"] == "manual"
    # Once delivered, nothing is left to redeliver.
    again = json.loads(run(settings, monkeypatch, "webhooks", "redeliver", "--since", "1h"))
    assert again["scheduled"] == 0
