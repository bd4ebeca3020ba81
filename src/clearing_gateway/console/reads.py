"""The console's read queries: the overview's figures, search, cross-merchant lists and
a withdrawal's timeline. Every query is bounded (a day, a limit, an indexed key) so a
page stays fast over millions of rows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.console.models import ConsoleAuditEntry
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.ledger.models import LedgerTransfer
from clearing_gateway.merchants.models import Merchant
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.reconciliation.models import BreakStatus, ReconciliationBreak
from clearing_gateway.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus

PROVIDERS = ("topremit", "finpay", "finan")
OPEN_WITHDRAWAL = (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING)
SUCCESSFUL = {"deposit": ("COMPLETED",), "withdrawal": ("SUCCESS",)}


@dataclass
class Flow:
    """One provider's deposits or withdrawals since the start of the day."""

    provider: str
    kind: str
    count: int = 0
    volume: dict[str, int] = field(default_factory=dict)  # currency → minor units
    succeeded: int = 0
    finished: int = 0  # succeeded or failed: the success rate's base


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    href: str
    merchant_id: uuid.UUID | None


@dataclass(frozen=True)
class ListFilters:
    merchant_id: uuid.UUID | None = None
    provider: str | None = None
    status: str | None = None
    user_id: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    limit: int = 50
    offset: int = 0


