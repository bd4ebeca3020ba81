"""The ledger's rules: post, hold, post a hold, void a hold, read balances.

Every function runs inside the caller's transaction and only flushes, so a deposit or a
withdrawal moves money in the same commit as its own state change. Each operation runs
in a SAVEPOINT: a refusal (insufficient funds, conflict) leaves nothing behind, even if
the caller catches it and carries on in the same transaction.

Transfers are idempotent on their id: the same call again returns the first result and
changes nothing; the same id with other content raises TransferConflict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.ledger.accounts import AccountKey, AccountKind, Posting
from clearing_gateway.ledger.errors import (
    InsufficientFunds,
    InvalidTransfer,
    TransferConflict,
    TransferNotFound,
    TransferStateError,
)
from clearing_gateway.ledger.models import LedgerAccount, LedgerTransfer
from clearing_gateway.ledger.repository import Delta, LedgerRepository, entry_row
from clearing_gateway.ledger.shared_rows import apply_deferred, defer

MAX_POSTINGS = 64
MAX_TRANSFER_ID = 128
MAX_KIND = 32


@dataclass(frozen=True)
class Transfer:
    id: str
    kind: str
    status: str  # pending | posted | voided
    currency: str
    # Where the money went (posted), is held (pending) or was held (voided).
    postings: tuple[Posting, ...]
    note: str | None
    created_at: dt.datetime
    posted_at: dt.datetime | None
    voided_at: dt.datetime | None

    @property
    def amount(self) -> int:
        return sum(p.amount for p in self.postings)


@dataclass(frozen=True)
class VaultBalance:
    provider: str
    vault_type: str
    currency: str
    available: int  # credits posted - debits posted - held
    pending: int  # held for payouts not yet settled
    updated_at: dt.datetime


@dataclass(frozen=True)
class AccountBalance:
    key: AccountKey
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    version: int
    updated_at: dt.datetime

    @property
    def posted(self) -> int:
        """Posted balance, credit-normal (negative for an asset such as clearing)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


# --- public operations ---------------------------------------------------------------


async def post(
    session: AsyncSession,
    transfer_id: str,
    postings: Sequence[Posting],
    *,
    kind: str,
    note: str | None = None,
) -> Transfer:
    """Move money now: every posting at once, or none of them."""
    return await _create(session, transfer_id, postings, kind=kind, note=note, hold=False)


async def hold(
    session: AsyncSession,
    transfer_id: str,
    postings: Sequence[Posting],
    *,
    kind: str,
    note: str | None = None,
    check_at_commit: bool = False,
) -> Transfer:
    """Reserve money (a pending transfer): it leaves the debited accounts' available
    balance at once and arrives nowhere until `post_pending`.

    `check_at_commit`: the vaults are locked, checked and changed at COMMIT instead of
    now, so a busy merchant's vault row is locked only for the commit; an overdraft
    then raises InsufficientFunds from the COMMIT, which rolls the whole transaction
    back. For a caller whose only answer to a refusal is to roll back (an API request);
    a caller that catches the refusal and carries on must not use it."""
    return await _create(
        session,
        transfer_id,
        postings,
        kind=kind,
        note=note,
        hold=True,
        check_at_commit=check_at_commit,
    )


