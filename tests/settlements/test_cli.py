"""`clearing-gateway settlements …` and the ledger's debit commands, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from typer.testing import CliRunner

from clearing_gateway.app import build_runtime
from clearing_gateway.cli import app
from tests.conftest import create_merchant, make_settings
from tests.settlements.conftest import debit_events


class Operator:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __call__(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env={"DATABASE_URL": self.database_url})
        assert result.exit_code == code, result.output
        return result.output

    def json(self, *args: str) -> Any:
        return json.loads(self(*args))

    def merchant(self) -> uuid.UUID:
        async def _create() -> uuid.UUID:
            runtime = build_runtime(make_settings(self.database_url))
            try:
                return (await create_merchant(runtime)).merchant_id
            finally:
                await runtime.engine.dispose()

        return asyncio.run(_create())

    def debit_events(self, merchant_id: uuid.UUID) -> list[dict[str, Any]]:
        async def _read() -> list[dict[str, Any]]:
            runtime = build_runtime(make_settings(self.database_url))
            try:
                return await debit_events(runtime, merchant_id)
            finally:
                await runtime.engine.dispose()

        return asyncio.run(_read())


def test_configure_sweep_and_list(database_url: str) -> None:
    op = Operator(database_url)
    m = str(op.merchant())
    op("ledger", "top-up", "--merchant", m, "--provider", "topremit", "--vault", "deposit",
       "--amount", "150000.00", "--id", "deposit-1")  # fmt: skip

    refused = op("settlements", "sweep", "--merchant", m, "--id", "s1", code=1)
    assert "settlement is off" in refused

    policy = op.json(
        "settlements", "configure", "--merchant", m, "--mode", "on_demand", "--delay", "T+0"
    )
    assert (policy["mode"], policy["delay"], policy["targetProvider"]) == (
        "on_demand",
        "T+0",
        "finpay",
    )
    assert op.json("settlements", "policies", "--json") == [policy]

    swept = op.json("settlements", "sweep", "--merchant", m, "--id", "s1", "--note", "first")
    assert (swept["swept"], swept["amount"], swept["note"]) == (True, "150000.00", "first")
    again = op.json("settlements", "sweep", "--merchant", m, "--id", "s1")
    assert (again["swept"], again["replayed"], again["sweepId"]) == (False, True, swept["sweepId"])
    empty = op.json("settlements", "sweep", "--merchant", m, "--id", "s2")
    assert empty["swept"] is False
    assert empty["reason"] == "nothing has settled"

    (listed,) = op.json("settlements", "list", "--merchant", m, "--json")
    assert listed["sweepId"] == swept["sweepId"]
    assert listed["transferId"] == swept["transferId"]
    assert "150000.00" in op("settlements", "list")

    balances = {
        row["account"].split(":", 2)[2]: row["available"]
        for row in op.json("ledger", "balances", "--merchant", m, "--json")
    }
    assert balances == {"finpay:withdrawal:IDR": "150000.00", "topremit:deposit:IDR": "0.00"}
    assert "all balances match" in op("ledger", "verify")


def test_bad_settlement_input_is_a_clear_error(database_url: str) -> None:
    op = Operator(database_url)
    m = str(op.merchant())
    assert "--delay must be" in op(
        "settlements", "configure", "--merchant", m, "--mode", "scheduled", "--delay", "soon",
        code=1,
    )  # fmt: skip
    assert "mode must be one of" in op(
        "settlements", "configure", "--merchant", m, "--mode", "hourly", code=1
    )
    assert "no merchant" in op(
        "settlements", "configure", "--merchant", str(uuid.uuid4()), "--mode", "scheduled",
        code=1,
    )  # fmt: skip
    assert "--id is required" in op("settlements", "sweep", "--merchant", m, code=1)
    assert "--since must be" in op("settlements", "list", "--since", "yesterday", code=1)


def test_fees_adjustments_and_cashouts_are_announced(database_url: str) -> None:
    op = Operator(database_url)
    merchant_id = op.merchant()
    m = str(merchant_id)
    op("ledger", "top-up", "--merchant", m, "--provider", "finpay", "--vault", "withdrawal",
       "--amount", "100000.00", "--id", "fund")  # fmt: skip

    fee = op.json("ledger", "debit", "--merchant", m, "--provider", "finpay", "--vault",
                  "withdrawal", "--amount", "2500.00", "--type", "fee", "--id", "fee-nov",
                  "--note", "November account fee")  # fmt: skip
    assert len(fee["debitNotify"]) == 1
    replay = op.json("ledger", "debit", "--merchant", m, "--provider", "finpay", "--vault",
                     "withdrawal", "--amount", "2500.00", "--type", "fee", "--id", "fee-nov",
                     "--note", "November account fee")  # fmt: skip
    assert replay["debitNotify"] == []  # the same id moved and announced nothing again
    op("ledger", "transfer", "--merchant", m, "--provider", "finpay", "--from", "withdrawal",
       "--to", "deposit", "--amount", "1000.00", "--id", "move-back")  # fmt: skip
    op("ledger", "debit", "--merchant", m, "--provider", "finpay", "--vault", "withdrawal",
       "--amount", "500.00", "--type", "cashout", "--id", "finan-cashout:REF1")  # fmt: skip
    short = op("ledger", "debit", "--merchant", m, "--provider", "finpay", "--vault",
               "withdrawal", "--amount", "1000000.00", "--type", "fee", "--id", "too-much",
               code=1)  # fmt: skip
    assert "available balance is lower" in short
    assert "--type must be" in op("ledger", "debit", "--merchant", m, "--provider", "finpay",
                                  "--vault", "withdrawal", "--amount", "1.00", "--type", "gift",
                                  "--id", "x", code=1)  # fmt: skip

    events = op.debit_events(merchant_id)
    assert [
        (e["debitType"], e["amount"]["value"], e["destinationAccountNo"], e["description"])
        for e in events
    ] == [
        ("FEE", "2500.00", "fee", "November account fee"),
        ("ADJUSTMENT", "1000.00", "finpay:deposit", None),
        ("CASHOUT", "500.00", "finpay:clearing", None),
    ]
    assert [e["additionalInfo"]["balanceAfter"] for e in events] == [
        "97500.00",
        "96500.00",
        "96000.00",
    ]
    assert "all balances match" in op("ledger", "verify")
    listed = op.json("debits", "list", "--merchant", m, "--json")
    assert [d["debitType"] for d in listed] == ["CASHOUT", "ADJUSTMENT", "FEE"]
    assert [d["caciTxId"] for d in reversed(listed)] == [
        e["additionalInfo"]["caciTxId"] for e in events
    ]
    assert "CASHOUT" in op("debits", "list")
