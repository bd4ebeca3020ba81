"""Crash tests with real processes: the API is killed with SIGKILL in the middle of a
stream of deposits while the provider (a separate sandbox process) keeps retrying its
callbacks, as a provider does. Nothing may be lost or doubled.

Bounded in time: each test has its own deadline well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.ledger.models import LedgerTransfer
from clearing_gateway.webhooks.models import WebhookDelivery, WebhookEvent
from tests.conftest import TEST_ENCRYPTION_KEY, MerchantFixture, create_merchant
from tests.support.live_server import bind_free_socket
from tests.support.receiver import Receiver, Reply
from tests.support.seed_client import SeedClient
from tests.webhooks.conftest import add_webhook, pending_deliveries, publish

pytestmark = [pytest.mark.fault, pytest.mark.timeout(180)]

PAYMENTS = 12
CLI = [sys.executable, "-m", "clearing_gateway.cli"]


def free_port() -> int:
    sock = bind_free_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


class Process:
    """One gateway command in its own process group, killed for real."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 (our own CLI)
                self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


async def wait_until_up(url: str, deadline: float = 60.0) -> None:
    # Generous: process start-up is slow on a loaded machine; CI is far quicker.
    until = time.monotonic() + deadline
    async with httpx.AsyncClient(timeout=1) as client:
        while True:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > until:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.1)


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    api_port, sandbox_port = free_port(), free_port()
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": api_url,
        "TOPREMIT_BASE_URL": sandbox_url,
        "RUN_WORKER_IN_PROCESS": "false",
        "LOG_LEVEL": "WARNING",
    }
    api = Process([*CLI, "serve", "--port", str(api_port)], env, tmp_path / "api.log")
    sandbox = Process(
        [*CLI, "sandbox", "topremit", "--port", str(sandbox_port), "--callback-base-url", api_url],
        env,
        tmp_path / "sandbox.log",
    )
    try:
        yield {"api": api, "sandbox": sandbox, "api_url": api_url, "sandbox_url": sandbox_url}
    finally:
        api.stop()
        sandbox.stop()


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return int(await session.scalar(query) or 0)


async def test_api_killed_mid_stream_of_deposits_loses_nothing(
    environment: dict[str, Any], runtime: Runtime, database_url: str
) -> None:
    api: Process = environment["api"]
    sandbox: Process = environment["sandbox"]
    api.start()
    sandbox.start()
    await wait_until_up(environment["api_url"] + "/healthz")
    await wait_until_up(environment["sandbox_url"] + "/control/callbacks/mode")

    issued = await create_merchant(runtime)
    async with (
        httpx.AsyncClient(base_url=environment["api_url"], timeout=20) as http,
        httpx.AsyncClient(base_url=environment["sandbox_url"], timeout=20) as provider,
    ):
        merchant = SeedClient(http, issued.api_key, issued.api_secret)
        user_id = uuid.uuid4().hex[:8]
        created = await merchant.post(
            "/v1/users",
            {
                "requestId": str(uuid.uuid4()),
                "userId": user_id,
                "kycName": "Jhon Doe",
                "type": "retail",
            },
        )
        assert created.status_code == 201, created.text
        accounts = []
        for _ in range(PAYMENTS):
            response = await merchant.post(
                "/v1/virtual-accounts",
                {"requestId": str(uuid.uuid4()), "userId": user_id, "bankCode": "014"},
            )
            assert response.status_code == 200, response.text
            accounts.append(response.json()["data"]["paymentInstrumentId"])
        # The provider re-sends every callback not answered 2xx, as Topremit does.
        mode = await provider.post(
            "/control/callbacks/mode",
            json={"mode": "deliver", "retries": 60, "retryDelaySeconds": 0.25},
        )
        assert mode.status_code == 200

        async def pay(key: str) -> None:
            reply = await provider.post(f"/control/va/{key}/pay", json={"amount": "10000.00"})
            assert reply.status_code < 300, reply.text

        # A stream of payments; the API dies (SIGKILL) while callbacks are in flight,
        # payments keep coming while it is down, then it comes back.
        first, rest = accounts[: PAYMENTS // 2], accounts[PAYMENTS // 2 :]
        await asyncio.gather(*(pay(key) for key in first))
        api.kill()
        await asyncio.gather(*(pay(key) for key in rest))
        await asyncio.sleep(0.5)
        api.start()
        await wait_until_up(environment["api_url"] + "/healthz")

        deadline = time.monotonic() + 40
        while await count(runtime, Deposit) < PAYMENTS and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # late retries of already-applied callbacks change nothing

    deposits = await count(runtime, Deposit)
    transfers = await count(runtime, LedgerTransfer, LedgerTransfer.kind == "deposit")
    async with runtime.sessionmaker() as session:
        webhooks = int(
            await session.scalar(select(func.count(func.distinct(WebhookEvent.transaction_id))))
            or 0
        )
        completed = int(
            await session.scalar(
                select(func.count()).select_from(Deposit).where(Deposit.status == "COMPLETED")
            )
            or 0
        )
    assert (deposits, completed, transfers, webhooks) == (PAYMENTS,) * 4

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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


async def test_worker_killed_mid_delivery_delivers_every_webhook(
    merchant: MerchantFixture,
    runtime: Runtime,
    receiver: Receiver,
    database_url: str,
    tmp_path: Path,
) -> None:
    events = 10
    receiver.always("/hook", Reply(delay=2.0))  # deliveries hang while the worker dies
    await add_webhook(merchant, receiver.url())
    published = {str((await publish(runtime, merchant.id)).id) for _ in range(events)}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "JOB_LEASE_SECONDS": "3",
        "WORKER_POLL_INTERVAL_SECONDS": "0.1",
        "WEBHOOK_RETRY_JITTER": "0",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    doomed = Process([*CLI, "worker"], env, tmp_path / "worker-1.log").start()
    try:
        await receiver.wait_for(1, timeout=60)
        doomed.kill()  # SIGKILL with deliveries in flight
    finally:
        doomed.stop()
    receiver.always("/hook", Reply())
    survivor = Process([*CLI, "worker"], env, tmp_path / "worker-2.log").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                await pending_deliveries(runtime) == []
                and await count(runtime, WebhookDelivery, WebhookDelivery.status == "succeeded")
                >= events
            ):
                break
            await asyncio.sleep(0.25)
    finally:
        survivor.stop()

    # At least once: every event reached the receiver, re-sent ones with the same id.
    assert {r.headers["webhook-id"] for r in receiver.received("/hook")} == published
    async with runtime.sessionmaker() as session:
        succeeded = list(
            await session.scalars(
                select(WebhookDelivery.event_id).where(WebhookDelivery.status == "succeeded")
            )
        )
    assert sorted(str(e) for e in succeeded) == sorted(published)
    assert await pending_deliveries(runtime) == []
