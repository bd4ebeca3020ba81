"""Reconciliation jobs: the periodic deposit pass."""

from __future__ import annotations

import datetime as dt

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.reconciliation.deposits import reconcile_deposits

DEPOSITS_JOB = "reconciliation.deposits"


@jobs.handler(DEPOSITS_JOB, max_attempts=1, every=dt.timedelta(seconds=60))
async def reconcile_deposits_job(runtime: Runtime, _job: jobs.Job) -> None:
    if runtime.providers is not None:
        await reconcile_deposits(runtime)
