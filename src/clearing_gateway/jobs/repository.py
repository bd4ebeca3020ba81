"""All SQL of the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import CursorResult, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.kit.ids import new_id

_LIVE = (JobStatus.PENDING, JobStatus.RUNNING)


async def insert_job(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    run_at: dt.datetime,
    dedupe_key: str | None,
    concurrency_key: str | None,
    now: dt.datetime,
) -> uuid.UUID | None:
    """One INSERT; None when `dedupe_key` is already taken."""
    values = {
        "id": new_id(),
        "kind": kind,
        "payload": payload,
        "status": JobStatus.PENDING,
        "run_at": run_at,
        "attempts": 0,
        "dedupe_key": dedupe_key,
        "concurrency_key": concurrency_key,
        "created_at": now,
    }
    if dedupe_key is None:
        await session.execute(insert(Job).values(**values))
        return values["id"]  # type: ignore[return-value]
    statement = insert_ignoring_conflicts(
        session.get_bind().dialect.name, Job.__table__, ["dedupe_key"]
    ).values(**values)
    result = await session.execute(statement)
    return values["id"] if _rowcount(result) else None  # type: ignore[return-value]


async def claim_due(
    session: AsyncSession,
    *,
    now: dt.datetime,
    limit: int,
    lease_until: dt.datetime,
    worker: str,
    token: uuid.UUID,
    excluded_keys: Collection[str] = (),
) -> list[Job]:
    """Lease up to `limit` due jobs. SKIP LOCKED lets any number of PostgreSQL workers
    claim side by side without waiting on, or taking, each other's rows (SQLite ignores
    the clause: BEGIN IMMEDIATE already makes the claim a single writer's)."""
    query = (
        select(Job.id)
        .where(Job.status.in_(_LIVE), Job.run_at <= now)
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if excluded_keys:
        query = query.where(
            or_(Job.concurrency_key.is_(None), Job.concurrency_key.not_in(list(excluded_keys)))
        )
    ids = list(await session.scalars(query))
    if not ids:
        return []
    await session.execute(
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            status=JobStatus.RUNNING,
            run_at=lease_until,
            attempts=Job.attempts + 1,
            locked_by=worker,
            lease_token=token,
        )
    )
    jobs = await session.scalars(
        select(Job).where(Job.id.in_(ids)).execution_options(populate_existing=True)
    )
    return sorted(jobs, key=lambda job: job.run_at)


async def release(
    session: AsyncSession, ids: Collection[uuid.UUID], token: uuid.UUID, *, now: dt.datetime
) -> None:
    """Hand back claimed jobs untouched and due (over a concurrency limit): not an attempt."""
    if not ids:
        return
    await session.execute(
        update(Job)
        .where(Job.id.in_(list(ids)), Job.lease_token == token)
        .values(
            status=JobStatus.PENDING,
            run_at=now,
            attempts=Job.attempts - 1,
            locked_by=None,
            lease_token=None,
        )
    )


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    token: uuid.UUID,
    *,
    status: str,
    now: dt.datetime,
    run_at: dt.datetime | None = None,
    error: str | None = None,
) -> bool:
    """Record the outcome of one run. Guarded by the lease token: a worker whose lease
    expired (and whose job another worker took over) cannot overwrite the newer state."""
    values: dict[str, Any] = {"status": status, "locked_by": None, "lease_token": None}
    if status == JobStatus.PENDING:
        values["run_at"] = run_at
    else:
        values["finished_at"] = now
    if error is not None or status == JobStatus.DONE:
        values["last_error"] = error
    result = await session.execute(
        update(Job).where(Job.id == job_id, Job.lease_token == token).values(**values)
    )
    return _rowcount(result) == 1


async def purge_finished(session: AsyncSession, *, before: dt.datetime) -> int:
    result = await session.execute(
        delete(Job).where(Job.status == JobStatus.DONE, Job.finished_at < before)
    )
    return _rowcount(result)


async def get(session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id, populate_existing=True)


async def by_kind(session: AsyncSession, kind: str) -> list[Job]:
    return list(await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.run_at)))


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


async def retry_failed(session: AsyncSession, job_id: uuid.UUID, now: dt.datetime) -> bool:
    """A failed job runs again from its first attempt; False when it is not failed."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.FAILED)
        .values(
            status=JobStatus.PENDING,
            run_at=now,
            attempts=0,
            locked_by=None,
            lease_token=None,
            finished_at=None,
        )
    )
    return _rowcount(result) == 1