async def post_pending(
    session: AsyncSession, transfer_id: str, postings: Sequence[Posting] | None = None
) -> Transfer:
    """Settle a hold, once. `postings` may re-split where the money goes (e.g. the final
    fee), but must take exactly the held amount from exactly the held accounts."""
    repository = LedgerRepository(session)
    async with session.begin_nested():
        transfer = await _locked_hold(repository, transfer_id)
        held = await repository.postings(transfer_id, "pending")
        final = list(held) if postings is None else _checked(transfer_id, postings, transfer.kind)
        if postings is not None:
            _check_split(transfer, held, final)
        if transfer.status == "voided":
            raise TransferStateError(transfer_id, "was voided and cannot be posted")
        if transfer.status == "posted":
            posted = await repository.postings(transfer_id, "posted")
            if _canonical(posted) != _canonical(final):
                raise TransferConflict(transfer_id)
            return _view(transfer, posted)
        now = utcnow()
        await repository.ensure_accounts([p.credit for p in final], now)
        await repository.insert_postings(transfer_id, "posted", final)
        deltas: dict[AccountKey, Delta] = defaultdict(Delta)
        for posting in held:
            deltas[posting.debit].debits_pending -= posting.amount
            deltas[posting.credit].credits_pending -= posting.amount
        for posting in final:
            deltas[posting.debit].debits_posted += posting.amount
            deltas[posting.credit].credits_posted += posting.amount
        await _apply(repository, transfer_id, "post_pending", deltas, now)
        await repository.set_status(transfer_id, "posted", now)
        transfer = await _reload(repository, transfer_id)
        return _view(transfer, final)


async def void_pending(session: AsyncSession, transfer_id: str) -> Transfer:
    """Release a hold, once: the reserved money is available again."""
    repository = LedgerRepository(session)
    async with session.begin_nested():
        transfer = await _locked_hold(repository, transfer_id)
        held = await repository.postings(transfer_id, "pending")
        if transfer.status == "posted":
            raise TransferStateError(transfer_id, "was posted and cannot be voided")
        if transfer.status == "voided":
            return _view(transfer, held)
        now = utcnow()
        deltas: dict[AccountKey, Delta] = defaultdict(Delta)
        for posting in held:
            deltas[posting.debit].debits_pending -= posting.amount
            deltas[posting.credit].credits_pending -= posting.amount
        await _apply(repository, transfer_id, "void", deltas, now)
        await repository.set_status(transfer_id, "voided", now)
        transfer = await _reload(repository, transfer_id)
        return _view(transfer, held)


async def get_transfer(session: AsyncSession, transfer_id: str) -> Transfer | None:
    repository = LedgerRepository(session)
    transfer = await repository.transfer(transfer_id)
    if transfer is None:
        return None
    return _view(transfer, await _current_postings(repository, transfer))


async def balances(session: AsyncSession, merchant_id: uuid.UUID) -> list[VaultBalance]:
    """The merchant's vaults, ordered by provider then vault type."""
    await apply_deferred(session)
    accounts = await LedgerRepository(session).accounts(merchant_id, vaults_only=True)
    return [
        VaultBalance(
            provider=account.provider,
            vault_type=account.vault_type or "",
            currency=account.currency,
            available=account.credits_posted - account.debits_posted - account.debits_pending,
            pending=account.debits_pending,
            updated_at=account.updated_at,
        )
        for account in sorted(accounts, key=lambda a: (a.provider, a.vault_type or "", a.currency))
    ]


async def account_balance(session: AsyncSession, key: AccountKey) -> AccountBalance:
    """Any account's counters; an account never used reads as zero."""
    await apply_deferred(session)
    account = await LedgerRepository(session).account(key)
    return _account_balance(key, account)


async def credited_since(session: AsyncSession, key: AccountKey, since: dt.datetime) -> int:
    """Minor units posted to the account's credit side at or after `since`."""
    return await LedgerRepository(session).credits_posted_since(key, since)


async def all_balances(
    session: AsyncSession, merchant_id: uuid.UUID | None = None
) -> list[AccountBalance]:
    await apply_deferred(session)
    accounts = await LedgerRepository(session).accounts(merchant_id)
    return [_account_balance(AccountKey.from_code(a.code), a) for a in accounts]


# --- internals -----------------------------------------------------------------------


