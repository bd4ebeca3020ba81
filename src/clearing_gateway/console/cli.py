"""`clearing-gateway operators …`: console accounts for operators (and merchants' users)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.console import service
from clearing_gateway.console.models import Role
from clearing_gateway.console.passwords import MIN_LENGTH, generate_password
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction

app = typer.Typer(no_args_is_help=True, help="Console accounts (web console at /console)")


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Login email")],
    password: Annotated[
        str | None,
        typer.Option(
            help=f"At least {MIN_LENGTH} characters; omitted: prompted for on a terminal, "
            "else generated and printed once"
        ),
    ] = None,
    merchant: Annotated[
        str | None, typer.Option(help="Create a merchant's user instead of an operator")
    ] = None,
    admin: Annotated[bool, typer.Option(help="With --merchant: the merchant's admin")] = True,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate the password (printed once)")
    ] = False,
) -> None:
    """Create a console login; the password is stored only as an argon2 hash."""
    shown = False
    if password is None:
        import sys

        if generate or not sys.stdin.isatty():
            password, shown = generate_password(), True
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    merchant_id = parse_id(merchant) if merchant else None
    role = (
        Role.OPERATOR
        if merchant_id is None
        else (Role.MERCHANT_ADMIN if admin else Role.MERCHANT_VIEWER)
    )

    async def _create(session: AsyncSession) -> str:
        account = await service.create_account(
            session, email=email, password=password, role=role, merchant_id=merchant_id
        )
        await service.audit(
            session,
            None,
            "account.create",
            target=account.email,
            detail=f"role={role} (command line)",
            merchant_id=merchant_id,
            actor_email="cli",
            quiet=True,  # stdout carries exactly one JSON document; the row is the record
        )
        return str(account.id)

    try:
        account_id = run_in_transaction(_create)
    except service.AccountError as exc:
        fail(str(exc))
    out = {"accountId": account_id, "email": email.strip().lower(), "role": role}
    if shown:
        out["password"] = password  # generated: shown this once, never stored in clear
    typer.echo(json.dumps(out))
