"""Deposits committed in this process, announced to whoever in it waits for one.

The sandbox simulator answers `POST /v1/simulator/deposits/payment` once the deposit
exists. In sandbox mode the sandbox's callback usually comes back to the same process, so
the waiter is woken by the deposit's own COMMIT instead of polling the database every
few tens of milliseconds (which cost a query per waiting request per poll). A wake-up only
says "look now": the waiter still reads the deposit from the database, so a deposit
that committed in another process, or a wake-up whose SAVEPOINT was rolled back, is found
(or not) by that read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "deposits.arrivals"
_waiters: dict[tuple[str, str], set[asyncio.Future[None]]] = {}


def announce(session: AsyncSession, provider: str, payment_id: str) -> None:
    """Wake the waiters of this payment when the session's transaction commits."""
    if _waiters:  # nobody waits (production, a busy pipeline): nothing to remember
        session.sync_session.info.setdefault(_KEY, set()).add((provider, payment_id))


@contextmanager
def waiting_for(provider: str, payment_id: str) -> Iterator[asyncio.Future[None]]:
    """A future resolved when a deposit of this payment commits in this process.
    Enter it before reading the database, so a COMMIT in between is not missed."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    key = (provider, payment_id)
    _waiters.setdefault(key, set()).add(future)
    try:
        yield future
    finally:
        waiting = _waiters.get(key)
        if waiting is not None:
            waiting.discard(future)
            if not waiting:
                del _waiters[key]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for key in session.info.pop(_KEY, ()):
        for future in _waiters.get(key, ()):
            if not future.done():
                future.set_result(None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (or committed: already announced)
        session.info.pop(_KEY, None)
