"""The daily scheduled sweep: checked every few minutes, run once per merchant per WIB day
(the sweep key is the date, so a second worker or a re-run finds it done)."""

from __future__ import annotations

import datetime as dt

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.ledger.errors import LedgerError
from clearing_gateway.settlements import service

SCHEDULED_JOB = "settlements.run_scheduled"
log = get_logger("gateway.settlements")


async def run_scheduled(runtime: Runtime, now: dt.datetime | None = None) -> int:
    """Sweep every merchant whose daily sweep is due; returns how many sweeps were made.
    Each merchant in its own transaction: one refusal does not hold up the others."""
    now = now or utcnow()
    async with unit_of_work(runtime.sessionmaker) as session:
        due = await service.due_scheduled(session, now)
    made = 0
    for merchant_id in due:
        try:
            async with unit_of_work(runtime.sessionmaker) as session:
                outcome = await service.sweep(
                    session,
                    merchant_id,
                    sweep_key=service.scheduled_key(now),
                    trigger=service.Trigger.SCHEDULED,
                    now=now,
                )
        except (LedgerError, service.SettlementError) as exc:
            log.warning("scheduled sweep refused", merchant_id=str(merchant_id), error=str(exc))
            continue
        if outcome.created and outcome.sweep is not None:
            made += 1
            log.info(
                "settlement sweep",
                merchant_id=str(merchant_id),
                sweep_id=str(outcome.sweep.id),
                amount=outcome.sweep.amount,
            )
    return made


@jobs.handler(SCHEDULED_JOB, max_attempts=1, every=dt.timedelta(minutes=5))
async def scheduled_sweeps(runtime: Runtime, _job: jobs.Job) -> None:
    await run_scheduled(runtime)