class ConsoleReads:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # --- overview -----------------------------------------------------------------------

    async def flows(self, since: dt.datetime) -> list[Flow]:
        flows: dict[tuple[str, str], Flow] = {}
        for kind, model in (("deposit", Deposit), ("withdrawal", Withdrawal)):
            table: Any = model
            rows = await self.session.execute(
                select(
                    table.provider,
                    table.status,
                    table.currency,
                    func.count(),
                    func.coalesce(func.sum(table.amount), 0),
                )
                .where(table.created_at >= since)
                .group_by(table.provider, table.status, table.currency)
            )
            for provider, status, currency, count, volume in rows:
                flow = flows.setdefault((kind, provider), Flow(provider, kind))
                flow.count += int(count)
                flow.volume[currency] = flow.volume.get(currency, 0) + int(volume)
                if status in SUCCESSFUL[kind]:
                    flow.succeeded += int(count)
                    flow.finished += int(count)
                elif status == "FAILED":
                    flow.finished += int(count)
        return sorted(flows.values(), key=lambda f: (f.kind, f.provider))

    async def own_counts(
        self, merchant_id: uuid.UUID, since: dt.datetime
    ) -> dict[str, tuple[int, int]]:
        """A merchant's (count, succeeded) since `since`, per kind, on its own index."""
        out = {}
        for kind, model in (("deposit", Deposit), ("withdrawal", Withdrawal)):
            table: Any = model
            rows = await self.session.execute(
                select(table.status, func.count())
                .where(table.merchant_id == merchant_id, table.created_at >= since)
                .group_by(table.status)
            )
            counts = {status: int(n) for status, n in rows}
            out[kind] = (
                sum(counts.values()),
                sum(counts.get(s, 0) for s in SUCCESSFUL[kind]),
            )
        return out

    async def hourly_volume(self, since: dt.datetime) -> list[tuple[str, int, int]]:
        """(hour "HH", deposit volume, withdrawal volume) in minor units, IDR only."""
        buckets: dict[str, list[int]] = {}
        for index, model in enumerate((Deposit, Withdrawal)):
            table: Any = model
            if self._dialect == "postgresql":
                hour = func.to_char(func.timezone("UTC", table.created_at), "HH24")
            else:
                hour = func.strftime("%H", table.created_at)
            rows = await self.session.execute(
                select(hour, func.coalesce(func.sum(table.amount), 0))
                .where(table.created_at >= since, table.currency == "IDR")
                .group_by(hour)
            )
            for label, volume in rows:
                buckets.setdefault(str(label), [0, 0])[index] += int(volume)
        return [(h, v[0], v[1]) for h, v in sorted(buckets.items())]

    async def webhook_health(self, since: dt.datetime) -> tuple[int, int, list[float]]:
        """(attempts, succeeded, lags in seconds of the latest successful first attempts)."""
        rows = await self.session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.created_at >= since)
            .group_by(WebhookDelivery.status)
        )
        counts = {status: int(n) for status, n in rows}
        lag_rows = await self.session.execute(
            select(WebhookDelivery.created_at, WebhookEvent.created_at)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.created_at >= since, WebhookDelivery.status == "succeeded")
            .order_by(WebhookDelivery.created_at.desc())
            .limit(500)
        )
        lags = [max(0.0, (sent - made).total_seconds()) for sent, made in lag_rows]
        return sum(counts.values()), counts.get("succeeded", 0), lags

    async def job_depth(self, now: dt.datetime) -> dict[str, int]:
        rows = await self.session.execute(
            select(Job.status, func.count())
            .where(Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)))
            .group_by(Job.status)
        )
        depth = {status: int(n) for status, n in rows}
        depth["due"] = int(
            await self.session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status == JobStatus.PENDING, Job.run_at <= now)
            )
            or 0
        )
        return depth

    async def work_counts(self) -> dict[str, int]:
        async def count(statement: Any) -> int:
            return int(await self.session.scalar(statement) or 0)

        return {
            "stuck": await count(
                select(func.count())
                .select_from(Withdrawal)
                .where(Withdrawal.stuck_since.is_not(None))
            ),
            "exceptions": await count(
                select(func.count())
                .select_from(PaymentException)
                .where(PaymentException.resolved_at.is_(None))
            ),
            "breaks": await count(
                select(func.count())
                .select_from(ReconciliationBreak)
                .where(ReconciliationBreak.status == BreakStatus.OPEN)
            ),
            "callbacks_waiting": await count(
                select(func.count())
                .select_from(ProviderCallback)
                .where(ProviderCallback.status == CallbackStatus.RECEIVED)
            ),
        }

    async def rejected_callbacks(self, since: dt.datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(ProviderCallback)
                .where(
                    ProviderCallback.status == CallbackStatus.REJECTED,
                    ProviderCallback.received_at >= since,
                )
            )
            or 0
        )

    # --- search -------------------------------------------------------------------------

    async def search(self, query: str, merchant_id: uuid.UUID | None = None) -> list[Hit]:
        """Whatever the text names: ids, references, VA numbers. Exact matches only, each
        on an index; a merchant's search sees only its own rows."""
        text = query.strip()[:128]
        if not text:
            return []
        hits: list[Hit] = []

        def mine(owner: uuid.UUID | None) -> bool:
            return merchant_id is None or owner == merchant_id

        try:
            as_id: uuid.UUID | None = uuid.UUID(text)
        except ValueError:
            as_id = None
        if as_id is not None:
            deposit = await self.session.get(Deposit, as_id)
            if deposit and mine(deposit.merchant_id):
                hits.append(_deposit_hit(deposit))
            withdrawal = await self.session.get(Withdrawal, as_id)
            if withdrawal and mine(withdrawal.merchant_id):
                hits.append(_withdrawal_hit(withdrawal))
            if merchant_id is None:
                hits.extend(await self._operator_ids(as_id))
            webhook = await self.session.get(Webhook, as_id)
            if webhook and mine(webhook.merchant_id):
                hits.append(
                    Hit(
                        "webhook",
                        f"Webhook {webhook.event_type} → {webhook.url}",
                        f"/console/ops/queues/webhooks?webhook={webhook.id}",
                        webhook.merchant_id,
                    )
                )
            delivery = await self.session.get(WebhookDelivery, as_id)
            if delivery and mine(delivery.merchant_id):
                hits.append(
                    Hit(
                        "webhook delivery",
                        f"Delivery #{delivery.attempt} of {delivery.event_type} "
                        f"for {delivery.transaction_id}: {delivery.status}",
                        f"/console/ops/queues/webhooks?transaction={delivery.transaction_id}",
                        delivery.merchant_id,
                    )
                )
        scope_w = [Withdrawal.merchant_id == merchant_id] if merchant_id else []
        scope_d = [Deposit.merchant_id == merchant_id] if merchant_id else []
        for withdrawal in await self.session.scalars(
            select(Withdrawal).where(Withdrawal.merchant_reference == text, *scope_w).limit(20)
        ):
            hits.append(_withdrawal_hit(withdrawal, "merchant reference"))
        for column in (Withdrawal.provider_reference, Withdrawal.provider_transaction_id):
            for withdrawal in await self.session.scalars(
                select(Withdrawal).where(column == text, *scope_w).limit(20)
            ):
                hits.append(_withdrawal_hit(withdrawal, "provider reference"))
        for deposit in await self.session.scalars(
            select(Deposit)
            .where(Deposit.provider.in_(PROVIDERS), Deposit.payment_request_id == text, *scope_d)
            .limit(20)
        ):
            hits.append(_deposit_hit(deposit, "provider reference"))
        for account in await self.session.scalars(
            select(VirtualAccount)
            .where(
                VirtualAccount.virtual_account_no == text,
                *([VirtualAccount.merchant_id == merchant_id] if merchant_id else []),
            )
            .limit(20)
        ):
            base = "/console/ops/deposits" if merchant_id is None else "/console/m/deposits"
            hits.append(
                Hit(
                    "virtual account",
                    f"VA {account.virtual_account_no} ({account.bank_code}, {account.provider}) "
                    f"of user {account.user_ref}: {account.status}",
                    f"{base}?va={account.virtual_account_no}",
                    account.merchant_id,
                )
            )
        seen: set[str] = set()
        unique = []
        for hit in hits:
            if hit.href + hit.kind not in seen:
                seen.add(hit.href + hit.kind)
                unique.append(hit)
        return unique

    async def _operator_ids(self, as_id: uuid.UUID) -> list[Hit]:
        hits = []
        merchant = await self.session.get(Merchant, as_id)
        if merchant:
            hits.append(
                Hit("merchant", merchant.name, f"/console/ops/merchants/{merchant.id}", merchant.id)
            )
        event = await self.session.get(WebhookEvent, as_id)
        if event:
            hits.append(
                Hit(
                    "webhook event",
                    f"{event.event_type} for {event.transaction_id}",
                    f"/console/ops/queues/webhooks?transaction={event.transaction_id}",
                    event.merchant_id,
                )
            )
        callback = await self.session.get(ProviderCallback, as_id)
        if callback:
            hits.append(
                Hit(
                    "provider callback",
                    f"{callback.provider}/{callback.channel}: {callback.status}",
                    f"/console/ops/queues/callbacks/{callback.id}",
                    None,
                )
            )
        exception = await self.session.get(PaymentException, as_id)
        if exception:
            hits.append(
                Hit(
                    "payment exception",
                    f"{exception.reason} ({exception.virtual_account_no})",
                    "/console/ops/queues/exceptions?all=1",
                    exception.merchant_id,
                )
            )
        job = await self.session.get(Job, as_id)
        if job:
            hits.append(Hit("job", f"{job.kind}: {job.status}", "/console/ops/queues/jobs", None))
        return hits

    # --- lists --------------------------------------------------------------------------

    async def deposits(self, filters: ListFilters, va: str | None = None) -> Sequence[Deposit]:
        statement = _filtered(select(Deposit), Deposit, filters)
        if va:
            statement = statement.where(Deposit.virtual_account_no == va)
        return (
            await self.session.scalars(
                statement.order_by(Deposit.created_at.desc(), Deposit.id.desc())
                .limit(filters.limit + 1)
                .offset(filters.offset)
            )
        ).all()

    async def withdrawals(self, filters: ListFilters) -> Sequence[Withdrawal]:
        statement = _filtered(select(Withdrawal), Withdrawal, filters)
        return (
            await self.session.scalars(
                statement.order_by(Withdrawal.created_at.desc(), Withdrawal.id.desc())
                .limit(filters.limit + 1)
                .offset(filters.offset)
            )
        ).all()

    async def merchant_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids))
        )
        return {row[0]: row[1] for row in rows}

    # --- a withdrawal's timeline ----------------------------------------------------------

    async def ledger_transfers(self, ids: list[str]) -> Sequence[LedgerTransfer]:
        return (
            await self.session.scalars(select(LedgerTransfer).where(LedgerTransfer.id.in_(ids)))
        ).all()

    async def callbacks_mentioning(self, provider: str, reference: str) -> Sequence[Any]:
        # Event keys carry our order id (finpay "<ref>:<code>", finan "cashout:<ref>:…").
        return (
            await self.session.scalars(
                select(ProviderCallback)
                .where(
                    ProviderCallback.provider == provider,
                    ProviderCallback.event_key.like(f"%{_escape_like(reference)}%", escape="\\"),
                )
                .order_by(ProviderCallback.received_at)
                .limit(200)
            )
        ).all()

    async def deliveries_for(
        self, merchant_id: uuid.UUID, transaction_id: str
    ) -> Sequence[WebhookDelivery]:
        return (
            await self.session.scalars(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.merchant_id == merchant_id,
                    WebhookDelivery.transaction_id == transaction_id,
                )
                .order_by(WebhookDelivery.created_at)
                .limit(200)
            )
        ).all()

    async def events_for(self, merchant_id: uuid.UUID, transaction_id: str) -> Sequence[Any]:
        return (
            await self.session.scalars(
                select(WebhookEvent)
                .where(
                    WebhookEvent.merchant_id == merchant_id,
                    WebhookEvent.transaction_id == transaction_id,
                )
                .order_by(WebhookEvent.created_at)
                .limit(50)
            )
        ).all()

    async def audit_for(self, target: str) -> Sequence[ConsoleAuditEntry]:
        return (
            await self.session.scalars(
                select(ConsoleAuditEntry)
                .where(ConsoleAuditEntry.target == target)
                .order_by(ConsoleAuditEntry.created_at)
                .limit(100)
            )
        ).all()

    async def failed_jobs(self, limit: int = 200) -> Sequence[Job]:
        return (
            await self.session.scalars(
                select(Job)
                .where(Job.status == JobStatus.FAILED)
                .order_by(Job.finished_at.desc())
                .limit(limit)
            )
        ).all()

    async def virtual_accounts(
        self, merchant_id: uuid.UUID, limit: int, offset: int
    ) -> Sequence[VirtualAccount]:
        return (
            await self.session.scalars(
                select(VirtualAccount)
                .where(VirtualAccount.merchant_id == merchant_id)
                .order_by(VirtualAccount.created_at.desc())
                .limit(limit + 1)
                .offset(offset)
            )
        ).all()


