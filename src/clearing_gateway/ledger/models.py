"""Ledger tables.

Balances follow TigerBeetle's four counters per account (posted and pending, debits and
credits, all non-negative minor units). For a merchant vault (a liability: credit-normal)
available = credits_posted - debits_posted - debits_pending; a CHECK keeps it >= 0 as a
backstop behind the conditional UPDATE in the repository.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 "
            "AND credits_pending >= 0 AND credits_posted >= 0",
            name="counters_not_negative",
        ),
        CheckConstraint(
            "NOT must_not_go_negative OR credits_posted - debits_posted - debits_pending >= 0",
            name="available_not_negative",
        ),
        Index("ix_ledger_accounts_merchant", "merchant_id", "provider", "vault_type"),
    )

    # uuid5 of `code` (see accounts.AccountKey): deterministic, so locks can be ordered
    # before any row is read.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("merchants.id"), nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    vault_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    must_not_go_negative: Mapped[bool] = mapped_column(Boolean)
    debits_pending: Mapped[int] = mapped_column(Amount, default=0)
    debits_posted: Mapped[int] = mapped_column(Amount, default=0)
    credits_pending: Mapped[int] = mapped_column(Amount, default=0)
    credits_posted: Mapped[int] = mapped_column(Amount, default=0)
    # Incremented by every change; entries carry it, so history has no gaps.
    version: Mapped[int] = mapped_column(Amount, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class LedgerTransfer(Base):
    """One movement, keyed by the caller's id. Status moves pending → posted | voided
    (a hold) or is posted at once; it never moves back."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    # sha256 of (operation, kind, postings): a replay must match it exactly.
    fingerprint: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    held_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LedgerPosting(Base):
    """The legs of a transfer. A hold has `pending` legs; once posted, its `posted` legs
    say where the money finally went (they may split the hold differently)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(8), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    debit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Amount)


class LedgerEntry(Base):
    """One change of one account by one transfer event, with the counters after it.

    (account_id, version) is the key: every version of every account appears exactly
    once, so any balance can be replayed from its entries and audited line by line.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"]),
        Index("ix_ledger_entries_transfer", "transfer_id"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Amount, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"))
    # post | hold | post_pending | void
    event: Mapped[str] = mapped_column(String(16))
    debits_pending_delta: Mapped[int] = mapped_column(Amount)
    debits_posted_delta: Mapped[int] = mapped_column(Amount)
    credits_pending_delta: Mapped[int] = mapped_column(Amount)
    credits_posted_delta: Mapped[int] = mapped_column(Amount)
    debits_pending: Mapped[int] = mapped_column(Amount)
    debits_posted: Mapped[int] = mapped_column(Amount)
    credits_pending: Mapped[int] = mapped_column(Amount)
    credits_posted: Mapped[int] = mapped_column(Amount)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeeSchedule(Base):
    """What the gateway charges per (provider, method): flat + percent, half-up."""

    __tablename__ = "ledger_fee_schedules"
    __table_args__ = (
        CheckConstraint("flat >= 0", name="flat_not_negative"),
        CheckConstraint("percent_bps >= 0 AND percent_bps <= 10000", name="percent_in_range"),
    )

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    flat: Mapped[int] = mapped_column(Amount, default=0)
    percent_bps: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
