"""One log format: library records (uvicorn, SQLAlchemy, httpx…) come out as the same JSON
lines as the gateway's own, with the request id; no secret is ever written."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from clearing_gateway.kit.logging import configure_logging
from clearing_gateway.providers.config import SANDBOX_FINAN, SANDBOX_FINPAY, SANDBOX_TOPREMIT
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.operations.test_metrics import move_money
from tests.support.receiver import Receiver
from tests.withdrawals.conftest import Payouts


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_library_records_are_json_with_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    structlog.contextvars.bind_contextvars(request_id="req-123")
    try:
        logging.getLogger("uvicorn.error").warning("worker %s timed out", "w1")
        logging.getLogger("sqlalchemy.engine").warning("pool exhausted")
        logging.getLogger("sqlalchemy.engine").info("SELECT 1")  # chatty: filtered out
        logging.getLogger("some.library").error("failed", extra={"api_secret": "s3cr3t"})
    finally:
        structlog.contextvars.clear_contextvars()
    out = capsys.readouterr().out
    mine = ("uvicorn.error", "sqlalchemy.engine", "some.library")
    records = [r for r in lines(out) if r.get("logger") in mine]
    assert len(records) == 3, out
    first = records[0]
    assert (first["event"], first["logger"], first["level"]) == (
        "worker w1 timed out",
        "uvicorn.error",
        "warning",
    )
    assert all(r["request_id"] == "req-123" for r in records)
    assert records[2]["api_secret"] == "[redacted]"
    assert all("timestamp" in r for r in records)
    assert "SELECT 1" not in out
    # Every line is JSON: nothing in plain text beside them.
    assert all(line.startswith("{") for line in out.splitlines())


async def test_a_deposit_and_a_withdrawal_log_no_secret(
    payouts: Payouts, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", json=True)
    webhook_secrets = await move_money(payouts, receiver)
    out = capsys.readouterr().out
    assert len(lines(out)) > 20  # the run did log
    credentials = payouts.merchant.credentials
    secrets = {
        "merchant API secret": credentials.api_secret,
        "encryption key": TEST_ENCRYPTION_KEY,
        "Topremit client secret": SANDBOX_TOPREMIT["secret"],
        "Finpay merchant key": SANDBOX_FINPAY["key"],
        "Finan secret key": SANDBOX_FINAN["secret"],
        **{f"webhook secret {i}": s for i, s in enumerate(webhook_secrets)},
    }
    leaked = [name for name, secret in secrets.items() if secret in out]
    assert leaked == []
