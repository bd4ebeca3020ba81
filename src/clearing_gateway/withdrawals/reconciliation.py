"""Reconciliation: ask the provider about every withdrawal that is not settled for good.

A withdrawal PROCESSING for longer than WITHDRAWAL_POLL_AFTER_SECONDS is polled with
Check Status, then again with doubling intervals (capped at
WITHDRAWAL_POLL_MAX_INTERVAL_SECONDS). Past WITHDRAWAL_STUCK_AFTER_SECONDS it is flagged
(`stuck_since`) for operators instead of being guessed at; polling goes on, so a late
answer still resolves it. A PENDING withdrawal that never got submitted within the
horizon (its submit job gave up) is flagged the same way.

A SUCCESS withdrawal is still polled through WITHDRAWAL_REFUND_WINDOW_SECONDS (gaps
capped at WITHDRAWAL_REFUND_POLL_MAX_INTERVAL_SECONDS), so a refund whose notification
was lost or not yet confirmed is found and credited. A notification Check Status does
not confirm yet (`notice_code`) is re-checked the same way and goes to an operator after
WITHDRAWAL_NOTICE_CONFIRM_SECONDS.

One pass per withdrawal at a time: a pass claims a due withdrawal by moving its
`next_poll_at` forward under the row lock before asking the provider, so an
overlapping pass finds it not due. Only an explicit "not found" long enough after the
submission counts as "never received" (docs/reconciliation.md, "Withdrawals").
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
from clearing_gateway.withdrawals.submission import (
    NEVER_RECEIVED,
    connector_for,
    never_received,
)

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
    refund_since = now - dt.timedelta(seconds=settings.withdrawal_refund_window_seconds)
    async with unit_of_work(runtime.sessionmaker) as session:
        repository = WithdrawalRepository(session)
        due = await repository.due_for_poll(now, first_poll_before, refund_since, BATCH)
        for withdrawal in await repository.pending_since(now - horizon, BATCH):
            withdrawal.stuck_since = now
            report.flagged.append(withdrawal.id)
            log.error("withdrawal.stuck", withdrawal_id=str(withdrawal.id), status="PENDING")
    for withdrawal_id in due:
        await _poll_one(runtime, withdrawal_id, now, report)
    return report


class RecheckRefused(Exception):
    """The withdrawal cannot be checked with its provider now (the reason says why)."""


async def recheck(
    runtime: Runtime, withdrawal_id: uuid.UUID, now: dt.datetime | None = None
) -> tuple[str, str]:
    """Ask the provider about one withdrawal now, out of its schedule
    (`clearing-gateway withdrawals recheck`), through the same claim and outcome path as
    a reconciliation pass. Returns its status before and after."""
    now = now or utcnow()
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None:
            raise RecheckRefused(f"no withdrawal {withdrawal_id}")
        before = str(withdrawal.status)
        if before not in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
            raise RecheckRefused(
                f"withdrawal {withdrawal_id} is {before}: only PROCESSING and SUCCESS ones "
                "are checked with the provider"
            )
        withdrawal.next_poll_at = now  # due now; the claim below still guards overlaps
        await session.flush()
    report = ReconcileReport()
    await _poll_one(runtime, withdrawal_id, now, report)
    if not report.polled:
        raise RecheckRefused(
            f"withdrawal {withdrawal_id} is being submitted or checked right now; try again"
        )
    async with runtime.sessionmaker() as session:
        after = await WithdrawalRepository(session).by_id(withdrawal_id)
        assert after is not None
        return before, str(after.status)


def _is_due(runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime) -> bool:
    """The selection's rule again, under the row lock: an overlapping pass that claimed
    the withdrawal first has moved `next_poll_at` past `now`."""
    settings = runtime.settings
    lease = withdrawal.submit_lease_until
    if lease is not None and lease > now:
        return False  # a submission is talking to the provider right now
    status = WithdrawalStatus(withdrawal.status)
    if status is WithdrawalStatus.PROCESSING:
        since = withdrawal.updated_at
    elif status is WithdrawalStatus.SUCCESS and withdrawal.completed_at is not None:
        window = dt.timedelta(seconds=settings.withdrawal_refund_window_seconds)
        if withdrawal.completed_at < now - window:
            return False
        since = withdrawal.completed_at
    else:
        return False
    if withdrawal.next_poll_at is not None:
        return withdrawal.next_poll_at <= now
    return since <= now - dt.timedelta(seconds=settings.withdrawal_poll_after_seconds)


async def _claim(runtime: Runtime, withdrawal_id: uuid.UUID, now: dt.datetime) -> bool:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _is_due(runtime, withdrawal, now):
            return False
        # Held for as long as a submission would be; the pass reschedules it when done.
        withdrawal.next_poll_at = now + dt.timedelta(
            seconds=runtime.settings.withdrawal_submit_lease_seconds
        )
        await session.flush()
        return True


async def _poll_one(
    runtime: Runtime, withdrawal_id: uuid.UUID, now: dt.datetime, report: ReconcileReport
) -> None:
    async with runtime.sessionmaker() as session:
        withdrawal = await WithdrawalRepository(session).by_id(withdrawal_id)
        if withdrawal is None:
            return
        provider, reference = withdrawal.provider, withdrawal.provider_reference
    if not await _claim(runtime, withdrawal_id, now):
        return
    report.polled += 1
    answer: TransferStatus | None = None
    try:
        answer = await connector_for(runtime, provider).check_status(reference)
    except ProviderError as error:
        log.warning("withdrawal.poll_failed", withdrawal_id=str(withdrawal_id), error=str(error))
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None:
            return
        status = WithdrawalStatus(withdrawal.status)
        if status not in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
            return
        if answer is not None and answer.status is DisbursementStatus.NOT_FOUND:
            await _not_found(session, runtime, withdrawal, now, report)
        elif answer is not None:
            changed = await service.apply_provider_outcome(
                session,
                withdrawal,
                service.ProviderOutcome.of(answer),
                source=service.Source.POLL,
            )
            report.resolved += int(changed and withdrawal.status != status)
        _check_notice(runtime, withdrawal, now)
        if withdrawal.status in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
            _schedule_next(runtime, withdrawal, now, report)
        await session.flush()


async def _not_found(
    session: AsyncSession,
    runtime: Runtime,
    withdrawal: Withdrawal,
    now: dt.datetime,
    report: ReconcileReport,
) -> None:
    """The provider explicitly does not know the transfer."""
    if withdrawal.status == WithdrawalStatus.SUCCESS or not withdrawal.outcome_unknown:
        # It accepted (or paid) this transfer before: never resend, an operator looks.
        service.flag_for_review(
            withdrawal, f"the provider no longer knows a {withdrawal.status} transfer"
        )
        return
    if not never_received(runtime, withdrawal, now):
        return  # the lost call may still appear: keep asking
    if not runtime.settings.withdrawal_auto_resubmit:
        service.flag_for_review(withdrawal, NEVER_RECEIVED)
        return
    # Keyed by the submission attempt (its fence token), not by the poll count: any number
    # of passes over one attempt enqueue one resubmission.
    job = await jobs.enqueue(
        session,
        service.SUBMIT_JOB,
        {"withdrawalId": str(withdrawal.id), "approved": True},
        dedupe_key=f"withdrawal-resubmit:{withdrawal.id}:{withdrawal.submit_token}",
    )
    log.warning("withdrawal.resubmit", withdrawal_id=str(withdrawal.id), job_id=str(job))
    report.resubmitted += int(job is not None)


def _check_notice(runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime) -> None:
    """A provider notification waiting for Check Status to agree: done once the status
    has caught up; an operator's after WITHDRAWAL_NOTICE_CONFIRM_SECONDS."""
    if withdrawal.notice_code is None or withdrawal.notice_at is None:
        return
    if service.notice_confirmed(withdrawal):
        withdrawal.notice_code = withdrawal.notice_at = None
        return
    expiry = dt.timedelta(seconds=runtime.settings.withdrawal_notice_confirm_seconds)
    if now - withdrawal.notice_at >= expiry and withdrawal.review_reason is None:
        service.flag_for_review(
            withdrawal,
            f"the provider notified {withdrawal.notice_code} but Check Status still says "
            f"{withdrawal.provider_status_code}",
        )


