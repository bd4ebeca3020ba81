"""Reconciliation: ask the provider about every withdrawal that stays PROCESSING.

A withdrawal PROCESSING for longer than WITHDRAWAL_POLL_AFTER_SECONDS is polled with
Check Status, then again with doubling intervals (capped at
WITHDRAWAL_POLL_MAX_INTERVAL_SECONDS). Past WITHDRAWAL_STUCK_AFTER_SECONDS it is flagged
(`stuck_since`) for operators instead of being guessed at; polling goes on, so a late
answer still resolves it. A PENDING withdrawal that never got submitted within the
horizon (its submit job gave up) is flagged the same way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.providers.base import TransferStatus
from clearing_gateway.providers.errors import ProviderError
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus
from clearing_gateway.withdrawals.repository import WithdrawalRepository
from clearing_gateway.withdrawals.submission import connector_for

log = get_logger("gateway.withdrawals")
BATCH = 100


@dataclass
class ReconcileReport:
    polled: int = 0
    resolved: int = 0
    resubmitted: int = 0
    flagged: list[uuid.UUID] = field(default_factory=list)


def next_interval(runtime: Runtime, polls: int) -> dt.timedelta:
    settings = runtime.settings
    seconds = settings.withdrawal_poll_after_seconds * 2 ** min(polls, 30)
    return dt.timedelta(seconds=min(seconds, settings.withdrawal_poll_max_interval_seconds))


async def reconcile(runtime: Runtime, now: dt.datetime | None = None) -> ReconcileReport:
    """One pass: poll what is due, flag what is past the horizon."""
    now = now or utcnow()
    settings = runtime.settings
    report = ReconcileReport()
    horizon = dt.timedelta(seconds=settings.withdrawal_stuck_after_seconds)
    first_poll_before = now - dt.timedelta(seconds=settings.withdrawal_poll_after_seconds)
    async with unit_of_work(runtime.sessionmaker) as session:
        repository = WithdrawalRepository(session)
        due = await repository.due_for_poll(now, first_poll_before, BATCH)
        for withdrawal in await repository.pending_since(now - horizon, BATCH):
            withdrawal.stuck_since = now
            report.flagged.append(withdrawal.id)
            log.error("withdrawal.stuck", withdrawal_id=str(withdrawal.id), status="PENDING")
    for withdrawal_id in due:
        await _poll_one(runtime, withdrawal_id, now, report)
    return report


async def _poll_one(
    runtime: Runtime, withdrawal_id: uuid.UUID, now: dt.datetime, report: ReconcileReport
) -> None:
    async with runtime.sessionmaker() as session:
        withdrawal = await WithdrawalRepository(session).by_id(withdrawal_id)
        if withdrawal is None:
            return
        provider, reference = withdrawal.provider, withdrawal.provider_reference
    report.polled += 1
    answer: TransferStatus | None = None
    try:
        answer = await connector_for(runtime, provider).check_status(reference)
    except ProviderError as error:
        log.warning("withdrawal.poll_failed", withdrawal_id=str(withdrawal_id), error=str(error))
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or withdrawal.status != WithdrawalStatus.PROCESSING:
            return
        if answer is not None and answer.status is DisbursementStatus.NOT_FOUND:
            if await _resubmit_if_absent(session, runtime, withdrawal, now):
                report.resubmitted += 1
        elif answer is not None:
            changed = await service.apply_provider_outcome(
                session,
                withdrawal,
                service.ProviderOutcome.of(answer),
                source=service.Source.POLL,
            )
            report.resolved += int(changed and withdrawal.status != WithdrawalStatus.PROCESSING)
        if withdrawal.status == WithdrawalStatus.PROCESSING:
            _schedule_next(runtime, withdrawal, now, report)
        await session.flush()


async def _resubmit_if_absent(
    session: AsyncSession, runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime
) -> bool:
    """The provider has never heard of a transfer whose outcome was unknown, long after
    the lost call could still have been in flight: submit it again, through the
    check-first path and with the same reference (the provider refuses a second order
    with that id). An accepted transfer the provider no longer knows is left to operators."""
    settle = dt.timedelta(seconds=runtime.settings.withdrawal_poll_after_seconds)
    submitted = withdrawal.submitted_at
    if not withdrawal.outcome_unknown or submitted is None or submitted > now - settle:
        return False
    job = await jobs.enqueue(
        session,
        service.SUBMIT_JOB,
        {"withdrawalId": str(withdrawal.id)},
        dedupe_key=f"withdrawal-resubmit:{withdrawal.id}:{withdrawal.polls}",
    )
    log.warning("withdrawal.resubmit", withdrawal_id=str(withdrawal.id), job_id=str(job))
    return job is not None


def _schedule_next(
    runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime, report: ReconcileReport
) -> None:
    withdrawal.polls += 1
    withdrawal.next_poll_at = now + next_interval(runtime, withdrawal.polls)
    horizon = dt.timedelta(seconds=runtime.settings.withdrawal_stuck_after_seconds)
    started = withdrawal.submitted_at or withdrawal.created_at
    if withdrawal.stuck_since is None and now - started >= horizon:
        withdrawal.stuck_since = now
        report.flagged.append(withdrawal.id)
        log.error("withdrawal.stuck", withdrawal_id=str(withdrawal.id), status="PROCESSING")
