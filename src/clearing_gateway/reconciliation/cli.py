"""`clearing-gateway reconcile`: match a provider's daily statement, work the breaks."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearing_gateway.config import get_settings
from clearing_gateway.handlers import load_callback_handlers
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction, run_with_sessionmaker
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import format_amount
from clearing_gateway.providers.callbacks import CallbackHandlers
from clearing_gateway.providers.config import sandbox_base_url
from clearing_gateway.reconciliation.models import ReconciliationBreak
from clearing_gateway.reconciliation.recovery import apply_break
from clearing_gateway.reconciliation.service import (
    PROVIDERS,
    BreakError,
    list_breaks,
    reconcile_statement,
    resolve_break,
)
from clearing_gateway.reconciliation.statements import StatementError, StatementReport

app = typer.Typer(
    help="Reconciliation: match a provider's daily statement against the ledger",
    invoke_without_command=True,
)


def _statement_text(provider: str, day: str, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as error:
            fail(f"cannot read {file}: {error.strerror}")
    settings = get_settings()
    if settings.gateway_env.value != "sandbox":
        # No provider documents a statement download: production statements come as files.
        fail("give the statement with --file (only the sandboxes serve one)")
    url = f"{sandbox_base_url(settings, provider)}/statements/{day}"
    try:
        response = httpx.get(url, timeout=30)
    except httpx.HTTPError as error:
        fail(f"cannot fetch the statement from {url}: {type(error).__name__}")
    if response.status_code != 200:
        fail(f"the sandbox answered {response.status_code} for {url}")
    return response.text


def _report_row(report: StatementReport) -> dict[str, object]:
    counts: dict[str, int] = {}
    for found in report.breaks:
        counts[found.kind.value] = counts.get(found.kind.value, 0) + 1
    return {
        "provider": report.provider,
        "date": report.day,
        "lines": report.lines,
        "matched": report.matched,
        "breaks": counts,
        "newBreaks": report.new_breaks,
    }


@app.callback()
def reconcile(
    ctx: typer.Context,
    provider: Annotated[str | None, typer.Option(help="topremit, finpay or finan")] = None,
    date: Annotated[str | None, typer.Option(help="Statement day, YYYY-MM-DD (UTC)")] = None,
    file: Annotated[Path | None, typer.Option(help="The statement CSV (else fetched)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Match one statement: `reconcile --provider P --date D [--file F]`."""
    if ctx.invoked_subcommand is not None:
        return
    if provider not in PROVIDERS or date is None:
        fail(f"--provider ({', '.join(PROVIDERS)}) and --date are required")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, not {date!r}")
    text = _statement_text(provider, date, file)

    async def _match(session: AsyncSession) -> StatementReport:
        return await reconcile_statement(session, provider, date, text)

    try:
        report = run_in_transaction(_match)
    except StatementError as error:
        fail(f"statement refused: {error}")
    row = _report_row(report)
    if as_json:
        typer.echo(json.dumps(row))
        return
    typer.echo(
        f"{provider} {date}: {report.lines} lines, {report.matched} matched, "
        f"{len(report.breaks)} breaks ({report.new_breaks} new) {row['breaks'] or ''}".rstrip()
    )


def _break_row(found: ReconciliationBreak) -> dict[str, object]:
    def amount(value: int | None) -> str | None:
        return None if value is None else format_amount(value, found.currency)

    return {
        "id": str(found.id),
        "provider": found.provider,
        "date": found.statement_date,
        "kind": found.kind,
        "direction": found.direction,
        "reference": found.reference,
        "instrumentReference": found.instrument_reference,
        "currency": found.currency,
        "providerAmount": amount(found.provider_amount),
        "ledgerAmount": amount(found.ledger_amount),
        "providerStatus": found.provider_status,
        "ledgerStatus": found.ledger_status,
        "detail": found.detail,
        "status": found.status,
        "createdAt": isoformat(found.created_at),
        "resolvedAt": isoformat(found.resolved_at),
        "resolvedBy": found.resolved_by,
        "resolutionNote": found.resolution_note,
    }


@app.command("breaks")
def breaks(
    provider: Annotated[str | None, typer.Option(help="Only this provider")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved ones")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Statement breaks (open ones unless --all)."""

    async def _list(session: AsyncSession) -> list[dict[str, object]]:
        rows = await list_breaks(
            session, status=None if show_all else "open", provider=provider, limit=limit
        )
        return [_break_row(r) for r in rows]

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['provider']}  {row['date']}  {row['kind']}  {row['reference']}  "
            f"provider={row['providerAmount'] or '-'} ledger={row['ledgerAmount'] or '-'}  "
            f"{row['status']}"
        )


@app.command("resolve")
def resolve(
    break_id: Annotated[str, typer.Argument(help="The break's id")],
    note: Annotated[str, typer.Option(help="Why the break is explained (kept for audit)")],
    actor: Annotated[str | None, typer.Option(help="Who resolves it (default: OS user)")] = None,
) -> None:
    """Resolve a break with an audited note."""
    parsed = parse_id(break_id, "break id")
    who = actor or f"cli:{getpass.getuser()}"

    async def _resolve(session: AsyncSession) -> dict[str, object]:
        return _break_row(await resolve_break(session, parsed, note=note, actor=who))

    try:
        row = run_in_transaction(_resolve)
    except BreakError as error:
        fail(str(error))
    typer.echo(json.dumps(row))


@app.command("apply")
def apply(
    break_id: Annotated[str, typer.Argument(help="The break's id")],
    note: Annotated[str, typer.Option(help="What was checked before crediting (audited)")],
    actor: Annotated[str | None, typer.Option(help="Who applies it (default: OS user)")] = None,
) -> None:
    """Credit a Topremit payment only the statement knows of (a lost callback), once."""
    parsed = parse_id(break_id, "break id")
    who = actor or f"cli:{getpass.getuser()}"
    registry = CallbackHandlers()
    load_callback_handlers(registry)

    async def _apply(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, object]:
        outcome = await apply_break(sessionmaker, parsed, note=note, actor=who, registry=registry)
        return {
            **_break_row(outcome.found),
            "applied": outcome.status,
            "eventKey": outcome.event_key,
        }

    try:
        row = run_with_sessionmaker(_apply)
    except BreakError as error:
        fail(str(error))
    typer.echo(json.dumps(row))
