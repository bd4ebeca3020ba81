"""`clearing-gateway keys …`: the encryption key ring."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from cryptography.fernet import Fernet

from clearing_gateway.config import get_settings
from clearing_gateway.db import create_engine, create_sessionmaker
from clearing_gateway.keyring.service import Report, reencrypt
from clearing_gateway.kit.cli import fail, require_migrated_database
from clearing_gateway.merchants.crypto import SecretBoxError, secret_box

app = typer.Typer(no_args_is_help=True, help="Encryption key ring: generate, re-encrypt")


@app.command("generate")
def generate() -> None:
    """Print a new Fernet key (put it first in GATEWAY_ENCRYPTION_KEY to rotate)."""
    typer.echo(Fernet.generate_key().decode("ascii"))


@app.command("reencrypt")
def reencrypt_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Re-encrypt every stored secret with the first key of GATEWAY_ENCRYPTION_KEY, so
    the older keys can be removed. Safe to run again; the API keeps serving meanwhile."""
    require_migrated_database()
    settings = get_settings()
    try:
        box = secret_box(settings)
    except SecretBoxError as exc:
        fail(str(exc))

    async def _main() -> Report:
        engine = create_engine(settings)
        try:
            return await reencrypt(create_sessionmaker(engine), box, dry_run=dry_run)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(_main())
    except SecretBoxError as exc:
        fail(f"{exc}: is a key missing from GATEWAY_ENCRYPTION_KEY?")
    if as_json:
        typer.echo(json.dumps([c.as_json() for c in report.columns]))
        return
    for column in report.columns:
        typer.echo(
            f"{column.name}: {column.resealed} re-encrypted, {column.current} already current"
            + (f", {column.plain} not sealed" if column.plain else "")
        )
    verb = "would be" if dry_run else "were"
    typer.echo(f"{report.resealed} secret(s) {verb} re-encrypted with the primary key")
