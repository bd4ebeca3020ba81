"""The transactional outbox: `enqueue` in the caller's transaction, `Worker` runs jobs.

@jobs.handler("withdrawals.submit")
async def submit(runtime: Runtime, job: Job) -> None: ...

await jobs.enqueue(session, "withdrawals.submit", {"withdrawalId": str(w.id)})
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
from clearing_gateway.jobs.worker import Worker, load_task_modules

__all__ = [
    "GiveUp",
    "Job",
    "JobRegistry",
    "JobStatus",
    "Retry",
    "Worker",
    "enqueue",
    "exponential_backoff",
    "handler",
    "load_task_modules",
    "registry",
]
