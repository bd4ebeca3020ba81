"""Crash tests with real processes: the worker is killed with SIGKILL in the middle of
submitting a withdrawal — before the provider call, during it, after it — and a new
worker takes over. The Finpay sandbox and the API run as their own processes, so the
sandbox remembers what it was sent and its notification reaches the API as it would.

Each ends with exactly one disbursement at the sandbox, the withdrawal SUCCESS, the
vault charged once, and `clearing-gateway ledger verify` clean.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.withdrawals.models import Withdrawal
from tests.conftest import TEST_ENCRYPTION_KEY, create_merchant
from tests.faults.test_crash import CLI, Process, free_port, wait_until_up
from tests.support.seed_client import SeedClient

pytestmark = [pytest.mark.fault, pytest.mark.timeout(180)]

BANK, ACCOUNT_NO, HOLDER = "014", "500654309", "Karman Prasasta"
FUNDS, AMOUNT = 5_000_000, 2_000_000  # rupiah: 50,000.00 and 20,000.00 in minor units


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    api_port, sandbox_port = free_port(), free_port()
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    faults = tmp_path / "faults"
    faults.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": api_url,
        "FINPAY_BASE_URL": sandbox_url,
        "RUN_WORKER_IN_PROCESS": "false",
        "LOG_LEVEL": "WARNING",
        # Short leases so the surviving worker takes over quickly.
        "JOB_LEASE_SECONDS": "3",
        "WORKER_POLL_INTERVAL_SECONDS": "0.1",
        "WITHDRAWAL_SUBMIT_LEASE_SECONDS": "2",
        # A submission that never reached the provider is sent again on its own once
        # the provider says "not found" (otherwise it waits for an operator).
        "WITHDRAWAL_AUTO_RESUBMIT": "true",
        "WITHDRAWAL_NOT_FOUND_AFTER_SECONDS": "1",
        "WITHDRAWAL_POLL_AFTER_SECONDS": "1",
        "PROVIDER_READ_TIMEOUT_SECONDS": "60",
        "GATEWAY_FAULT_DIR": str(faults),
    }
    api = Process([*CLI, "serve", "--port", str(api_port)], env, tmp_path / "api.log")
    sandbox = Process(
        [*CLI, "sandbox", "finpay", "--port", str(sandbox_port), "--callback-base-url", api_url],
        env,
        tmp_path / "sandbox.log",
    )
    workers: list[Process] = []
    try:
        yield {
            "api": api,
            "sandbox": sandbox,
            "workers": workers,
            "env": env,
            "faults": faults,
            "api_url": api_url,
            "sandbox_url": sandbox_url,
            "logs": tmp_path,
        }
    finally:
        for worker in workers:
            worker.stop()
        api.stop()
        sandbox.stop()


async def wait_for(probe: Callable[[], Awaitable[bool]], what: str, deadline: float = 60.0) -> None:
    until = time.monotonic() + deadline
    while not await probe():
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def fund(runtime: Runtime, merchant_id: uuid.UUID) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        await ledger.post(
            session,
            f"top-up:{new_id()}",
            [
                Posting(
                    AccountKey.clearing("finpay"),
                    AccountKey.vault(merchant_id, "finpay", "withdrawal"),
                    FUNDS,
                )
            ],
            kind="top_up",
        )


@pytest.mark.parametrize("moment", ["before", "during", "after"])
async def test_worker_killed_mid_submission_pays_exactly_once(
    environment: dict[str, Any], runtime: Runtime, database_url: str, moment: str
) -> None:
    env: dict[str, str] = environment["env"]
    faults: Path = environment["faults"]
    environment["api"].start()
    environment["sandbox"].start()
    await wait_until_up(environment["api_url"] + "/healthz")
    await wait_until_up(environment["sandbox_url"] + "/control/transfers")

    issued = await create_merchant(runtime)
    await fund(runtime, issued.merchant_id)
    async with (
        httpx.AsyncClient(base_url=environment["api_url"], timeout=30) as http,
        httpx.AsyncClient(base_url=environment["sandbox_url"], timeout=30) as finpay,
    ):
        merchant = SeedClient(http, issued.api_key, issued.api_secret)

        async def control(path: str, body: dict[str, Any]) -> None:
            reply = await finpay.post(f"/control/{path}", json=body)
            assert reply.status_code < 300, reply.text

        async def transfers() -> list[dict[str, Any]]:
            listed: list[dict[str, Any]] = (await finpay.get("/control/transfers")).json()
            return listed

        await control(
            "accounts", {"bankCode": BANK, "accountNo": ACCOUNT_NO, "accountName": HOLDER}
        )
        # The provider re-sends a notification the API did not take, as Finpay does.
        await control(
            "callbacks/mode", {"mode": "deliver", "retries": 60, "retryDelaySeconds": 0.5}
        )
        user_id = uuid.uuid4().hex[:8]
        created = await merchant.post(
            "/v1/users",
            {
                "requestId": str(uuid.uuid4()),
                "userId": user_id,
                "kycName": HOLDER,
                "type": "retail",
            },
        )
        assert created.status_code == 201, created.text
        withdrawal = await merchant.post(
            "/v1/withdrawals",
            {
                "requestId": str(uuid.uuid4()),
                "userId": user_id,
                "merchantReference": f"M-{uuid.uuid4().hex[:12]}",
                "beneficiaryBankCode": BANK,
                "beneficiaryAccountNo": ACCOUNT_NO,
                "beneficiaryAccountName": HOLDER,
                "amount": "20000.00",
            },
        )
        assert withdrawal.status_code == 201, withdrawal.text
        transaction_id = str(withdrawal.json()["data"]["transactionId"])

        point = "withdrawal.after_transfer" if moment == "after" else "withdrawal.before_transfer"
        doomed = Process(
            [*CLI, "worker"],
            {**env, "GATEWAY_FAULT_PAUSE": point},
            environment["logs"] / "worker-1.log",
        ).start()
        environment["workers"].append(doomed)
        await wait_for(lambda: asyncio.to_thread((faults / f"{point}.reached").exists), point)
        if moment == "during":
            # The sandbox takes the transfer and withholds its answer: the worker dies
            # with the call in flight, not knowing whether it arrived.
            await control("faults", {"mode": "timeout", "count": 1, "holdSeconds": 40})
            (faults / f"{point}.go").touch()

            async def arrived() -> bool:
                return len(await transfers()) == 1

            await wait_for(arrived, "the transfer at the sandbox")
        doomed.kill()
        if moment == "before":
            assert await transfers() == []  # nothing left the worker
        else:
            assert len(await transfers()) == 1

        survivor = Process([*CLI, "worker"], env, environment["logs"] / "worker-2.log").start()
        environment["workers"].append(survivor)

        async def settled() -> bool:
            status = await merchant.get(f"/v1/withdrawals/{transaction_id}")
            return bool(status.json()["data"]["status"] == "SUCCESS")

        await wait_for(settled, "the withdrawal to succeed", deadline=90)
        await asyncio.sleep(1.0)  # late retries and polls change nothing
        sent = await transfers()

    async with runtime.sessionmaker() as session:
        row = await session.get(Withdrawal, uuid.UUID(transaction_id))
        assert row is not None
        vault = await ledger.account_balance(
            session, AccountKey.vault(issued.merchant_id, "finpay", "withdrawal")
        )
    # Exactly one disbursement, for this withdrawal, settled.
    assert [(t["orderId"], t["amount"], t["latestTransactionStatus"]) for t in sent] == [
        (row.provider_reference, AMOUNT // 100, "00")
    ]
    # Money conserved: the vault paid the amount once and holds nothing back.
    assert (vault.available, vault.debits_pending, vault.debits_posted) == (
        FUNDS - AMOUNT,
        0,
        AMOUNT,
    )
    verify = subprocess.run(  # noqa: S603 (our own CLI)
        [*CLI, "ledger", "verify"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        },
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
