"""Housekeeping of the provider callback inbox (docs/security.md, "Inbox retention")."""

from __future__ import annotations

import datetime as dt

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.models import Job
from clearing_gateway.jobs.registry import handler
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.providers.repository import InboxRepository

log = get_logger("gateway.callbacks")


@handler("providers.inbox_purge", every=dt.timedelta(hours=1))
async def purge_inbox(runtime: Runtime, _job: Job) -> None:
    """Rejected, duplicate and ignored rows go after CALLBACK_INBOX_RETENTION_DAYS."""
    before = utcnow() - dt.timedelta(days=runtime.settings.callback_inbox_retention_days)
    async with unit_of_work(runtime.sessionmaker) as session:
        removed = await InboxRepository(session).purge_disposable(before)
    if removed:
        log.info("purged provider callbacks", count=removed)


@handler("providers.inbox_sweep", every=dt.timedelta(minutes=5))
async def sweep_stuck(runtime: Runtime, _job: Job) -> None:
    """Rows left `received` without a verdict are settled as rejected."""
    before = utcnow() - dt.timedelta(minutes=runtime.settings.callback_stuck_after_minutes)
    async with unit_of_work(runtime.sessionmaker) as session:
        settled = await InboxRepository(session).settle_unverified(before)
    if settled:
        log.warning("swept unverified provider callbacks", count=settled)
