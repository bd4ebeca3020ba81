"""The numbers an operator watches that live in the database, read at scrape time.

Read from the shared database, they are the same whichever process is scraped, so they
need no multiprocess bookkeeping. Each query is one GROUP BY over indexed columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.reconciliation.models import BreakStatus, ReconciliationBreak
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus

Labels = tuple[str, ...]
_OPEN_WITHDRAWAL = (WithdrawalStatus.PENDING.value, WithdrawalStatus.PROCESSING.value)


@dataclass
class Gauges:
    # (provider, status, method, currency) -> (count, amount in minor units)
    deposits: dict[Labels, tuple[int, int]] = field(default_factory=dict)
    withdrawals: dict[Labels, tuple[int, int]] = field(default_factory=dict)
    jobs: dict[Labels, int] = field(default_factory=dict)  # (kind, status)
    oldest_due_seconds: dict[Labels, float] = field(default_factory=dict)  # (kind,)
    stuck_withdrawals: dict[Labels, int] = field(default_factory=dict)  # (provider,)
    unknown_withdrawals: dict[Labels, int] = field(default_factory=dict)  # (provider,)
    open_exceptions: dict[Labels, int] = field(default_factory=dict)  # (provider,)
    open_breaks: dict[Labels, int] = field(default_factory=dict)  # (provider, kind)
    unprocessed_callbacks: dict[Labels, int] = field(default_factory=dict)  # (provider,)


async def read_gauges(session: AsyncSession, now: dt.datetime) -> Gauges:
    gauges = Gauges()
    rows1 = await session.execute(
        select(
            Deposit.provider,
            Deposit.status,
            Deposit.instrument,
            Deposit.currency,
            func.count(),
            func.coalesce(func.sum(Deposit.amount), 0),
        ).group_by(Deposit.provider, Deposit.status, Deposit.instrument, Deposit.currency)
    )
    for provider, status, method, currency, count, amount in rows1:
        gauges.deposits[(provider, status, method, currency)] = (int(count), int(amount))
    rows2 = await session.execute(
        select(
            Withdrawal.provider,
            Withdrawal.status,
            Withdrawal.currency,
            func.count(),
            func.coalesce(func.sum(Withdrawal.amount), 0),
        ).group_by(Withdrawal.provider, Withdrawal.status, Withdrawal.currency)
    )
    for provider, status, currency, count, amount in rows2:
        # One payout method today; the label keeps room for more without renaming.
        gauges.withdrawals[(provider, status, "bank_transfer", currency)] = (
            int(count),
            int(amount),
        )
    rows3 = await session.execute(
        select(Job.kind, Job.status, func.count())
        .where(Job.status != JobStatus.DONE)
        .group_by(Job.kind, Job.status)
    )
    for kind, status, count in rows3:
        gauges.jobs[(kind, status)] = int(count)
    rows4 = await session.execute(
        select(Job.kind, func.min(Job.run_at))
        .where(Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)), Job.run_at <= now)
        .group_by(Job.kind)
    )
    for kind, oldest in rows4:
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
            gauges.oldest_due_seconds[(kind,)] = max(0.0, (now - oldest).total_seconds())
    open_withdrawal = Withdrawal.status.in_(_OPEN_WITHDRAWAL)
    rows5 = await session.execute(
        select(Withdrawal.provider, func.count())
        .where(open_withdrawal, Withdrawal.stuck_since.is_not(None))
        .group_by(Withdrawal.provider)
    )
    gauges.stuck_withdrawals = {(p,): int(c) for p, c in rows5}
    rows6 = await session.execute(
        select(Withdrawal.provider, func.count())
        .where(open_withdrawal, Withdrawal.outcome_unknown.is_(True))
        .group_by(Withdrawal.provider)
    )
    gauges.unknown_withdrawals = {(p,): int(c) for p, c in rows6}
    rows7 = await session.execute(
        select(PaymentException.provider, func.count())
        .where(PaymentException.resolved_at.is_(None))
        .group_by(PaymentException.provider)
    )
    gauges.open_exceptions = {(p,): int(c) for p, c in rows7}
    rows8 = await session.execute(
        select(ReconciliationBreak.provider, ReconciliationBreak.kind, func.count())
        .where(ReconciliationBreak.status == BreakStatus.OPEN)
        .group_by(ReconciliationBreak.provider, ReconciliationBreak.kind)
    )
    gauges.open_breaks = {(p, k): int(c) for p, k, c in rows8}
    rows9 = await session.execute(
        select(ProviderCallback.provider, func.count())
        .where(ProviderCallback.status == CallbackStatus.RECEIVED)
        .group_by(ProviderCallback.provider)
    )
    gauges.unprocessed_callbacks = {(p,): int(c) for p, c in rows9}
    return gauges
