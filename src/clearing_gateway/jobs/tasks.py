"""Housekeeping of the outbox itself."""

from __future__ import annotations

import datetime as dt

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs import repository
from clearing_gateway.jobs.models import Job
from clearing_gateway.jobs.registry import handler
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.jobs")


@handler("jobs.purge_finished", every=dt.timedelta(hours=1))
async def purge_finished(runtime: Runtime, _job: Job) -> None:
    """Finished jobs are kept a while for operators, then deleted (failed ones stay)."""
    cutoff = utcnow() - dt.timedelta(days=runtime.settings.job_retention_days)
    async with unit_of_work(runtime.sessionmaker) as session:
        removed = await repository.purge_finished(session, before=cutoff)
    if removed:
        log.info("purged finished jobs", count=removed)
