from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, JsonDoc, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"  # claimed; the lease ends at run_at
    DONE = "done"
    FAILED = "failed"  # retries exhausted: kept for operators, never run again
    CANCELLED = "cancelled"  # an operator decided it must not run (jobs cancel)


class Job(Base):
    """One side effect to perform after a commit (the outbox).

    A claimed job keeps `run_at` pushed forward by the lease: if its worker dies the job
    simply becomes due again, so a crash never loses one.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    run_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # At most one job per key, ever (until purged): scheduled ticks, fan-outs.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    # Jobs sharing a key are limited to a few in flight per worker (one webhook URL).
    concurrency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