def next_refund_check(runtime: Runtime, polls: int) -> dt.timedelta:
    settings = runtime.settings
    seconds = settings.withdrawal_poll_after_seconds * 2 ** min(polls, 30)
    return dt.timedelta(seconds=min(seconds, settings.withdrawal_refund_poll_max_interval_seconds))


def _schedule_next(
    runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime, report: ReconcileReport
) -> None:
    withdrawal.polls += 1
    if withdrawal.status == WithdrawalStatus.SUCCESS:
        withdrawal.next_poll_at = now + next_refund_check(runtime, withdrawal.polls)
        return
    withdrawal.next_poll_at = now + next_interval(runtime, withdrawal.polls)
    horizon = dt.timedelta(seconds=runtime.settings.withdrawal_stuck_after_seconds)
    started = withdrawal.submitted_at or withdrawal.created_at
    if withdrawal.stuck_since is None and now - started >= horizon:
        withdrawal.stuck_since = now
        report.flagged.append(withdrawal.id)
        log.error("withdrawal.stuck", withdrawal_id=str(withdrawal.id), status="PROCESSING")


async def recheck_now(runtime: Runtime, withdrawal_id: uuid.UUID) -> str:
    """An operator's "re-check now": ask the provider at once instead of at the next poll,
    through the same claim and rules as the scheduled pass. Returns the status after."""
    now = utcnow()
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None:
            raise service.ResolveError(f"withdrawal {withdrawal_id} not found")
        status = WithdrawalStatus(withdrawal.status)
        if status not in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
            raise service.ResolveError(
                f"withdrawal is {status}: only a submitted one can be checked with the provider"
            )
        lease = withdrawal.submit_lease_until
        if lease is not None and lease > now:
            raise service.ResolveError("a submission is talking to the provider right now")
        withdrawal.next_poll_at = now  # due now: the pass's own claim then takes it
        await session.flush()
    await _poll_one(runtime, withdrawal_id, now, ReconcileReport())
    async with runtime.sessionmaker() as session:
        after = await WithdrawalRepository(session).by_id(withdrawal_id)
        return after.status if after is not None else str(status)
