"""Operator command line: `clearing-gateway …`."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway import __version__
from clearing_gateway.config import get_settings
from clearing_gateway.console.cli import app as operators_app
from clearing_gateway.debits.cli import app as debits_app
from clearing_gateway.deposits.cli import app as deposits_app
from clearing_gateway.jobs.cli import jobs_app, worker
from clearing_gateway.keyring.cli import app as keys_app
from clearing_gateway.kit.cli import fail, parse_id, require_migrated_database, run_in_transaction
from clearing_gateway.ledger.cli import app as ledger_app
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.merchants.service import MerchantError, MerchantService
from clearing_gateway.providers.cli import callbacks_app, sandbox_app
from clearing_gateway.reconciliation.cli import app as reconcile_app
from clearing_gateway.settlements.cli import app as settlements_app
from clearing_gateway.webhooks.cli import app as webhooks_app
from clearing_gateway.withdrawals.cli import app as withdrawals_app

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False, help="CACI Clearing Gateway")
merchants_app = typer.Typer(no_args_is_help=True, help="Merchants and their API keys")
app.add_typer(merchants_app, name="merchants")
app.add_typer(webhooks_app, name="webhooks")
app.command("worker")(worker)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(ledger_app, name="ledger")
app.add_typer(deposits_app, name="deposits")
app.add_typer(withdrawals_app, name="withdrawals")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(settlements_app, name="settlements")
app.add_typer(callbacks_app, name="callbacks")
app.add_typer(jobs_app, name="jobs")
app.add_typer(keys_app, name="keys")

# Commands that work without a migrated database (or without one at all).
_NO_SCHEMA_NEEDED = {"migrate", "sandbox", "keys"}  # `keys reencrypt` checks itself


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"clearing-gateway {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version"),
    ] = False,
) -> None:
    """CACI Clearing Gateway"""
    if ctx.invoked_subcommand in _NO_SCHEMA_NEEDED or ctx.resilient_parsing:
        return
    require_migrated_database()


app.add_typer(operators_app, name="operators")
app.add_typer(debits_app, name="debits")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from clearing_gateway.migrations.runner import upgrade

    upgrade()
    typer.echo("database is up to date", err=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    # The sandboxes call back the gateway where it actually listens, unless told otherwise.
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{reachable}:{port}")
    settings = get_settings()
    typer.echo(
        f"CACI Clearing Gateway ({settings.gateway_env.value}) listening on http://{host}:{port}\n"
        f"  API docs:     http://{host}:{port}/docs\n"
        f"  database:     {settings.database_url}\n"
        "  credentials:  clearing-gateway merchants create --name 'My Merchant' --json\n"
        "                (with make: .tools/bin/uv run clearing-gateway merchants create ...)",
        err=True,
    )
    uvicorn.run(
        "clearing_gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvicorn's records go to the root handler (kit/logging.py): one JSON format.
        log_config=None,
        log_level="warning",
        access_log=False,  # the gateway writes its own access line, with the request id
        # Requests in flight at SIGTERM get this long to finish (docs/operations.md).
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        # X-Forwarded-For is believed only from TRUSTED_PROXIES (merchants/auth.py).
        proxy_headers=False,
    )


@merchants_app.command("create")
def merchants_create(
    name: Annotated[str, typer.Option(help="Merchant name")],
    ip: Annotated[list[str] | None, typer.Option(help="Allowed address or CIDR")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print credentials as JSON")] = False,
) -> None:
    """Create a merchant and issue its first API key and secret (shown once)."""
    service = MerchantService(get_settings())
    try:
        issued = run_in_transaction(lambda s: service.create(s, name=name, ips=ip or []))
    except MerchantError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(issued.as_json()))
        return
    typer.echo(f"merchantId: {issued.merchant_id}\napiKey:     {issued.api_key}")
    typer.echo(f"apiSecret:  {issued.api_secret}\n(the secret is shown only now)")


@merchants_app.command("list")
def merchants_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List merchants with their live API keys (never their secrets)."""

    async def _list(session: AsyncSession) -> list[dict[str, Any]]:
        repository = MerchantRepository(session)
        now = dt.datetime.now(dt.UTC)
        rows = []
        for merchant in await repository.list():
            keys = await repository.live_keys(merchant.id, now)
            rows.append(
                {
                    "merchantId": str(merchant.id),
                    "name": merchant.name,
                    "status": merchant.status,
                    "allowedIps": merchant.allowed_ips,
                    "apiKeys": [
                        {
                            "apiKey": k.api_key,
                            "expiresAt": k.expires_at.isoformat() if k.expires_at else None,
                        }
                        for k in keys
                    ],
                }
            )
        return rows

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        keys = ", ".join(str(k["apiKey"]) for k in row["apiKeys"])
        typer.echo(f"{row['merchantId']}  {row['name']}  ips={row['allowedIps']}  keys={keys}")


@merchants_app.command("rotate-key")
def merchants_rotate_key(
    merchant_id: Annotated[str, typer.Argument(help="Merchant id")],
    overlap_hours: Annotated[
        float | None, typer.Option(help="Hours the old keys keep working")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print credentials as JSON")] = False,
) -> None:
    """Issue a new key; the old ones keep working for the overlap window."""
    settings = get_settings()
    hours = settings.api_key_rotation_overlap_hours if overlap_hours is None else overlap_hours
    service = MerchantService(settings)
    merchant = parse_id(merchant_id)
    try:
        issued = run_in_transaction(
            lambda s: service.rotate_key(s, merchant, overlap=dt.timedelta(hours=hours))
        )
    except MerchantError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(issued.as_json()))
    else:
        typer.echo(f"apiKey:    {issued.api_key}\napiSecret: {issued.api_secret}")
        typer.echo(f"old keys stop working in {hours:g} h")


@merchants_app.command("allow-ip")
def merchants_allow_ip(
    merchant_id: Annotated[str, typer.Argument(help="Merchant id")],
    ip: Annotated[list[str], typer.Option(help="Address or CIDR to allow")],
    replace: Annotated[bool, typer.Option(help="Replace the list instead of adding")] = False,
) -> None:
    """Add addresses or CIDRs to a merchant's allowlist."""
    service = MerchantService(get_settings())
    merchant = parse_id(merchant_id)
    try:
        allowed = run_in_transaction(lambda s: service.allow_ips(s, merchant, ip, replace=replace))
    except MerchantError as exc:
        fail(str(exc))
        return
    typer.echo(json.dumps({"merchantId": merchant_id, "allowedIps": allowed}))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