async def _create(
    session: AsyncSession,
    transfer_id: str,
    postings: Sequence[Posting],
    *,
    kind: str,
    note: str | None,
    hold: bool,
    check_at_commit: bool = False,
) -> Transfer:
    postings = _checked(transfer_id, postings, kind)
    operation = "hold" if hold else "post"
    fingerprint = _fingerprint(operation, kind, postings)
    repository = LedgerRepository(session)
    now = utcnow()
    status = "pending" if hold else "posted"
    values = {
        "id": transfer_id,
        "kind": kind,
        "status": status,
        "currency": postings[0].debit.currency,
        "fingerprint": fingerprint,
        "note": note,
        "created_at": now,
        "held_at": now if hold else None,
        "posted_at": None if hold else now,
        "voided_at": None,
    }
    async with session.begin_nested():
        # The transfer row is the idempotency gate: a concurrent twin waits here on the
        # primary key and then finds the first one instead of moving money again.
        if not await repository.insert_transfer(values):
            existing = await _reload(repository, transfer_id)
            if existing.fingerprint != fingerprint:
                raise TransferConflict(transfer_id)
            return _view(existing, await _current_postings(repository, existing))
        await repository.ensure_accounts([k for p in postings for k in (p.debit, p.credit)], now)
        await repository.insert_postings(transfer_id, status, postings)
        deltas: dict[AccountKey, Delta] = defaultdict(Delta)
        for posting in postings:
            if hold:
                deltas[posting.debit].debits_pending += posting.amount
                deltas[posting.credit].credits_pending += posting.amount
            else:
                deltas[posting.debit].debits_posted += posting.amount
                deltas[posting.credit].credits_posted += posting.amount
        await _apply(repository, transfer_id, operation, deltas, now, at_commit=check_at_commit)
    return Transfer(
        id=transfer_id,
        kind=kind,
        status=status,
        currency=values["currency"],  # type: ignore[arg-type]
        postings=tuple(postings),
        note=note,
        created_at=now,
        posted_at=None if hold else now,
        voided_at=None,
    )


async def _apply(
    repository: LedgerRepository,
    transfer_id: str,
    event: str,
    deltas: dict[AccountKey, Delta],
    now: dt.datetime,
    *,
    at_commit: bool = False,
) -> None:
    changes = [(key, deltas[key]) for key in sorted(deltas, key=lambda k: k.lock_order)]
    changes = [(key, delta) for key, delta in changes if not delta.is_zero]
    if at_commit or not any(_may_refuse(key, delta) for key, delta in changes):
        # Nothing here can refuse (a deposit's credit, a hold posted or voided, the
        # shared clearing and fee rows), or the caller takes the refusal at COMMIT:
        # every row is updated at COMMIT, so its lock is held for the commit only
        # (ledger/shared_rows.py).
        for key, delta in changes:
            defer(repository.session, key, transfer_id, event, delta, now)
        return
    # A vault may refuse: the whole transfer's vault rows are locked and checked now,
    # in lock order; the shared rows, which never refuse, still wait for the COMMIT.
    # Changes this transaction deferred earlier (a credit to the same vault, say) are
    # applied first, so the check sees every rupiah the transaction already moved.
    await apply_deferred(repository.session)
    entries = []
    shared = []
    for key, delta in changes:
        if not key.must_not_go_negative:
            shared.append((key, delta))
            continue
        row = await repository.apply(key, delta, now)
        if row is None:
            raise InsufficientFunds(key.code)
        entries.append(entry_row(key, row, transfer_id, event, delta, now))
    if entries:
        await repository.insert_entries(entries)
    for key, delta in shared:  # after every vault said yes: a refusal defers nothing
        defer(repository.session, key, transfer_id, event, delta, now)


def _may_refuse(key: AccountKey, delta: Delta) -> bool:
    """Only a change that lowers a vault's available balance can overdraw it."""
    return key.must_not_go_negative and delta.available_change < 0


