"""Reconciliation rules operators and other domains call (never commits).

report = await reconcile_statement(session, "topremit", "2026-11-30", csv_text)
open_breaks = await list_breaks(session, status="open", provider="finan")
await resolve_break(session, break_id, note="reversed by the bank, ticket 123", actor="ops:ana")
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.reconciliation.models import BreakStatus, ReconciliationBreak
from clearing_gateway.reconciliation.repository import StatementRepository
from clearing_gateway.reconciliation.statements import (
    StatementError,
    StatementReport,
    match_statement,
    parse_statement,
)

log = get_logger("gateway.reconciliation")

PROVIDERS = ("topremit", "finpay", "finan")


class BreakError(Exception):
    """A break that cannot be resolved: unknown, already resolved, or no note."""


async def reconcile_statement(
    session: AsyncSession, provider: str, day: str, text: str
) -> StatementReport:
    """Match one day's statement (CSV text) and store its breaks."""
    if provider not in PROVIDERS:
        raise StatementError(f"unknown provider {provider!r}")
    report = await match_statement(session, provider, day, parse_statement(text, day))
    log.info(
        "reconciliation.statement",
        provider=provider,
        day=day,
        lines=report.lines,
        matched=report.matched,
        breaks=len(report.breaks),
        new_breaks=report.new_breaks,
    )
    return report


async def list_breaks(
    session: AsyncSession,
    *,
    status: str | None = None,
    provider: str | None = None,
    limit: int = 100,
) -> Sequence[ReconciliationBreak]:
    """Newest first; `status` is `open` or `resolved`, None for both."""
    return await StatementRepository(session).breaks(
        status=status, provider=provider, limit=max(1, min(limit, 1000))
    )


async def resolve_break(
    session: AsyncSession, break_id: uuid.UUID, *, note: str, actor: str
) -> ReconciliationBreak:
    """Close a break with the operator's explanation; who, when and why are kept."""
    if not note.strip():
        raise BreakError("a resolution needs a note saying why")
    found = await StatementRepository(session).break_for_update(break_id)
    if found is None:
        raise BreakError(f"no break {break_id}")
    if found.status == BreakStatus.RESOLVED:
        raise BreakError(f"break {break_id} is already resolved")
    found.status = BreakStatus.RESOLVED
    found.resolved_at = utcnow()
    found.resolved_by = actor[:100]
    found.resolution_note = note.strip()[:1000]
    log.info("reconciliation.break_resolved", break_id=str(break_id), actor=found.resolved_by)
    return found
