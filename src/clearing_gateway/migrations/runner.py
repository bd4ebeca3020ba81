"""Programmatic Alembic: `clearing-gateway migrate`, drift checks, test databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raises if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(url))


def revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


async def schema_problem(url: str) -> str | None:
    """Why the database at `url` cannot serve this code (not migrated, behind or ahead of
    it), or None when its schema is at the code's head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    from clearing_gateway.db import async_url

    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            current = set(
                await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_heads()
                )
            )
    finally:
        await engine.dispose()
    if current == expected:
        return None
    if not current:
        return "the database is not migrated"
    return (
        f"the database schema is at {', '.join(sorted(current))} but this version of the "
        f"gateway expects {', '.join(sorted(expected))}"
    )
