"""Withdrawal jobs: submit one to its provider; reconcile the ones still in flight."""

from __future__ import annotations

import datetime as dt
import uuid

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.withdrawals.reconciliation import reconcile
from clearing_gateway.withdrawals.service import SUBMIT_JOB
from clearing_gateway.withdrawals.submission import SubmissionBusy, submit_withdrawal

RECONCILE_JOB = "withdrawals.reconcile"


@jobs.handler(SUBMIT_JOB, max_attempts=50)
async def submit(runtime: Runtime, job: jobs.Job) -> None:
    try:
        withdrawal_id = uuid.UUID(str(job.payload["withdrawalId"]))
    except (KeyError, ValueError):
        raise jobs.GiveUp("payload has no valid withdrawalId") from None
    # Set by the reconciliation or an operator: send again after an explicit "not found".
    approved = job.payload.get("approved") is True
    try:
        await submit_withdrawal(runtime, withdrawal_id, approved=approved)
    except SubmissionBusy as busy:
        # Another run is talking to the provider: come back when its lease ends.
        wait = max(busy.until - utcnow(), dt.timedelta(seconds=1))
        raise jobs.Retry(wait, str(busy)) from None


@jobs.handler(RECONCILE_JOB, max_attempts=1, every=dt.timedelta(seconds=30))
async def reconcile_withdrawals(runtime: Runtime, _job: jobs.Job) -> None:
    await reconcile(runtime)
