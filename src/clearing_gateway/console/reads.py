"""The console's read queries: the overview's figures, search, cross-merchant lists and
a withdrawal's timeline. Every query is bounded (a day, a limit, an indexed key) so a
page stays fast over millions of rows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, literal, select, union_all
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
    # Each figure family is one round trip (UNION ALL, scalar subqueries): on a busy
    # database the page costs four queries, not fifteen.

    async def flows(self, since: dt.datetime) -> list[Flow]:
        parts = []
        for kind, model in (("deposit", Deposit), ("withdrawal", Withdrawal)):
            table: Any = model
            parts.append(
                select(
                    literal(kind).label("kind"),
                    table.provider,
                    table.status,
                    table.currency,
                    func.count().label("n"),
                    func.coalesce(func.sum(table.amount), 0).label("volume"),
                )
                .where(table.created_at >= since)
                .group_by(table.provider, table.status, table.currency)
            )
        flows: dict[tuple[str, str], Flow] = {}
        for kind, provider, status, currency, count, volume in await self.session.execute(
            union_all(*parts)
        ):
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
        parts = []
        for kind, model in (("deposit", Deposit), ("withdrawal", Withdrawal)):
            table: Any = model
            parts.append(
                select(literal(kind).label("kind"), table.status, func.count().label("n"))
                .where(table.merchant_id == merchant_id, table.created_at >= since)
                .group_by(table.status)
            )
        out = {"deposit": (0, 0), "withdrawal": (0, 0)}
        for kind, status, count in await self.session.execute(union_all(*parts)):
            total, good = out[kind]
            out[kind] = (
                total + int(count),
                good + (int(count) if status in SUCCESSFUL[kind] else 0),
            )
        return out

    async def hourly_volume(self, since: dt.datetime) -> list[tuple[str, int, int]]:
        """(hour "HH", deposit volume, withdrawal volume) in minor units, IDR only."""
        parts = []
        for kind, model in (("deposit", Deposit), ("withdrawal", Withdrawal)):
            table: Any = model
            if self._dialect == "postgresql":
                hour = func.to_char(func.timezone("UTC", table.created_at), "HH24")
            else:
                hour = func.strftime("%H", table.created_at)
            parts.append(
                select(
                    literal(kind).label("kind"),
                    hour.label("hour"),
                    func.coalesce(func.sum(table.amount), 0).label("volume"),
                )
                .where(table.created_at >= since, table.currency == "IDR")
                .group_by(hour)
            )
        buckets: dict[str, list[int]] = {}
        for kind, label, volume in await self.session.execute(union_all(*parts)):
            buckets.setdefault(str(label), [0, 0])[0 if kind == "deposit" else 1] += int(volume)
        return [(h, v[0], v[1]) for h, v in sorted(buckets.items())]

    async def webhook_lags(self, since: dt.datetime) -> list[float]:
        """Seconds from event to successful delivery, for the latest 500 since `since`."""
        rows = await self.session.execute(
            select(WebhookDelivery.created_at, WebhookEvent.created_at)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.created_at >= since, WebhookDelivery.status == "succeeded")
            .order_by(WebhookDelivery.created_at.desc())
            .limit(500)
        )
        return [max(0.0, (sent - made).total_seconds()) for sent, made in rows]

    async def counters(
        self, now: dt.datetime, today: dt.datetime, day_ago: dt.datetime
    ) -> dict[str, int]:
        """Work waiting and health counts, one query of scalar subqueries."""

        def count(model: Any, *where: Any) -> Any:
            return select(func.count()).select_from(model).where(*where).scalar_subquery()

        row = (
            await self.session.execute(
                select(
                    count(Withdrawal, Withdrawal.stuck_since.is_not(None)).label("stuck"),
                    count(PaymentException, PaymentException.resolved_at.is_(None)).label(
                        "exceptions"
                    ),
                    count(
                        ReconciliationBreak, ReconciliationBreak.status == BreakStatus.OPEN
                    ).label("breaks"),
                    count(
                        ProviderCallback, ProviderCallback.status == CallbackStatus.RECEIVED
                    ).label("callbacks_waiting"),
                    count(
                        ProviderCallback,
                        ProviderCallback.status == CallbackStatus.REJECTED,
                        ProviderCallback.received_at >= day_ago,
                    ).label("callbacks_rejected"),
                    count(Job, Job.status == JobStatus.PENDING).label("jobs_pending"),
                    count(Job, Job.status == JobStatus.PENDING, Job.run_at <= now).label(
                        "jobs_due"
                    ),
                    count(Job, Job.status == JobStatus.RUNNING).label("jobs_running"),
                    count(Job, Job.status == JobStatus.FAILED).label("jobs_failed"),
                    count(WebhookDelivery, WebhookDelivery.created_at >= today).label(
                        "webhook_attempts"
                    ),
                    count(
                        WebhookDelivery,
                        WebhookDelivery.created_at >= today,
                        WebhookDelivery.status == "succeeded",
                    ).label("webhook_succeeded"),
                )
            )
        ).one()
        return {key: int(value or 0) for key, value in row._mapping.items()}

    # --- search -------------------------------------------------------------------------

    async def search(self, query: str, merchant_id: uuid.UUID | None = None) -> list[Hit]:
        """Whatever the text names: ids, references, VA numbers. Exact matches only, each
        on an index, all probed in one UNION ALL; then only the rows found are read. A
        merchant's search sees only its own rows."""
        text = query.strip()[:128]
        if not text:
            return []
        try:
            as_id: uuid.UUID | None = uuid.UUID(text)
        except ValueError:
            as_id = None
        probes: list[Any] = []

        def probe(kind: str, model: Any, *where: Any) -> None:
            if merchant_id is not None and hasattr(model, "merchant_id"):
                where = (*where, model.merchant_id == merchant_id)
            probes.append(
                select(literal(kind).label("kind"), cast(model.id, String).label("id")).where(
                    *where
                )
            )

        if as_id is not None:
            for kind, model in _ID_KINDS:
                if merchant_id is None or hasattr(model, "merchant_id"):
                    probe(kind, model, model.id == as_id)
        probe("withdrawal", Withdrawal, Withdrawal.merchant_reference == text)
        probe("withdrawal", Withdrawal, Withdrawal.provider_reference == text)
        probe("withdrawal", Withdrawal, Withdrawal.provider_transaction_id == text)
        probe(
            "deposit", Deposit, Deposit.provider.in_(PROVIDERS), Deposit.payment_request_id == text
        )
        probe("virtual account", VirtualAccount, VirtualAccount.virtual_account_no == text)
        found = list(
            dict.fromkeys(
                (kind, key) for kind, key in await self.session.execute(union_all(*probes))
            )
        )
        hits = [await self._hit(kind, uuid.UUID(str(key))) for kind, key in found[:50]]
        return [h for h in hits if h is not None]

    async def _hit(self, kind: str, key: uuid.UUID) -> Hit | None:
        model = dict((*_ID_KINDS, ("virtual account", VirtualAccount)))[kind]
        row: Any = await self.session.get(model, key)
        if row is None:
            return None
        if kind == "deposit":
            return _deposit_hit(row)
        if kind == "withdrawal":
            return _withdrawal_hit(row)
        if kind == "virtual account":
            return Hit(
                kind,
                f"VA {row.virtual_account_no} ({row.bank_code}, {row.provider}) "
                f"of user {row.user_ref}: {row.status}",
                f"/console/ops/deposits?va={row.virtual_account_no}",
                row.merchant_id,
            )
        if kind == "merchant":
            return Hit(kind, row.name, f"/console/ops/merchants/{row.id}", row.id)
        if kind == "webhook":
            return Hit(
                kind,
                f"Webhook {row.event_type} → {row.url}",
                f"/console/ops/queues/webhooks?webhook={row.id}&status=all",
                row.merchant_id,
            )
        if kind in ("webhook delivery", "webhook event"):
            label = (
                f"Delivery #{row.attempt} of {row.event_type} for {row.transaction_id}: "
                f"{row.status}"
                if kind == "webhook delivery"
                else f"{row.event_type} for {row.transaction_id}"
            )
            return Hit(
                kind,
                label,
                f"/console/ops/queues/webhooks?transaction={row.transaction_id}&status=all",
                row.merchant_id,
            )
        if kind == "provider callback":
            return Hit(
                kind,
                f"{row.provider}/{row.channel}: {row.status}",
                f"/console/ops/queues/callbacks/{row.id}",
                None,
            )
        if kind == "payment exception":
            return Hit(
                kind,
                f"{row.reason} ({row.virtual_account_no})",
                "/console/ops/queues/exceptions?all=1",
                row.merchant_id,
            )
        return Hit(kind, f"{row.kind}: {row.status}", "/console/ops/queues/jobs", None)

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

    async def failed_jobs(self, limit: int = 100) -> Sequence[Job]:
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


# Tables whose primary key the search box looks up. Job and ProviderCallback have no
# merchant: a merchant's search never probes them.
_ID_KINDS: tuple[tuple[str, Any], ...] = (
    ("deposit", Deposit),
    ("withdrawal", Withdrawal),
    ("merchant", Merchant),
    ("webhook", Webhook),
    ("webhook delivery", WebhookDelivery),
    ("webhook event", WebhookEvent),
    ("provider callback", ProviderCallback),
    ("payment exception", PaymentException),
    ("job", Job),
)


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
