"""`make check-migrations`: migrate empty databases and run `alembic check` on each.

SQLite always; PostgreSQL at TEST_DATABASE_URL when reachable, and required with CI=true.
Exits non-zero when the models and the migrations disagree.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from clearing_gateway.migrations.runner import check, upgrade

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def check_sqlite() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'check.sqlite3'}"
        upgrade(url)
        check(url)
    print("sqlite: migrations match the models")


def check_postgres(admin_url: str) -> None:
    admin = make_url(admin_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    name = f"cgw_check_{secrets.token_hex(4)}"
    asyncio.run(_admin(dsn, f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        check(url)
    finally:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print("postgresql: migrations match the models")


def main() -> int:
    check_sqlite()
    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    try:
        asyncio.run(
            _admin(
                make_url(admin_url)
                .set(drivername="postgresql")
                .render_as_string(hide_password=False),
                "SELECT 1",
            )
        )
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            print(f"postgresql unreachable in CI: {exc}", file=sys.stderr)
            return 1
        print(f"postgresql unreachable, skipped: {exc}", file=sys.stderr)
        return 0
    check_postgres(admin_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
