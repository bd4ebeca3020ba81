"""Test databases: a migrated SQLite template copied per test, and a private PostgreSQL
database per test session whose tables are emptied before every test."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from clearing_gateway.migrations.runner import upgrade
from clearing_gateway.models import Base

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""

    async def probe() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(pg_admin_url()), timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class PostgresTestDatabase:
    """A database of its own for this pytest run, so parallel runs never collide."""

    def __init__(self) -> None:
        admin = make_url(pg_admin_url())
        self.name = f"cgw_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_dsn = _asyncpg_dsn(pg_admin_url())
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))

    def create(self) -> None:
        async def _create() -> None:
            connection = await asyncpg.connect(self.admin_dsn)
            try:
                await connection.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                await connection.close()

        asyncio.run(_create())
        upgrade(self.url)

    def drop(self) -> None:
        async def _drop() -> None:
            connection = await asyncpg.connect(self.admin_dsn)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                await connection.close()

        asyncio.run(_drop())

    async def reset(self) -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(self.url))
        try:
            await connection.execute(f"TRUNCATE {self.tables} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.template = directory / "template.sqlite3"
        upgrade(f"sqlite:///{self.template}")

    def fresh(self, directory: Path) -> str:
        target = directory / "gateway.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"
