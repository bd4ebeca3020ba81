"""All SQL of the ledger.

Balance changes are single conditional UPDATE … RETURNING statements: no balance is
ever read into Python, changed and written back. Under READ COMMITTED a concurrent
updater waits for the row, then re-evaluates the WHERE against the committed values,
so two holds can never both spend the same rupiah.
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.ledger.errors import InsufficientFunds
from clearing_gateway.ledger.models import (
    FeeSchedule,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    LedgerTransfer,
)

if TYPE_CHECKING:
    from clearing_gateway.ledger.shared_rows import DeferredChange


@dataclass
class Delta:
    """How one event changes one account's four counters."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def available_change(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def is_zero(self) -> bool:
        return not (
            self.debits_pending or self.debits_posted or self.credits_pending or self.credits_posted
        )


def available_expr() -> ColumnElement[int]:
    return LedgerAccount.credits_posted - LedgerAccount.debits_posted - LedgerAccount.debits_pending


# Hot-path statements are built once on the Core tables: building SQLAlchemy expressions
# (and the ORM bulk path) per call costs more CPU than the round trips themselves.
_accounts = cast(Table, LedgerAccount.__table__)
_transfers = cast(Table, LedgerTransfer.__table__)
_postings = cast(Table, LedgerPosting.__table__)
_entries = cast(Table, LedgerEntry.__table__)


def _build_apply() -> Any:
    a = _accounts.c
    new_available = (
        a.credits_posted
        + bindparam("d_credits_posted")
        - a.debits_posted
        - bindparam("d_debits_posted")
        - a.debits_pending
        - bindparam("d_debits_pending")
    )
    return (
        update(_accounts)
        .where(
            a.id == bindparam("account_id"),
            # The whole overdraft rule: re-evaluated on the latest committed row.
            or_(not_(a.must_not_go_negative), new_available >= 0),
        )
        .values(
            debits_pending=a.debits_pending + bindparam("d_debits_pending"),
            debits_posted=a.debits_posted + bindparam("d_debits_posted"),
            credits_pending=a.credits_pending + bindparam("d_credits_pending"),
            credits_posted=a.credits_posted + bindparam("d_credits_posted"),
            version=a.version + 1,
            updated_at=bindparam("now"),
        )
        .returning(
            a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.version
        )
    )


_APPLY = _build_apply()


def _apply_params(key: AccountKey, delta: Delta, now: dt.datetime) -> dict[str, Any]:
    return {
        "account_id": key.id,
        "d_debits_pending": delta.debits_pending,
        "d_debits_posted": delta.debits_posted,
        "d_credits_pending": delta.credits_pending,
        "d_credits_posted": delta.credits_posted,
        "now": now,
    }


def entry_row(
    key: AccountKey, row: Any, transfer_id: str, event: str, delta: Delta, now: dt.datetime
) -> dict[str, Any]:
    """A ledger entry: the change and the account's counters right after it."""
    return {
        "account_id": key.id,
        "version": row.version,
        "transfer_id": transfer_id,
        "event": event,
        "debits_pending_delta": delta.debits_pending,
        "debits_posted_delta": delta.debits_posted,
        "credits_pending_delta": delta.credits_pending,
        "credits_posted_delta": delta.credits_posted,
        "debits_pending": row.debits_pending,
        "debits_posted": row.debits_posted,
        "credits_pending": row.credits_pending,
        "credits_posted": row.credits_posted,
        "created_at": now,
    }


def apply_deferred_changes(session: Session, changes: Sequence[DeferredChange]) -> None:
    """The deferred changes, at commit (sync: runs in the session's before_commit hook).
    In the accounts' lock order (vaults, then system accounts, each by id), so two
    committers never wait on each other and a vault locked earlier in a transaction is
    never waited for while a shared row is held; the sort is stable, so one account's
    changes keep the order they were made in.

    A hold checked at commit (`hold(check_at_commit=True)`) that would overdraw its
    vault raises InsufficientFunds: the COMMIT fails and the transaction rolls back."""
    ordered = sorted(changes, key=lambda c: c.key.lock_order)
    if session.get_bind().dialect.name == "postgresql":
        # One round trip (migration i17b0001): the rows stay locked only for the COMMIT.
        refused = session.execute(
            _APPLY_ALL,
            {
                "ids": [c.key.id for c in ordered],
                "dp": [c.delta.debits_pending for c in ordered],
                "dpo": [c.delta.debits_posted for c in ordered],
                "cp": [c.delta.credits_pending for c in ordered],
                "cpo": [c.delta.credits_posted for c in ordered],
                "transfers": [c.transfer_id for c in ordered],
                "events": [c.event for c in ordered],
                "made_at": [c.now for c in ordered],
            },
        ).scalar()
        if refused is not None:
            raise InsufficientFunds(next(c.key.code for c in ordered if c.key.id == refused))
        return
    entries = []
    for change in ordered:
        delta = change.delta
        row = session.execute(_APPLY, _apply_params(change.key, delta, change.now)).first()
        if row is None:
            raise InsufficientFunds(change.key.code)
        entries.append(
            entry_row(change.key, row, change.transfer_id, change.event, delta, change.now)
        )
    session.execute(insert(_entries), entries)


