"""`/metrics` tells the money story: after one deposit and one withdrawal, every metric
docs/operations.md lists is on the API's and on the worker's page, non-zero where money
moved."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.crosscheck.tasks import VERIFY_JOB
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import PaymentException
from clearing_gateway.health.worker_app import worker_app
from clearing_gateway.reconciliation.models import ReconciliationBreak
from tests.support.receiver import Receiver
from tests.support.seed_client import SeedClient
from tests.withdrawals.conftest import Payouts

Samples = dict[str, list[tuple[dict[str, str], float]]]

# Every metric docs/operations.md documents (test_docs_list_every_metric keeps them equal).
DOMAIN_METRICS = {
    "gateway_http_requests_total",
    "gateway_http_request_duration_seconds",
    "gateway_deposits",
    "gateway_deposits_amount_minor",
    "gateway_withdrawals",
    "gateway_withdrawals_amount_minor",
    "gateway_provider_callbacks_total",
    "gateway_provider_callbacks_unprocessed",
    "gateway_provider_call_duration_seconds",
    "gateway_jobs",
    "gateway_job_oldest_due_age_seconds",
    "gateway_job_run_duration_seconds",
    "gateway_webhook_deliveries_total",
    "gateway_webhook_delivery_lag_seconds",
    "gateway_withdrawals_stuck",
    "gateway_withdrawals_outcome_unknown",
    "gateway_payment_exceptions_open",
    "gateway_reconciliation_breaks_open",
    "gateway_ledger_verify_findings",
    "gateway_ledger_verify_last_run_timestamp_seconds",
    "gateway_metrics_database_up",
}


def parse(page: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(page):
        samples.setdefault(family.name, [])
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        v for found, v in samples.get(name, []) if all(found.get(k) == w for k, w in labels.items())
    )


def present(samples: Samples, name: str) -> bool:
    # Counters are exposed as `x_total`, their family as `x`.
    return name in samples or name.removesuffix("_total") in samples


async def move_money(payouts: Payouts, receiver: Receiver) -> list[str]:
    """One withdrawal to SUCCESS and one VA deposit, each with its webhook delivered.
    Returns the webhook signing secrets it was given."""
    client = payouts.merchant.client
    secrets = []
    for event_type in ("va_payment", "transfer"):
        body = {"requestId": str(uuid.uuid4()), "eventType": event_type, "url": receiver.url()}
        created = await client.post("/v1/webhooks", body)
        assert created.status_code == 201, created.text
        secrets.append(created.json()["data"]["secret"])

    await payouts.fund(10_000_000)
    await payouts.control("settings", {"autoSettle": False})
    created = await payouts.create()
    assert created.status_code == 201, created.text
    tx = created.json()["data"]["transactionId"]
    await payouts.run_jobs()
    row = await payouts.row(tx)
    await payouts.control(f"transfers/{row.provider_reference}/settle")
    await payouts.until_status(tx, "SUCCESS")

    creds = payouts.merchant.credentials
    async with httpx.AsyncClient(base_url=payouts.gateway.url, timeout=20) as http:
        live = SeedClient(http, creds.api_key, creds.api_secret)
        account = await live.post(
            "/v1/virtual-accounts",
            {"requestId": str(uuid.uuid4()), "userId": payouts.user_id, "bankCode": "014"},
        )
        assert account.status_code == 200, account.text
        va = account.json()["data"]
        paid = await live.post(
            "/v1/simulator/deposits/payment",
            {
                "virtualAccountNo": va["virtualAccountNo"],
                "bankCode": "BCA",
                "payment": {"amount": "150000.00", "payerName": "Budi Santoso"},
            },
        )
        assert paid.status_code == 201, paid.text
    await payouts.run_jobs()
    await receiver.wait_for(4)  # transfer x3 (initiated, pending, success) + va_payment
    return secrets


async def open_a_break_and_an_exception(runtime: Runtime) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        session.add(
            ReconciliationBreak(
                provider="finpay",
                statement_date="2026-11-30",
                kind="missing_in_ledger",
                direction="debit",
                reference="ORD-1",
                currency="IDR",
                provider_amount=100,
                detail="on the statement, not in the ledger",
            )
        )
        session.add(
            PaymentException(
                provider="topremit",
                payment_request_id="PR-1",
                virtual_account_no="8889900001",
                amount=100,
                currency="IDR",
                reason="unknown virtual account",
            )
        )


async def test_api_and_worker_pages_show_every_metric(
    payouts: Payouts, receiver: Receiver, runtime: Runtime
) -> None:
    await move_money(payouts, receiver)
    await open_a_break_and_an_exception(runtime)
    async with unit_of_work(runtime.sessionmaker) as session:
        await jobs.enqueue(session, VERIFY_JOB, {}, run_at=payouts.clock() - dt.timedelta(1))
    await payouts.run_jobs()

    api = parse((await payouts.gateway.http.get(f"{payouts.gateway.url}/metrics")).text)
    worker = payouts.worker()
    transport = httpx.ASGITransport(app=worker_app(runtime, worker))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as http:
        page = await http.get("/metrics")
        assert page.status_code == 200
        assert (await http.get("/readyz")).status_code == 200
    scraped = parse(page.text)

    for samples in (api, scraped):
        missing = [name for name in sorted(DOMAIN_METRICS) if not present(samples, name)]
        assert missing == []
        assert value(samples, "gateway_metrics_database_up") == 1
        deposits = {"provider": "topremit", "status": "COMPLETED", "method": "va"}
        assert value(samples, "gateway_deposits", **deposits) == 1
        assert value(samples, "gateway_deposits_amount_minor", **deposits) == 15_000_000
        paid = {"provider": "finpay", "status": "SUCCESS", "method": "bank_transfer"}
        assert value(samples, "gateway_withdrawals", **paid) == 1
        assert value(samples, "gateway_withdrawals_amount_minor", **paid) == 2_000_000
        for provider in ("topremit", "finpay"):
            callbacks = {"provider": provider, "verdict": "accepted"}
            assert value(samples, "gateway_provider_callbacks_total", **callbacks) >= 1
        assert (
            value(
                samples,
                "gateway_provider_call_duration_seconds_count",
                provider="finpay",
                operation="POST transfer",
                outcome="ok",
            )
            >= 1
        )
        submitted = {"kind": "withdrawals.submit", "outcome": "done"}
        assert value(samples, "gateway_job_run_duration_seconds_count", **submitted) >= 1
        for event_type in ("va_payment", "transfer"):
            delivered = {"event_type": event_type, "outcome": "succeeded"}
            assert value(samples, "gateway_webhook_deliveries_total", **delivered) >= 1
            lag = "gateway_webhook_delivery_lag_seconds_count"
            assert value(samples, lag, event_type=event_type) >= 1
        broken = {"provider": "finpay", "kind": "missing_in_ledger"}
        assert value(samples, "gateway_reconciliation_breaks_open", **broken) == 1
        assert value(samples, "gateway_payment_exceptions_open", provider="topremit") == 1
        assert value(samples, "gateway_ledger_verify_last_run_timestamp_seconds") > 0
        assert value(samples, "gateway_ledger_verify_findings") == 0
        assert value(samples, "gateway_withdrawals_stuck") == 0
    callback = {"route": "/callbacks/finpay/disbursement", "status": "200"}
    assert value(api, "gateway_http_requests_total", **callback) >= 1


_WRITER = """
from clearing_gateway.kit import metrics
metrics.count_callback("finpay", "rejected")
with metrics.provider_call("finpay", "POST transfer") as result:
    result["outcome"] = "ok"
