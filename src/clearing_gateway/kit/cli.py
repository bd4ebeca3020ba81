"""Helpers every operator command uses: one transaction, a clear error, an id argument."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearing_gateway.config import get_settings
from clearing_gateway.db import create_engine, create_sessionmaker, unit_of_work

T = TypeVar("T")


def run_in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction against DATABASE_URL."""

    async def _in_transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> T:
        async with unit_of_work(sessionmaker) as session:
            return await work(session)

    return run_with_sessionmaker(_in_transaction)


def run_with_sessionmaker(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work`, which opens its own transactions, against DATABASE_URL."""

    async def _main() -> T:
        engine = create_engine(get_settings())
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(_main())


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def parse_id(value: str, what: str = "merchant id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"not a valid {what}: {value!r}")


def require_migrated_database() -> None:
    """One line and exit 1, instead of a traceback from the first query, when the
    database is unreachable or its schema is not the one this code expects."""
    from clearing_gateway.migrations.runner import schema_problem

    settings = get_settings()
    try:
        problem = asyncio.run(schema_problem(settings.database_url))
    except Exception as exc:
        fail(f"cannot reach the database ({type(exc).__name__}: {str(exc)[:200]})")
    if problem is not None:
        fail(f"{problem}; run `clearing-gateway migrate`")
