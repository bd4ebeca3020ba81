"""Operator commands for money that arrived but was not credited."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.models import PaymentException
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.kit.clock import isoformat, utcnow
from clearing_gateway.kit.money import format_amount

app = typer.Typer(no_args_is_help=True, help="Deposits: payments that were not credited")


def _row(exception: PaymentException) -> dict[str, object]:
    return {
        "id": str(exception.id),
        "provider": exception.provider,
        "paymentRequestId": exception.payment_request_id,
        "virtualAccountNo": exception.virtual_account_no,
        "merchantId": str(exception.merchant_id) if exception.merchant_id else None,
        "depositId": str(exception.deposit_id) if exception.deposit_id else None,
        "amount": format_amount(exception.amount, exception.currency),
        "currency": exception.currency,
        "reason": exception.reason,
        "createdAt": isoformat(exception.created_at),
        "resolvedAt": isoformat(exception.resolved_at),
        "resolutionNote": exception.resolution_note,
    }


@app.command("exceptions")
def exceptions(
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved ones")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Payments the gateway received but did not credit (unknown, expired, out of limits)."""

    async def _list(session: AsyncSession) -> list[dict[str, object]]:
        rows = await DepositRepository(session).exceptions(unresolved_only=not show_all)
        return [_row(r) for r in rows]

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['provider']}  {row['virtualAccountNo']}  {row['amount']} "
            f"{row['currency']}  {row['reason']}  resolved={row['resolvedAt'] or '-'}"
        )


@app.command("resolve-exception")
def resolve_exception(
    exception_id: Annotated[str, typer.Argument(help="Exception id")],
    note: Annotated[str, typer.Option(help="What was done (refund, manual credit…)")],
) -> None:
    """Mark an uncredited payment as handled, with the operator's note."""
    target = parse_id(exception_id, "exception id")

    async def _resolve(session: AsyncSession) -> bool:
        exception = await session.get(PaymentException, target)
        if exception is None or exception.resolved_at is not None:
            return False
        exception.resolved_at = utcnow()
        exception.resolution_note = note
        return True

    if not run_in_transaction(_resolve):
        fail(f"no unresolved exception {exception_id}")
    typer.echo(json.dumps({"id": str(target), "resolved": True}))
