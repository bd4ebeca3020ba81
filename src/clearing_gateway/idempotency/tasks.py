"""Housekeeping of requestId records: kept at least IDEMPOTENCY_RETENTION_HOURS."""

from __future__ import annotations

import datetime as dt

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.idempotency.service import purge_older_than
from clearing_gateway.jobs.models import Job
from clearing_gateway.jobs.registry import handler
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.idempotency")


@handler("idempotency.purge", every=dt.timedelta(hours=1))
async def purge_expired(runtime: Runtime, _job: Job) -> None:
    age = dt.timedelta(hours=runtime.settings.idempotency_retention_hours)
    async with unit_of_work(runtime.sessionmaker) as session:
        removed = await purge_older_than(session, age)
    if removed:
        log.info("purged idempotency records", count=removed)
