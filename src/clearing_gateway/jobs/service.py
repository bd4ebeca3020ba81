"""Writing to the outbox: always inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.jobs import repository
from clearing_gateway.kit import tracing
from clearing_gateway.kit.clock import utcnow


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: dt.datetime | None = None,
    dedupe_key: str | None = None,
    concurrency_key: str | None = None,
) -> uuid.UUID | None:
    """Schedule `kind(payload)` to run after this transaction commits (never if it rolls
    back). Returns the job id, or None when a job with `dedupe_key` already exists.

    One INSERT, no flush of the session's pending objects: cheap enough for hot paths.
    """
    now = utcnow()
    payload = dict(payload)
    tracing.inject(payload)  # the job's run continues this trace
    return await repository.insert_job(
        session,
        kind=kind,
        payload=payload,
        run_at=run_at or now,
        dedupe_key=dedupe_key,
        concurrency_key=concurrency_key,
        now=now,
    )


async def retry_failed(session: AsyncSession, job_id: uuid.UUID) -> bool:
    """An operator's retry of a job whose attempts ran out (the worker picks it up)."""
    return await repository.requeue(session, job_id, now=utcnow())
