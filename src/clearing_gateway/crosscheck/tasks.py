"""The ledger checked on a schedule, so `gateway_ledger_verify_findings` is never stale."""

from __future__ import annotations

import datetime as dt

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.crosscheck.service import verify_all
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.metrics import record_ledger_verification

log = get_logger("gateway.ledger")
VERIFY_JOB = "ledger.verify"


@jobs.handler(VERIFY_JOB, max_attempts=1, every=dt.timedelta(minutes=15))
async def verify_ledger(runtime: Runtime, _job: jobs.Job) -> None:
    """Read-only: every balance re-derived from its entries, every domain row against the
    ledger (`clearing-gateway ledger verify` runs the same checks by hand)."""
    async with runtime.sessionmaker() as session:
        findings = await verify_all(session)
    record_ledger_verification(len(findings))
    for finding in findings[:20]:
        log.error("ledger verify finding", finding=str(finding))
