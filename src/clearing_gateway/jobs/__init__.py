"""The transactional outbox: `enqueue` in the caller's transaction, handlers registered
by kind; `jobs.worker.Worker` runs them.

@jobs.handler("withdrawals.submit")
async def submit(runtime: Runtime, job: Job) -> None: ...

await jobs.enqueue(session, "withdrawals.submit", {"withdrawalId": str(w.id)})

Imports flow one way: domains import this package (enqueue, handler) and never the
worker; the entry points (app.py, `clearing-gateway worker`) import the worker and
`clearing_gateway.tasks`, which collects every domain's handlers.
"""

from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.jobs.registry import (
    GiveUp,
    JobRegistry,
    Retry,
    exponential_backoff,
    handler,
    registry,
)
from clearing_gateway.jobs.service import enqueue

__all__ = [
    "GiveUp",
    "Job",
    "JobRegistry",
    "JobStatus",
    "Retry",
    "enqueue",
    "exponential_backoff",
    "handler",
    "registry",
]
