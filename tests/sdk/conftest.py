"""A real gateway process (`clearing-gateway serve`, sandbox mode) on the test's database,
for the SDK to talk to over HTTP like a merchant would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from clearing_gateway.app import build_runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.merchants.service import IssuedCredentials
from clearing_gateway.settlements import service as settlement
from tests.conftest import (
    _PG_PROBLEM,
    BACKENDS,
    TEST_ENCRYPTION_KEY,
    create_merchant,
    make_settings,
)
from tests.support.databases import PostgresTestDatabase, SqliteTemplate
from tests.support.receiver import free_port
from tests.webhooks.conftest import receiver

PREFIX = "/d"
__all__ = ["receiver"]


@dataclass
class Gateway:
    url: str
    database_url: str
    credentials: IssuedCredentials

    def fund_withdrawals(self, amount_minor: int, provider: str = "finpay") -> None:
        """Put money in the merchant's withdrawal vault (what settlement would do)."""

        async def post() -> None:
            runtime = build_runtime(make_settings(self.database_url))
            try:
                async with unit_of_work(runtime.sessionmaker) as session:
                    await ledger.post(
                        session,
                        f"top-up:{new_id()}",
                        [
                            Posting(
                                AccountKey.clearing(provider),
                                AccountKey.vault(
                                    self.credentials.merchant_id, provider, "withdrawal"
                                ),
                                amount_minor,
                            )
                        ],
                        kind="top_up",
                    )
            finally:
                await runtime.aclose()

        asyncio.run(post())

    def settle_on_demand(self) -> None:
        """What an operator does first: settlement on demand, T+0."""

        async def run() -> None:
            runtime = build_runtime(make_settings(self.database_url))
            merchant_id = self.credentials.merchant_id
            try:
                async with unit_of_work(runtime.sessionmaker) as session:
                    await settlement.configure(session, merchant_id, mode="on_demand", delay_days=0)
            finally:
                await runtime.aclose()

        asyncio.run(run())


def _merchant(database_url: str) -> IssuedCredentials:
    async def create() -> IssuedCredentials:
        runtime = build_runtime(make_settings(database_url))
        try:
            return await create_merchant(runtime, name="SDK Merchant")
        finally:
            await runtime.aclose()

    return asyncio.run(create())


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"gateway exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gateway did not become ready")


@pytest.fixture(scope="module", params=BACKENDS)
def gateway_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """One database per backend for the whole module: starting a gateway process is the
    slow part, so the module's tests share one (each uses its own users and webhooks)."""
    if request.param == "postgresql":
        problem = request.config.stash[_PG_PROBLEM]
        if problem is not None:
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        database: PostgresTestDatabase = request.getfixturevalue("postgres_database")
        asyncio.run(database.reset())
        return database.url
    template: SqliteTemplate = request.getfixturevalue("sqlite_template")
    return template.fresh(tmp_path_factory.mktemp("sdk-gateway"))


@pytest.fixture(scope="module")
def gateway(gateway_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    database_url = gateway_database
    tmp_path = tmp_path_factory.mktemp("sdk-process")
    credentials = _merchant(database_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "PUBLIC_PATH_PREFIX": PREFIX,
        "LOG_LEVEL": "WARNING",
        "SANDBOX_SETTLE_DELAY_SECONDS": "0.1",
        "WORKER_POLL_INTERVAL_SECONDS": "0.05",
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": "1,1,1",
        "PROVIDER_READ_TIMEOUT_SECONDS": "5",
    }
    command = [
        str(Path(sys.executable).with_name("clearing-gateway")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log_path = tmp_path / "gateway.log"
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        yield Gateway(url, database_url, credentials)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
