"""`clearing-gateway webhooks …`: the delivery log and bulk redelivery for operators."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.webhooks import service

app = typer.Typer(no_args_is_help=True, help="Merchant webhooks: delivery log, redelivery")


def _parse_since(value: str) -> dt.datetime:
    """An ISO 8601 instant (UTC when no offset), or a duration back from now: 90m, 6h, 2d."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units and value[:-1].isdigit():
        return dt.datetime.now(dt.UTC) - dt.timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since: not an ISO 8601 time or a duration like 6h: {value!r}")
        raise
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@app.command("deliveries")
def deliveries(
    merchant: Annotated[str, typer.Option(help="Merchant id")],
    failed: Annotated[bool, typer.Option("--failed", help="Only failed attempts")] = False,
    transaction: Annotated[str | None, typer.Option(help="Only this transactionId")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List a merchant's delivery attempts, newest first."""
    merchant_id = parse_id(merchant)

    async def _list(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await service.list_deliveries(
            session,
            merchant_id,
            transaction_id=transaction,
            status="failed" if failed else None,
            limit=limit,
        )
        return [service.delivery_out(row) for row in rows]

    rows: list[dict[str, Any]] = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        code = row["statusCode"] if row["statusCode"] is not None else "-"
        typer.echo(
            f"{row['createdAt']}  {row['status']:<9} {code!s:>3}  tx={row['transactionId']}  "
            f"attempt={row['attempt']} ({row['trigger']})  {row['url']}"
            + (f"  error={row['error']}" if row["error"] else "")
        )


@app.command("redeliver")
def redeliver(
    since: Annotated[str, typer.Option(help="ISO 8601 time, or a duration back: 6h, 2d")],
    merchant: Annotated[str | None, typer.Option(help="Only this merchant")] = None,
) -> None:
    """Send again every notification that failed since T and never succeeded."""
    start = _parse_since(since)
    merchant_id = parse_id(merchant) if merchant else None
    count = run_in_transaction(
        lambda session: service.redeliver_failed_since(session, start, merchant_id)
    )
    typer.echo(json.dumps({"scheduled": count, "since": start.isoformat()}))
