"""Operator commands: `clearing-gateway withdrawals …`.

`stuck` lists the withdrawals reconciliation could not settle (flagged past the horizon,
or contradicted by the provider, with the reason); `resolve` settles one by hand after the
operator has checked with the provider, moving money exactly as the automatic path would
(never FAILED once submitted: only the provider's answer can fail it); `resubmit` approves
sending again one the provider never received.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.kit.money import format_amount
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.reconciliation import RecheckRefused, recheck
from clearing_gateway.withdrawals.repository import WithdrawalRepository

app = typer.Typer(no_args_is_help=True, help="Withdrawals: stuck payouts and operator verdicts")


@app.command("stuck")
def stuck(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Withdrawals flagged for an operator (oldest first)."""

    async def _list(session: AsyncSession) -> list[dict[str, Any]]:
        return [service.stuck_out(w) for w in await WithdrawalRepository(session).stuck()]

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no stuck withdrawals")
        return
    for row in rows:
        unknown = " outcome-unknown" if row["outcomeUnknown"] else ""
        typer.echo(
            f"{row['transactionId']}  {row['status']}{unknown}  {row['provider']} "
            f"{row['providerReference']}  {format_amount(row['amount'], row['currency'])} "
            f"{row['currency']}  stuck since {row['stuckSince']}  polls {row['polls']}"
            + (f"  ({row['reviewReason']})" if row["reviewReason"] else "")
        )


@app.command("resolve")
def resolve(
    withdrawal_id: Annotated[str, typer.Argument(help="Withdrawal transactionId")],
    status: Annotated[str, typer.Option("--status", help="SUCCESS or FAILED")],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the audit trail)")],
) -> None:
    """Settle an open withdrawal by hand: SUCCESS posts the hold, FAILED releases it."""
    parsed = parse_id(withdrawal_id, "withdrawal id")

    async def _resolve(session: AsyncSession) -> str:
        withdrawal = await service.resolve_by_operator(session, parsed, status, note)
        return str(withdrawal.status)

    try:
        final = run_in_transaction(_resolve)
    except service.ResolveError as exc:
        fail(str(exc))
    typer.echo(f"withdrawal {parsed} is now {final}")


@app.command("resubmit")
def resubmit(
    withdrawal_id: Annotated[str, typer.Argument(help="Withdrawal transactionId")],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the log)")],
) -> None:
    """Send again a submitted withdrawal the provider says it never received (the job
    asks the provider first and sends only on its explicit "not found")."""
    parsed = parse_id(withdrawal_id, "withdrawal id")

    async def _resubmit(session: AsyncSession) -> str:
        withdrawal = await service.resubmit_by_operator(session, parsed, note)
        return str(withdrawal.status)

    try:
        run_in_transaction(_resubmit)
    except service.ResolveError as exc:
        fail(str(exc))
    typer.echo(f"withdrawal {parsed} will be sent again if the provider still does not know it")


@app.command("recheck")
def recheck_command(
    withdrawal_id: Annotated[str, typer.Argument(help="Withdrawal transactionId")],
) -> None:
    """Ask the provider about one PROCESSING or SUCCESS withdrawal now (Check Status),
    applying its answer as reconciliation would."""
    from clearing_gateway.app import run_with_runtime

    parsed = parse_id(withdrawal_id, "withdrawal id")

    async def _recheck(runtime: Runtime) -> tuple[str, str]:
        return await recheck(runtime, parsed)

    try:
        before, after = run_with_runtime(_recheck)
    except RecheckRefused as refused:
        fail(str(refused))
    typer.echo(f"withdrawal {parsed}: {before} -> {after}")
