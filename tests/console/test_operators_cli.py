"""`clearing-gateway operators create`: argon2-hashed passwords, generated when omitted."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from clearing_gateway.config import get_settings
from clearing_gateway.console import service
from clearing_gateway.console.models import ConsoleAccount, ConsoleAuditEntry
from clearing_gateway.db import create_engine, create_sessionmaker, unit_of_work
from tests.test_cli import cli_env, run

__all__ = ["cli_env"]


async def _sign_in(email: str, password: str) -> tuple[bool, str, list[str]]:
    settings = get_settings()
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            result = await service.log_in(session, settings, email, password)
            account = await session.scalar(
                select(ConsoleAccount).where(ConsoleAccount.email == email.lower())
            )
            audit = [a.action for a in await session.scalars(select(ConsoleAuditEntry))]
            assert account is not None
            return result is not None, account.password_hash, audit
    finally:
        await engine.dispose()


def test_create_with_a_password(cli_env: dict[str, str]) -> None:
    code, out, _ = run(
        "operators", "create", "--email", "Ana@Gateway.Test", "--password", "a long enough secret"
    )
    assert code == 0, out
    created = json.loads(out)
    assert created["email"] == "ana@gateway.test"
    assert created["role"] == "operator"
    assert "password" not in created  # the operator chose it: never echoed
    ok, stored, audit = asyncio.run(_sign_in("ana@gateway.test", "a long enough secret"))
    assert ok
    assert stored.startswith("$argon2id$")
    assert "a long enough secret" not in stored
    assert "account.create" in audit
    wrong, _, _ = asyncio.run(_sign_in("ana@gateway.test", "a long enough secreT"))
    assert not wrong


def test_an_omitted_password_is_generated_and_printed_once(cli_env: dict[str, str]) -> None:
    code, out, _ = run("operators", "create", "--email", "bo@gateway.test")
    assert code == 0, out
    password = json.loads(out)["password"]
    assert len(password) >= 20
    ok, _, _ = asyncio.run(_sign_in("bo@gateway.test", password))
    assert ok


def test_bad_input_is_a_clear_error(cli_env: dict[str, str]) -> None:
    code, _, err = run("operators", "create", "--email", "cy@gateway.test", "--password", "short")
    assert code == 1
    assert "at least 12 characters" in err
    code, _, err = run("operators", "create", "--email", "not an email", "--password", "x" * 20)
    assert code == 1
    assert "not an email address" in err
    assert run("operators", "create", "--email", "cy@gateway.test", "--password", "x" * 20)[0] == 0
    code, _, err = run("operators", "create", "--email", "CY@gateway.test", "--password", "y" * 20)
    assert code == 1
    assert "already exists" in err
