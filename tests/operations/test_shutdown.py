"""Graceful shutdown of a real `clearing-gateway serve` process under load: on SIGTERM
/readyz turns 503 while requests are still served, every request sent finishes, and the
in-process worker hands back the job it could not finish (no job is left leased)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.withdrawals.models import Withdrawal
from tests.conftest import TEST_ENCRYPTION_KEY, create_merchant
from tests.faults.test_crash import Process, free_port, wait_until_up
from tests.support.seed_client import SeedClient

pytestmark = pytest.mark.timeout(180)

CLI = [sys.executable, "-m", "clearing_gateway.cli"]
PAUSE = "withdrawal.before_transfer"


async def wait_for_file(path: Path, deadline: float = 60.0) -> None:
    until = time.monotonic() + deadline
    while not path.exists():
        if time.monotonic() > until:
            raise RuntimeError(f"{path.name} never appeared")
        await asyncio.sleep(0.05)


async def test_sigterm_under_load_fails_no_request_and_leaves_no_job_leased(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": url,
        "RUN_WORKER_IN_PROCESS": "true",
        "WORKER_POLL_INTERVAL_SECONDS": "0.1",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_DRAIN_SECONDS": "3",
        "SHUTDOWN_TIMEOUT_SECONDS": "5",
        # The withdrawal's submission waits here: a job in flight when SIGTERM comes.
        "GATEWAY_FAULT_PAUSE": PAUSE,
        "GATEWAY_FAULT_DIR": str(tmp_path),
    }
    api = Process([*CLI, "serve", "--port", str(port)], env, tmp_path / "api.log").start()
    try:
        await wait_until_up(url + "/healthz")
        issued = await create_merchant(runtime)
        async with unit_of_work(runtime.sessionmaker) as session:
            await ledger.post(
                session,
                f"top-up:{new_id()}",
                [
                    Posting(
                        AccountKey.clearing("finpay"),
                        AccountKey.vault(issued.merchant_id, "finpay", "withdrawal"),
                        10_000_000,
                    )
                ],
                kind="top_up",
            )
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            merchant = SeedClient(http, issued.api_key, issued.api_secret)
            holder = {"bankCode": "014", "accountNo": "500654309", "accountName": "Karman Prasasta"}
            await http.post("/sandbox/finpay/control/accounts", json=holder)
            user_id = uuid.uuid4().hex[:8]
            user = {
                "requestId": str(uuid.uuid4()),
                "userId": user_id,
                "kycName": "Karman Prasasta",
                "type": "retail",
            }
            assert (await merchant.post("/v1/users", user)).status_code == 201
            withdrawal = await merchant.post(
                "/v1/withdrawals",
                {
                    "requestId": str(uuid.uuid4()),
                    "userId": user_id,
                    "merchantReference": "M-shutdown",
                    "beneficiaryBankCode": "014",
                    "beneficiaryAccountNo": "500654309",
                    "beneficiaryAccountName": "Karman Prasasta",
                    "amount": "20000.00",
                },
            )
            assert withdrawal.status_code == 201, withdrawal.text
            await wait_for_file(tmp_path / f"{PAUSE}.reached")

            stop_sending = asyncio.Event()
            statuses: list[int] = []
            readiness: list[int] = []

            async def load() -> None:
                while not stop_sending.is_set():
                    statuses.append((await merchant.get("/v1/balances")).status_code)

            async def probe() -> None:
                # What a load balancer does: stop routing once /readyz says 503.
                while not stop_sending.is_set():
                    readiness.append((await http.get("/readyz")).status_code)
                    if readiness[-1] == 503:
                        stop_sending.set()
                    await asyncio.sleep(0.05)

            async def slow_request() -> int:
                body = {"requestId": str(uuid.uuid4()), "userId": user_id, "bankCode": "014"}
                return (await merchant.post("/v1/virtual-accounts", body)).status_code

            running = [asyncio.create_task(load()) for _ in range(4)]
            running.append(asyncio.create_task(probe()))
            while len(statuses) < 20:
                await asyncio.sleep(0.05)
            # Two requests held by the provider sandbox for a second each: in flight.
            fault = {"mode": "timeout", "count": 2, "holdSeconds": 1.0}
            await http.post("/sandbox/topremit/control/faults", json=fault)
            slow = [asyncio.create_task(slow_request()) for _ in range(2)]
            await asyncio.sleep(0.2)
            assert api.proc is not None
            api.proc.send_signal(signal.SIGTERM)
            await asyncio.gather(*running)
            assert await asyncio.gather(*slow) == [200, 200]
        exit_code = await asyncio.to_thread(api.proc.wait, 60)
    finally:
        api.stop()

    assert readiness[0] == 200
    assert readiness[-1] == 503
    assert statuses
    assert set(statuses) == {200}, statuses
    # uvicorn re-raises the SIGTERM it handled once it is done: a clean stop either way.
    assert exit_code in (0, -signal.SIGTERM)
    log = (tmp_path / "api.log").read_text()
    assert "released unfinished jobs at shutdown" in log
    async with runtime.sessionmaker() as session:
        leased = await session.scalars(select(Job).where(Job.status == JobStatus.RUNNING))
        assert list(leased) == []
        submit = await session.scalar(select(Job).where(Job.kind == "withdrawals.submit"))
        assert submit is not None
        assert (submit.status, submit.locked_by, submit.attempts) == (JobStatus.PENDING, None, 0)
        (row,) = await session.scalars(select(Withdrawal))
        assert row.status == "PENDING"


async def test_a_worker_process_serves_its_metrics_and_stops_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
    }
    worker = Process(
        [*CLI, "worker", "--metrics-port", str(port)], env, tmp_path / "worker.log"
    ).start()
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_until_up(url + "/healthz")
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            assert (await http.get("/readyz")).json()["status"] == "ok"
            page = (await http.get("/metrics")).text
        assert "gateway_metrics_database_up 1.0" in page
        assert "# TYPE gateway_job_run_duration_seconds histogram" in page
        assert worker.proc is not None
        worker.proc.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(worker.proc.wait, 60)
    finally:
        worker.stop()
    assert exit_code == 0, (tmp_path / "worker.log").read_text()
