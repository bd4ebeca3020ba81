"""Fixtures shared by the whole suite.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL is used whenever it is
reachable (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test); with
CI=true an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import build_runtime, create_app
from clearing_gateway.config import Settings
from clearing_gateway.db import unit_of_work
from clearing_gateway.merchants.service import IssuedCredentials, MerchantService
from tests.support.databases import PostgresTestDatabase, SqliteTemplate, postgres_reachable
from tests.support.seed_client import SeedClient

BACKENDS = ("sqlite", "postgresql")
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode("ascii")


def pytest_configure(config: pytest.Config) -> None:
    problem = postgres_reachable()
    config.stash[_PG_PROBLEM] = problem
    if problem is not None and os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            f"CI=true requires PostgreSQL at TEST_DATABASE_URL, but it is unreachable ({problem})"
        )


_PG_PROBLEM = pytest.StashKey[str | None]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    problem = metafunc.config.stash[_PG_PROBLEM]
    only_pg = metafunc.definition.get_closest_marker("postgres_only") is not None
    params = []
    for name in BACKENDS:
        if only_pg and name == "sqlite":
            continue
        marks = (
            [pytest.mark.skip(reason=f"PostgreSQL unreachable: {problem}")]
            if (name == "postgresql" and problem)
            else []
        )
        params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresTestDatabase]:
    database = PostgresTestDatabase()
    database.create()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean database for this test: a fresh SQLite file, or emptied PostgreSQL tables."""
    if backend == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("sqlite_template")
        return template.fresh(tmp_path)
    database: PostgresTestDatabase = request.getfixturevalue("postgres_database")
    asyncio.run(database.reset())
    return database.url


# What production insists on beyond the sandbox defaults (credentials of unreachable hosts).
PRODUCTION_SETTINGS: dict[str, Any] = {
    "gateway_env": "production",
    "topremit_base_url": "https://topremit.invalid",
    "topremit_client_id": "prod-client",
    "topremit_client_secret": "prod-secret",
    "finpay_base_url": "https://finpay.invalid",
    "finpay_merchant_id": "PRODMERCHANT",
    "finpay_merchant_key": "prod-key",
    "finan_base_url": "https://finan.invalid/open",
    "finan_client_id": "prod-finan",
    "finan_secret_key": "prod-finan-secret",
    "finan_account_id": "00000000-0000-0000-0000-000000000001",
    "finan_payout_pass_code": "000000",
    # The suite runs production rules on SQLite too, on purpose.
    "allow_sqlite_in_production": True,
}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "gateway_env": "sandbox",
        "gateway_encryption_key": TEST_ENCRYPTION_KEY,
        "log_json": True,
        "log_level": "INFO",
        # Suites written against one Finpay notification per transfer, each sent once;
        # tests/providers/test_sandbox_fidelity.py switches the provider-like
        # progression and retry schedules on.
        "sandbox_finpay_intermediate_statuses": False,
        "sandbox_topremit_retry_schedule": [],
        "sandbox_finpay_retry_schedule": [],
        "sandbox_finan_retry_schedule": [],
        # Suites send bursts from one address; tests/operations/test_rate_limits.py
        # turns the limits on.
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the gateway's settings."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(database_url, **settings_overrides)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        await runtime.aclose()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client


@dataclass
class MerchantFixture:
    credentials: IssuedCredentials
    client: SeedClient

    @property
    def id(self) -> Any:
        return self.credentials.merchant_id


async def create_merchant(
    runtime: Runtime, name: str = "Acme Exchange", ips: list[str] | None = None
) -> IssuedCredentials:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await MerchantService(runtime.settings).create(session, name=name, ips=ips or [])


@pytest.fixture
async def merchant(runtime: Runtime, http: httpx.AsyncClient) -> MerchantFixture:
    credentials = await create_merchant(runtime)
    return MerchantFixture(
        credentials, SeedClient(http, credentials.api_key, credentials.api_secret)
    )


@pytest.fixture
async def other_merchant(runtime: Runtime, http: httpx.AsyncClient) -> MerchantFixture:
    credentials = await create_merchant(runtime, name="Other Exchange")
    return MerchantFixture(
        credentials, SeedClient(http, credentials.api_key, credentials.api_secret)
    )