"""

_SCRAPER = """
import asyncio, sys
from clearing_gateway.app import build_runtime
from clearing_gateway.health.exposition import render
from tests.conftest import make_settings

async def main():
    runtime = build_runtime(make_settings(sys.argv[1]))
    try:
        sys.stdout.write((await render(runtime)).decode())
    finally:
        await runtime.aclose()

asyncio.run(main())
"""


def _python(code: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_multiprocess_mode_sums_every_process(database_url: str, tmp_path: Path) -> None:
    """Two processes count, a third one's scrape shows both (PROMETHEUS_MULTIPROC_DIR)."""
    for _ in range(2):
        _python(_WRITER, tmp_path)
    samples = parse(_python(_SCRAPER, tmp_path, database_url))
    rejected = {"provider": "finpay", "verdict": "rejected"}
    assert value(samples, "gateway_provider_callbacks_total", **rejected) == 2
    calls = {"provider": "finpay", "operation": "POST transfer", "outcome": "ok"}
    assert value(samples, "gateway_provider_call_duration_seconds_count", **calls) == 2
    assert value(samples, "gateway_metrics_database_up") == 1
    assert present(samples, "gateway_reconciliation_breaks_open")


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("POST", "https://x/v1.0/transfer-va/create-va", "POST transfer-va/create-va"),
        ("GET", "/inquiry/014/500654309", "GET inquiry"),
        ("GET", "/api/v1/payments/9f1c2e7a-0001?x=1", "GET api/payments"),
    ],
)
def test_provider_operations_carry_no_ids(method: str, url: str, operation: str) -> None:
    from clearing_gateway.providers.transport import operation_name

    assert operation_name(method, url) == operation
