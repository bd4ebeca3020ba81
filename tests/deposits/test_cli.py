"""Operators see and resolve payments that were not credited."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from clearing_gateway.cli import app
from clearing_gateway.db import create_engine, create_sessionmaker, unit_of_work
from clearing_gateway.deposits.models import PaymentException
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    return database_url


def add_exception(database_url: str) -> None:
    async def _add() -> None:
        engine = create_engine(make_settings(database_url))
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                session.add(
                    PaymentException(
                        provider="topremit",
                        payment_request_id="VP1",
                        virtual_account_no="8808123",
                        amount=4_000_000,
                        currency="IDR",
                        reason="no such virtual account",
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(_add())


def test_list_and_resolve(cli_env: str) -> None:
    add_exception(cli_env)
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["deposits", "exceptions", "--json"]).stdout)
    assert [(r["virtualAccountNo"], r["amount"], r["reason"]) for r in listed] == [
        ("8808123", "40000.00", "no such virtual account")
    ]
    resolved = runner.invoke(
        app, ["deposits", "resolve-exception", listed[0]["id"], "--note", "refunded to payer"]
    )
    assert resolved.exit_code == 0, resolved.stderr
    assert json.loads(runner.invoke(app, ["deposits", "exceptions", "--json"]).stdout) == []
    everything = json.loads(
        runner.invoke(app, ["deposits", "exceptions", "--all", "--json"]).stdout
    )
    assert everything[0]["resolutionNote"] == "refunded to payer"
    again = runner.invoke(app, ["deposits", "resolve-exception", listed[0]["id"], "--note", "x"])
    assert again.exit_code == 1