def _filtered(statement: Any, table: Any, filters: ListFilters) -> Any:
    if filters.merchant_id is not None:
        statement = statement.where(table.merchant_id == filters.merchant_id)
    if filters.provider:
        statement = statement.where(table.provider == filters.provider)
    if filters.status:
        statement = statement.where(table.status == filters.status)
    if filters.user_id:
        statement = statement.where(table.user_ref == filters.user_id)
    if filters.created_from:
        statement = statement.where(table.created_at >= filters.created_from)
    if filters.created_to:
        statement = statement.where(table.created_at <= filters.created_to)
    return statement


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _deposit_hit(deposit: Deposit, how: str = "transaction id") -> Hit:
    return Hit(
        "deposit",
        f"Deposit {deposit.id} ({how}): {deposit.status}, {deposit.provider}, "
        f"VA {deposit.virtual_account_no}",
        f"/console/ops/deposits/{deposit.id}",
        deposit.merchant_id,
    )


def _withdrawal_hit(withdrawal: Withdrawal, how: str = "transaction id") -> Hit:
    return Hit(
        "withdrawal",
        f"Withdrawal {withdrawal.id} ({how}): {withdrawal.status}, "
        f"ref {withdrawal.merchant_reference}",
        f"/console/ops/withdrawals/{withdrawal.id}",
        withdrawal.merchant_id,
    )


__all__ = ["ConsoleReads", "Flow", "Hit", "ListFilters"]


async def merchant_users(
    session: AsyncSession, merchant_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Any]:
    from clearing_gateway.users.models import User

    return (
        await session.scalars(
            select(User)
            .where(User.merchant_id == merchant_id)
            .order_by(User.created_at.desc())
            .limit(limit + 1)
            .offset(offset)
        )
    ).all()
