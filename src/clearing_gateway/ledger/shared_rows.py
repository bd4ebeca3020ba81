"""Rows that cannot refuse are updated last, just before COMMIT.

Every deposit credits a merchant vault and debits the provider's clearing account (and
credits fee revenue). The clearing and fee rows are one per provider and every deposit
of that provider updates them; a busy merchant's vault is updated by every one of its
deposits. Updated in the middle of the transaction, their row locks would be held
through everything that follows (the webhook event and its deliveries, the outbox job,
the inbox row) and serialise every deposit behind the slowest one.

A change that cannot refuse is kept with the session instead and run in `before_commit`,
after the ORM's own flush, so its lock lives only through the COMMIT: the shared
accounts (no balance limit, `must_not_go_negative` is false) always, and a vault when
its whole transfer cannot lower any vault's available balance (a deposit's credit, a
hold posted or voided). A transfer that may overdraw a vault (a withdrawal's hold, a
sweep) still locks and checks its vaults at once, so the refusal is raised where the
caller can answer it; only its shared rows wait for the COMMIT. At COMMIT the rows are
locked in the accounts' one lock order (vaults, then system accounts), so a transaction
holding a vault never waits for one that holds a shared row and wants that vault.

Rollback safety: each deferred change remembers the open (nested) transactions it was
made in; rolling back any of them (a refused operation's SAVEPOINT, the whole unit of
work) drops it, so a change is applied exactly when its transfer commits. Reads of a
balance inside the same transaction call `apply_deferred` first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.ledger.repository import Delta, apply_deferred_changes

_KEY = "ledger.shared_rows"
_APPLIED_KEY = "ledger.shared_rows.applied"


@dataclass(frozen=True)
class DeferredChange:
    key: AccountKey
    transfer_id: str
    event: str
    delta: Delta
    now: dt.datetime
    opened_in: tuple[SessionTransaction, ...]


def _open_transactions(session: Session) -> tuple[SessionTransaction, ...]:
    chain = []
    transaction = session.get_nested_transaction() or session.get_transaction()
    while transaction is not None:
        chain.append(transaction)
        transaction = transaction.parent
    return tuple(chain)


def defer(
    session: AsyncSession,
    key: AccountKey,
    transfer_id: str,
    event_name: str,
    delta: Delta,
    now: dt.datetime,
) -> None:
    """Apply this change to a shared account when the transaction commits."""
    sync = session.sync_session
    pending: list[DeferredChange] = sync.info.setdefault(_KEY, [])
    pending.append(
        DeferredChange(key, transfer_id, event_name, delta, now, _open_transactions(sync))
    )


def has_deferred(session: AsyncSession) -> bool:
    return bool(session.sync_session.info.get(_KEY))


async def apply_deferred(session: AsyncSession) -> None:
    """Apply the pending shared-account changes now (before a read of those balances)."""
    if has_deferred(session):
        await session.run_sync(_apply)


def _apply(session: Session) -> None:
    pending: list[DeferredChange] = session.info.pop(_KEY, [])
    if pending:
        apply_deferred_changes(session, pending)
        # Applied inside a SAVEPOINT (a read or a refusable transfer in a nested
        # operation), the UPDATEs vanish if that SAVEPOINT rolls back: remember where,
        # so that the changes made outside it are deferred again (_after_rollback).
        within = _open_transactions(session)
        if len(within) > 1:
            applied: list[tuple[DeferredChange, tuple[SessionTransaction, ...]]]
            applied = session.info.setdefault(_APPLIED_KEY, [])
            applied.extend((change, within) for change in pending)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Fired for every SAVEPOINT release too: only the outermost COMMIT applies them.
    if not session.info.get(_KEY) or session.get_nested_transaction() is not None:
        return
    # The ORM's pending rows first, so that the shared locks are the last ones taken.
    session.flush()
    _apply(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction is over (committed, rolled back or closed): nothing it
    # deferred may leak into the session's next transaction.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(_APPLIED_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    pending: list[DeferredChange] = [
        change for change in session.info.get(_KEY, []) if previous not in change.opened_in
    ]
    # Changes applied inside the rolled-back SAVEPOINT but made outside it are owed
    # again; the ones made inside it go with it.
    applied = session.info.get(_APPLIED_KEY, [])
    undone = [change for change, within in applied if previous in within]
    if undone:
        session.info[_APPLIED_KEY] = [entry for entry in applied if previous not in entry[1]]
        pending = [c for c in undone if previous not in c.opened_in] + pending
    if pending:
        session.info[_KEY] = pending
    else:
        session.info.pop(_KEY, None)