_APPLY_ALL = text(
    "SELECT gateway_ledger_apply(CAST(:ids AS uuid[]), CAST(:dp AS bigint[]), "
    "CAST(:dpo AS bigint[]), CAST(:cp AS bigint[]), CAST(:cpo AS bigint[]), "
    "CAST(:transfers AS text[]), CAST(:events AS text[]), CAST(:made_at AS timestamptz[]))"
)


_INSERT_IGNORE: dict[tuple[str, str], Any] = {}
_INSERT_TRANSFER: dict[str, Any] = {}


def _insert_ignore(dialect: str, table: Table) -> Any:
    statement = _INSERT_IGNORE.get((dialect, table.name))
    if statement is None:
        statement = insert_ignoring_conflicts(dialect, table, [c.name for c in table.primary_key])
        _INSERT_IGNORE[(dialect, table.name)] = statement
    return statement


# Per engine (a database): the ids of accounts known to exist and committed.
_KNOWN_ACCOUNTS: weakref.WeakKeyDictionary[Engine, set[uuid.UUID]] = weakref.WeakKeyDictionary()


def _known_accounts(session: AsyncSession) -> set[uuid.UUID]:
    engine = session.get_bind().engine  # a Connection's engine, or the Engine itself
    return _KNOWN_ACCOUNTS.setdefault(engine, set())


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # --- accounts -------------------------------------------------------------------

    async def ensure_accounts(self, keys: Sequence[AccountKey], now: dt.datetime) -> None:
        """Create missing accounts, in id order so concurrent creators cannot deadlock.

        An account seen to exist is remembered for the engine (accounts are never
        deleted), and not inserted again: the INSERT would cost a round trip per
        transfer, and on a hot row it waits for whichever transaction is committing an
        update of that row (a unique check cannot pass an uncommitted row version)."""
        known = _known_accounts(self.session)
        unique = sorted(
            {key.id: key for key in keys if key.id not in known}.values(), key=lambda k: k.id
        )
        if not unique:
            return
        rows = [
            {
                "id": key.id,
                "code": key.code,
                "kind": key.kind.value,
                "merchant_id": key.merchant_id,
                "provider": key.provider,
                "vault_type": key.vault_type,
                "currency": key.currency,
                "must_not_go_negative": key.must_not_go_negative,
                "debits_pending": 0,
                "debits_posted": 0,
                "credits_pending": 0,
                "credits_posted": 0,
                "version": 0,
                "created_at": now,
                "updated_at": now,
            }
            for key in unique
        ]
        statement = _insert_ignore(self._dialect, _accounts).returning(_accounts.c.id)
        inserted = set((await self.session.execute(statement, rows)).scalars())
        # Only the ones that were there already are known to be committed; the ones this
        # transaction created are remembered the next time they are met.
        known.update(key.id for key in unique if key.id not in inserted)

    async def apply(self, key: AccountKey, delta: Delta, now: dt.datetime) -> Any:
        """Change one account's counters; None when it would overdraw a vault."""
        return (await self.session.execute(_APPLY, _apply_params(key, delta, now))).first()

    async def accounts(
        self, merchant_id: uuid.UUID | None = None, *, vaults_only: bool = False
    ) -> Sequence[LedgerAccount]:
        statement = select(LedgerAccount).order_by(LedgerAccount.code)
        if merchant_id is not None:
            statement = statement.where(LedgerAccount.merchant_id == merchant_id)
        if vaults_only:
            statement = statement.where(LedgerAccount.merchant_id.is_not(None))
        statement = statement.execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).all()

    async def account(self, key: AccountKey) -> LedgerAccount | None:
        return await self.session.scalar(
            select(LedgerAccount)
            .where(LedgerAccount.id == key.id)
            .execution_options(populate_existing=True)
        )

    async def credits_posted_since(self, key: AccountKey, since: dt.datetime) -> int:
        """What was posted to the account's credit side at or after `since` (from its
        entries: the counters alone cannot say when money arrived)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.credits_posted_delta), 0)).where(
                LedgerEntry.account_id == key.id,
                LedgerEntry.created_at >= since,
                LedgerEntry.credits_posted_delta > 0,
            )
        )
        return int(total or 0)

    # --- transfers ------------------------------------------------------------------

    async def insert_transfer(self, values: dict[str, Any]) -> bool:
        """True when this call created the transfer, False when the id already exists."""
        statement = _INSERT_TRANSFER.get(self._dialect)
        if statement is None:
            statement = _insert_ignore(self._dialect, _transfers).returning(_transfers.c.id)
            _INSERT_TRANSFER[self._dialect] = statement
        return (await self.session.execute(statement, values)).first() is not None

    async def transfer(
        self, transfer_id: str, *, for_update: bool = False
    ) -> LedgerTransfer | None:
        statement = (
            select(LedgerTransfer)
            .where(LedgerTransfer.id == transfer_id)
            .execution_options(populate_existing=True)
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def set_status(self, transfer_id: str, status: str, now: dt.datetime) -> None:
        stamp = {"posted": "posted_at", "voided": "voided_at"}[status]
        await self.session.execute(
            update(LedgerTransfer)
            .where(LedgerTransfer.id == transfer_id)
            .values({"status": status, stamp: now})
            .execution_options(synchronize_session=False)
        )

    async def insert_postings(
        self, transfer_id: str, stage: str, postings: Sequence[Posting]
    ) -> None:
        rows = [
            {
                "transfer_id": transfer_id,
                "stage": stage,
                "seq": seq,
                "debit_account_id": posting.debit.id,
                "credit_account_id": posting.credit.id,
                "amount": posting.amount,
            }
            for seq, posting in enumerate(postings)
        ]
        await self.session.execute(insert(_postings), rows)

    async def postings(self, transfer_id: str, stage: str) -> list[Posting]:
        debit = aliased(LedgerAccount)
        credit = aliased(LedgerAccount)
        statement = (
            select(debit.code, credit.code, LedgerPosting.amount)
            .join(debit, debit.id == LedgerPosting.debit_account_id)
            .join(credit, credit.id == LedgerPosting.credit_account_id)
            .where(LedgerPosting.transfer_id == transfer_id, LedgerPosting.stage == stage)
            .order_by(LedgerPosting.seq)
        )
        return [
            Posting(AccountKey.from_code(d), AccountKey.from_code(c), amount)
            for d, c, amount in (await self.session.execute(statement)).all()
        ]

    async def insert_entries(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(_entries), rows)

    # --- verification ---------------------------------------------------------------

    async def accounts_disagreeing_with_entries(self) -> list[Any]:
        """Accounts whose counters differ from the sum of their entries."""
        sums = (
            select(
                LedgerEntry.account_id,
                func.sum(LedgerEntry.debits_pending_delta).label("dpend"),
                func.sum(LedgerEntry.debits_posted_delta).label("dpost"),
                func.sum(LedgerEntry.credits_pending_delta).label("cpend"),
                func.sum(LedgerEntry.credits_posted_delta).label("cpost"),
                func.max(LedgerEntry.version).label("top"),
                func.count().label("n"),
            )
            .group_by(LedgerEntry.account_id)
            .subquery()
        )
        zero = literal(0)
        statement = (
            select(
                LedgerAccount.code,
                LedgerAccount.debits_pending,
                LedgerAccount.debits_posted,
                LedgerAccount.credits_pending,
                LedgerAccount.credits_posted,
                LedgerAccount.version,
                func.coalesce(sums.c.dpend, zero).label("dpend"),
                func.coalesce(sums.c.dpost, zero).label("dpost"),
                func.coalesce(sums.c.cpend, zero).label("cpend"),
                func.coalesce(sums.c.cpost, zero).label("cpost"),
                func.coalesce(sums.c.top, zero).label("top"),
                func.coalesce(sums.c.n, zero).label("n"),
            )
            .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
            .where(
                or_(
                    LedgerAccount.debits_pending != func.coalesce(sums.c.dpend, zero),
                    LedgerAccount.debits_posted != func.coalesce(sums.c.dpost, zero),
                    LedgerAccount.credits_pending != func.coalesce(sums.c.cpend, zero),
                    LedgerAccount.credits_posted != func.coalesce(sums.c.cpost, zero),
                    LedgerAccount.version != func.coalesce(sums.c.top, zero),
                    LedgerAccount.version != func.coalesce(sums.c.n, zero),
                )
            )
            .order_by(LedgerAccount.code)
        )
        return list((await self.session.execute(statement)).all())

    async def broken_entry_chains(self) -> list[Any]:
        """Entries whose running balance is not the previous one plus their change."""
        previous = {
            column: func.lag(getattr(LedgerEntry, column), 1, 0)
            .over(partition_by=LedgerEntry.account_id, order_by=LedgerEntry.version)
            .label(f"prev_{column}")
            for column in ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
        }
        chained = select(
            LedgerEntry.account_id,
            LedgerEntry.version,
            LedgerEntry.transfer_id,
            *[getattr(LedgerEntry, c) for c in previous],
            *[getattr(LedgerEntry, f"{c}_delta") for c in previous],
            *previous.values(),
        ).subquery()
        mismatch = [
            chained.c[column] != chained.c[f"prev_{column}"] + chained.c[f"{column}_delta"]
            for column in previous
        ]
        statement = (
            select(LedgerAccount.code, chained.c.version, chained.c.transfer_id)
            .join(LedgerAccount, LedgerAccount.id == chained.c.account_id)
            .where(or_(*mismatch))
            .order_by(LedgerAccount.code, chained.c.version)
        )
        return list((await self.session.execute(statement)).all())

    async def unbalanced_transfer_events(self) -> list[Any]:
        """(transfer, event, currency) groups whose debits and credits differ."""
        posted = func.sum(LedgerEntry.credits_posted_delta - LedgerEntry.debits_posted_delta)
        pending = func.sum(LedgerEntry.credits_pending_delta - LedgerEntry.debits_pending_delta)
        statement = (
            select(
                LedgerEntry.transfer_id,
                LedgerEntry.event,
                LedgerAccount.currency,
                posted.label("posted"),
                pending.label("pending"),
            )
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .group_by(LedgerEntry.transfer_id, LedgerEntry.event, LedgerAccount.currency)
            .having(or_(posted != 0, pending != 0))
            .order_by(LedgerEntry.transfer_id)
        )
        return list((await self.session.execute(statement)).all())

    async def currency_totals(self) -> list[Any]:
        """Per currency: sum of (credits - debits), posted and pending; both must be zero."""
        statement = (
            select(
                LedgerAccount.currency,
                func.sum(LedgerAccount.credits_posted - LedgerAccount.debits_posted).label(
                    "posted"
                ),
                func.sum(LedgerAccount.credits_pending - LedgerAccount.debits_pending).label(
                    "pending"
                ),
            )
            .group_by(LedgerAccount.currency)
            .order_by(LedgerAccount.currency)
        )
        return list((await self.session.execute(statement)).all())

    async def negative_accounts(self) -> list[Any]:
        """Vaults below zero, or any account with a negative counter."""
        statement = (
            select(LedgerAccount.code, available_expr().label("available"))
            .where(
                or_(
                    and_(LedgerAccount.must_not_go_negative, available_expr() < 0),
                    LedgerAccount.debits_pending < 0,
                    LedgerAccount.debits_posted < 0,
                    LedgerAccount.credits_pending < 0,
                    LedgerAccount.credits_posted < 0,
                )
            )
            .order_by(LedgerAccount.code)
        )
        return list((await self.session.execute(statement)).all())

    async def pending_transfers_without_holds(self) -> list[str]:
        """Pending transfers with no pending legs (a hold that reserves nothing)."""
        legs = select(LedgerPosting.transfer_id).where(LedgerPosting.stage == "pending")
        statement = select(LedgerTransfer.id).where(
            LedgerTransfer.status == "pending", LedgerTransfer.id.not_in(legs)
        )
        return list((await self.session.scalars(statement)).all())


class FeeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, provider: str, method: str) -> FeeSchedule | None:
        return await self.session.scalar(
            select(FeeSchedule)
            .where(FeeSchedule.provider == provider, FeeSchedule.method == method)
            .execution_options(populate_existing=True)
        )

    async def upsert(self, provider: str, method: str, flat: int, percent_bps: int) -> None:
        values = {
            "provider": provider,
            "method": method,
            "flat": flat,
            "percent_bps": percent_bps,
            "updated_at": utcnow(),
        }
        changed = ("flat", "percent_bps", "updated_at")
        if self.session.get_bind().dialect.name == "postgresql":
            pg = postgresql_insert(FeeSchedule).values(values)
            pg = pg.on_conflict_do_update(
                index_elements=["provider", "method"], set_={c: pg.excluded[c] for c in changed}
            )
            await self.session.execute(pg)
            return
        lite = sqlite_insert(FeeSchedule).values(values)
        lite = lite.on_conflict_do_update(
            index_elements=["provider", "method"], set_={c: lite.excluded[c] for c in changed}
        )
        await self.session.execute(lite)

    async def all(self) -> Sequence[FeeSchedule]:
        statement = (
            select(FeeSchedule)
            .order_by(FeeSchedule.provider, FeeSchedule.method)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).all()