def _checked(transfer_id: str, postings: Sequence[Posting], kind: str) -> list[Posting]:
    if not isinstance(transfer_id, str) or not 0 < len(transfer_id) <= MAX_TRANSFER_ID:
        raise InvalidTransfer(f"transfer id must be 1 to {MAX_TRANSFER_ID} characters")
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_KIND:
        raise InvalidTransfer(f"transfer kind must be 1 to {MAX_KIND} characters")
    postings = list(postings)
    if not 0 < len(postings) <= MAX_POSTINGS:
        raise InvalidTransfer(f"a transfer needs 1 to {MAX_POSTINGS} postings")
    if not all(isinstance(p, Posting) for p in postings):
        raise InvalidTransfer("postings must be Posting values")
    if len({p.debit.currency for p in postings}) != 1:
        raise InvalidTransfer("all postings of a transfer must be in one currency")
    return postings


def _check_split(
    transfer: LedgerTransfer, held: Sequence[Posting], final: Sequence[Posting]
) -> None:
    def by_debit(postings: Iterable[Posting]) -> dict[AccountKey, int]:
        totals: dict[AccountKey, int] = defaultdict(int)
        for posting in postings:
            totals[posting.debit] += posting.amount
        return dict(totals)

    if final[0].debit.currency != transfer.currency:
        raise InvalidTransfer("the final postings must be in the hold's currency")
    if by_debit(final) != by_debit(held):
        raise InvalidTransfer(
            "the final postings must debit exactly the held accounts by the held amounts"
        )


async def _locked_hold(repository: LedgerRepository, transfer_id: str) -> LedgerTransfer:
    # Row lock on the transfer first: two resolutions of one hold run one after the other.
    transfer = await repository.transfer(transfer_id, for_update=True)
    if transfer is None:
        raise TransferNotFound(transfer_id)
    if transfer.held_at is None:
        raise TransferStateError(transfer_id, "is not a hold")
    return transfer


async def _reload(repository: LedgerRepository, transfer_id: str) -> LedgerTransfer:
    transfer = await repository.transfer(transfer_id)
    if transfer is None:  # pragma: no cover - the row was just written or found
        raise TransferNotFound(transfer_id)
    return transfer


async def _current_postings(
    repository: LedgerRepository, transfer: LedgerTransfer
) -> list[Posting]:
    if transfer.status == "posted":
        return await repository.postings(transfer.id, "posted")
    return await repository.postings(transfer.id, "pending")


def _canonical(postings: Iterable[Posting]) -> list[tuple[str, str, int]]:
    return sorted((p.debit.code, p.credit.code, p.amount) for p in postings)


def _fingerprint(operation: str, kind: str, postings: Sequence[Posting]) -> str:
    document = {"operation": operation, "kind": kind, "postings": _canonical(postings)}
    return hashlib.sha256(json.dumps(document, separators=(",", ":")).encode()).hexdigest()


def _view(transfer: LedgerTransfer, postings: Sequence[Posting]) -> Transfer:
    return Transfer(
        id=transfer.id,
        kind=transfer.kind,
        status=transfer.status,
        currency=transfer.currency,
        postings=tuple(postings),
        note=transfer.note,
        created_at=transfer.created_at,
        posted_at=transfer.posted_at,
        voided_at=transfer.voided_at,
    )


def _account_balance(key: AccountKey, account: LedgerAccount | None) -> AccountBalance:
    if account is None:
        return AccountBalance(key, 0, 0, 0, 0, 0, utcnow())
    return AccountBalance(
        key=key,
        debits_pending=account.debits_pending,
        debits_posted=account.debits_posted,
        credits_pending=account.credits_pending,
        credits_posted=account.credits_posted,
        version=account.version,
        updated_at=account.updated_at,
    )


__all__ = [
    "AccountBalance",
    "AccountKey",
    "AccountKind",
    "Posting",
    "Transfer",
    "VaultBalance",
    "account_balance",
    "all_balances",
    "balances",
    "credited_since",
    "get_transfer",
    "hold",
    "post",
    "post_pending",
    "void_pending",
]
