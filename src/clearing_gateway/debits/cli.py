"""Operator command: `clearing-gateway debits list`, every debit_notify the gateway sent."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer

from clearing_gateway.debits import service
from clearing_gateway.debits.schemas import debit_out
from clearing_gateway.kit.cli import parse_id, run_in_transaction

app = typer.Typer(no_args_is_help=True, help="Merchant vault debits other than withdrawals")


@app.command("list")
def list_debits(
    merchant: Annotated[str | None, typer.Option("--merchant", help="Only this merchant")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Debits announced by debit_notify (sweeps, fees, adjustments, cash-outs), newest first."""
    merchant_id: uuid.UUID | None = parse_id(merchant) if merchant else None
    debits = run_in_transaction(lambda s: service.recent(s, merchant_id, limit))
    rows = [{"merchantId": str(d.merchant_id), **debit_out(d)} for d in debits]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no debits")
    for row in rows:
        typer.echo(
            f"{row['createdAt']}  {row['merchantId']}  {row['debitType']:<10} "
            f"{row['amount']:>18} {row['currency']}  {row['sourceAccountNo']} -> "
            f"{row['destinationAccountNo']}  {row['caciTxId']}"
        )
