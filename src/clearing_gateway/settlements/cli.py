"""Operator commands: `clearing-gateway settlements …` (docs/settlement.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import DEFAULT_CURRENCY, format_amount
from clearing_gateway.ledger.errors import LedgerError
from clearing_gateway.settlements import service
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep

app = typer.Typer(no_args_is_help=True, help="Settlement: deposit funds into withdrawal vaults")

MerchantOpt = Annotated[str, typer.Option("--merchant", help="Merchant id")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON")]


def _policy_json(policy: SettlementPolicy) -> dict[str, Any]:
    minute = policy.run_at_minute
    return {
        "merchantId": str(policy.merchant_id),
        "mode": policy.mode,
        "delay": f"T+{policy.delay_days}",
        "delayDays": policy.delay_days,
        "targetProvider": policy.target_provider,
        "currency": policy.currency,
        "runAt": f"{minute // 60:02d}:{minute % 60:02d} WIB",
        "updatedAt": isoformat(policy.updated_at),
    }


def _sweep_json(sweep: SettlementSweep) -> dict[str, Any]:
    return {
        "sweepId": str(sweep.id),
        "merchantId": str(sweep.merchant_id),
        "key": sweep.sweep_key,
        "trigger": sweep.trigger,
        "transferId": sweep.transfer_id,
        "amount": format_amount(sweep.amount, sweep.currency),
        "currency": sweep.currency,
        "targetProvider": sweep.target_provider,
        "delay": f"T+{sweep.delay_days}",
        "cutoff": isoformat(sweep.cutoff),
        "note": sweep.note,
        "createdAt": isoformat(sweep.created_at),
    }


def _delay_days(value: str) -> int:
    text = value.strip().upper().removeprefix("T+")
    if not text.isdigit():
        fail(f"--delay must be T+0, T+1, … or a number of days, got {value!r}")
    return int(text)


@app.command("configure")
def configure(
    merchant: MerchantOpt,
    mode: Annotated[str, typer.Option("--mode", help="off, on_demand or scheduled")],
    delay: Annotated[str, typer.Option("--delay", help="Settlement delay: T+0, T+1, …")] = "T+1",
    target: Annotated[
        str, typer.Option("--target", help="Provider whose withdrawal vault receives")
    ] = "finpay",
    run_at: Annotated[
        str, typer.Option("--at", help="Scheduled mode: daily time, HH:MM WIB")
    ] = "00:00",
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code")] = DEFAULT_CURRENCY,
) -> None:
    """Set a merchant's settlement: off, on demand (operator sweeps) or scheduled (daily)."""
    merchant_id = parse_id(merchant)
    delay_days = _delay_days(delay)

    async def work(session: AsyncSession) -> dict[str, Any]:
        policy = await service.configure(
            session,
            merchant_id,
            mode=mode,
            delay_days=delay_days,
            target_provider=target,
            currency=currency,
            run_at=run_at,
        )
        return _policy_json(policy)

    try:
        typer.echo(json.dumps(run_in_transaction(work)))
    except service.SettlementError as exc:
        fail(str(exc))


@app.command("policies")
def policies(as_json: JsonOpt = False) -> None:
    """Every merchant's settlement policy (merchants not listed are off)."""
    rows = [_policy_json(p) for p in run_in_transaction(service.policies)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no settlement policies (settlement is off for every merchant)")
    for row in rows:
        typer.echo(
            f"{row['merchantId']}  {row['mode']:<10} {row['delay']:<5} -> "
            f"{row['targetProvider']}:withdrawal  at {row['runAt']}"
        )


@app.command("sweep")
def sweep(
    merchant: MerchantOpt,
    sweep_id: Annotated[
        str | None,
        typer.Option("--id", help="Sweep id (required); re-running with it changes nothing"),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept on the sweep)")] = None,
) -> None:
    """Sweep what has settled now (on-demand; also allowed in scheduled mode)."""
    merchant_id = parse_id(merchant)
    if sweep_id is None or not sweep_id.strip():
        fail("--id is required: re-running a sweep with the same id changes nothing")
    key = f"manual:{sweep_id.strip()}"

    async def work(session: AsyncSession) -> dict[str, Any]:
        outcome = await service.sweep(
            session, merchant_id, sweep_key=key, trigger=service.Trigger.ON_DEMAND, note=note
        )
        if outcome.sweep is None:
            return {
                "swept": False,
                "reason": "nothing has settled",
                "cutoff": isoformat(outcome.cutoff),
            }
        return {
            "swept": outcome.created,
            "replayed": not outcome.created,
            **_sweep_json(outcome.sweep),
        }

    try:
        typer.echo(json.dumps(run_in_transaction(work)))
    except (service.SettlementError, LedgerError) as exc:
        fail(str(exc))


@app.command("list")
def list_sweeps(
    merchant: Annotated[str | None, typer.Option("--merchant", help="Only this merchant")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only sweeps from this time (ISO 8601)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Sweeps made, newest first."""
    merchant_id: uuid.UUID | None = parse_id(merchant) if merchant else None
    start: dt.datetime | None = None
    if since is not None:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            fail(f"--since must be an ISO 8601 time, got {since!r}")
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
    rows = [
        _sweep_json(s)
        for s in run_in_transaction(
            lambda session: service.list_sweeps(session, merchant_id, since=start, limit=limit)
        )
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no sweeps")
    for row in rows:
        typer.echo(
            f"{row['createdAt']}  {row['merchantId']}  {row['amount']:>18} {row['currency']}  "
            f"{row['trigger']:<9} {row['delay']:<5} {row['key']}"
        )
