"""Operator commands, run through typer as an operator would."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from clearing_gateway.app import build_runtime
from clearing_gateway.cli import app
from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.ledger.models import LedgerAccount
from tests.conftest import create_merchant, make_settings


class Operator:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, ["ledger", *args], env={"DATABASE_URL": self.database_url})
        assert result.exit_code == code, result.output
        return result.output

    def merchant(self) -> uuid.UUID:
        async def _create() -> uuid.UUID:
            runtime = build_runtime(make_settings(self.database_url))
            try:
                return (await create_merchant(runtime)).merchant_id
            finally:
                await runtime.engine.dispose()

        return asyncio.run(_create())

    def corrupt(self, key: AccountKey) -> None:
        async def _corrupt() -> None:
            runtime = build_runtime(make_settings(self.database_url))
            try:
                async with runtime.sessionmaker() as session:
                    await session.execute(
                        update(LedgerAccount)
                        .where(LedgerAccount.id == key.id)
                        .values(credits_posted=LedgerAccount.credits_posted + 1)
                    )
                    await session.commit()
            finally:
                await runtime.engine.dispose()

        asyncio.run(_corrupt())


@pytest.fixture
def operator(database_url: str) -> Operator:
    return Operator(database_url)


def test_top_up_transfer_balances_and_verify(operator: Operator) -> None:
    merchant = str(operator.merchant())
    out = operator(
        "top-up",
        "--merchant",
        merchant,
        "--provider",
        "topremit",
        "--vault",
        "deposit",
        "--amount",
        "1000000.00",
        "--note",
        "initial float",
        "--id",
        "topup-1",
    )
    topped = json.loads(out)
    assert topped["amount"] == "1000000.00"
    assert topped["note"] == "initial float"
    # The same id again changes nothing.
    operator(
        "top-up",
        "--merchant",
        merchant,
        "--provider",
        "topremit",
        "--vault",
        "deposit",
        "--amount",
        "1000000.00",
        "--id",
        "topup-1",
    )
    moved = json.loads(
        operator(
            "transfer",
            "--merchant",
            merchant,
            "--provider",
            "topremit",
            "--from",
            "deposit",
            "--to",
            "withdrawal",
            "--amount",
            "250000.50",
            "--id",
            "move-1",
        )
    )
    assert moved["status"] == "posted"
    rows = json.loads(operator("balances", "--merchant", merchant, "--json"))
    by_vault = {row["account"].split(":")[3]: row for row in rows}
    assert by_vault["deposit"]["available"] == "749999.50"
    assert by_vault["withdrawal"]["available"] == "250000.50"
    assert "topremit" in operator("balances")
    assert "every check passed" in operator("verify")


def test_manual_credits_need_an_id_and_run_once(operator: Operator) -> None:
    merchant = str(operator.merchant())
    base = ["--merchant", merchant, "--provider", "finpay", "--vault", "withdrawal"]
    assert "--id is required" in operator("top-up", *base, "--amount", "10.00", code=1)
    moves = ["--merchant", merchant, "--provider", "finpay", "--amount", "1.00"]
    assert "--id is required" in operator("transfer", *moves, code=1)
    assert json.loads(operator("balances", "--merchant", merchant, "--json")) == []
    for _ in range(3):
        operator("top-up", *base, "--amount", "10.00", "--id", "float-2026-11-30")
    rows = json.loads(operator("balances", "--merchant", merchant, "--json"))
    assert [row["available"] for row in rows] == ["10.00"]


def test_refusals_change_nothing(operator: Operator) -> None:
    merchant = str(operator.merchant())
    base = ["--merchant", merchant, "--provider", "finan"]
    out = operator("transfer", *base, "--amount", "1.00", "--id", "m", code=1)
    assert "available balance is lower" in out
    assert "decimal places" in operator(
        "top-up", *base, "--vault", "deposit", "--amount", "1.001", code=1
    )
    assert "unknown provider" in operator(
        "top-up",
        "--merchant",
        merchant,
        "--provider",
        "paypal",
        "--vault",
        "deposit",
        "--amount",
        "1.00",
        code=1,
    )
    assert "vault" in operator("top-up", *base, "--vault", "savings", "--amount", "1", code=1)
    assert "merchant id" in operator(
        "top-up",
        "--merchant",
        "x",
        "--provider",
        "finan",
        "--vault",
        "deposit",
        "--amount",
        "1",
        code=1,
    )
    operator("top-up", *base, "--vault", "deposit", "--amount", "5.00", "--id", "t")
    assert "different content" in operator(
        "top-up", *base, "--vault", "deposit", "--amount", "6.00", "--id", "t", code=1
    )
    assert json.loads(operator("balances", "--merchant", merchant, "--json"))[0]["available"] == (
        "5.00"
    )
    assert "every check passed" in operator("verify")


def test_verify_detects_a_corrupted_balance(operator: Operator) -> None:
    merchant = operator.merchant()
    operator(
        "top-up",
        "--merchant",
        str(merchant),
        "--provider",
        "finpay",
        "--vault",
        "withdrawal",
        "--amount",
        "100.00",
        "--id",
        "float-1",
    )
    operator.corrupt(AccountKey.vault(merchant, "finpay", "withdrawal"))
    out = operator("verify", code=2)
    assert "[balance] merchant:" in out
    assert "[currency] IDR" in out


def test_fee_schedule(operator: Operator) -> None:
    assert "no fees set" in operator("fees", "list")
    set_out = operator(
        "fees",
        "set",
        "--provider",
        "topremit",
        "--method",
        "va",
        "--flat",
        "2500.00",
        "--bps",
        "70",
    )
    assert json.loads(set_out) == {
        "provider": "topremit",
        "method": "va",
        "flat": "2500.00",
        "percentBps": 70,
    }
    operator("fees", "set", "--provider", "topremit", "--method", "va", "--bps", "50")
    operator("fees", "set", "--provider", "finpay", "--method", "disbursement", "--flat", "4000")
    listed = json.loads(operator("fees", "list", "--json"))
    assert listed == [
        {"provider": "finpay", "method": "disbursement", "flat": "4000.00", "percentBps": 0},
        {"provider": "topremit", "method": "va", "flat": "0.00", "percentBps": 50},
    ]
    assert "basis points" in operator(
        "fees", "set", "--provider", "finan", "--method", "cashin", "--bps", "10001", code=1
    )
    assert "method" in operator("fees", "set", "--provider", "finan", "--method", "Bad!", code=1)
    assert "--flat" in operator(
        "fees", "set", "--provider", "finan", "--method", "cashin", "--flat", "-1", code=1
    )
