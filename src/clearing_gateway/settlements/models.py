"""Settlement tables: each merchant's policy and every sweep made."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow


class SettlementPolicy(Base):
    """How a merchant's deposit funds reach its withdrawal vault. No row = off."""

    __tablename__ = "settlement_policies"
    __table_args__ = (
        CheckConstraint("mode IN ('off', 'on_demand', 'scheduled')", name="mode_known"),
        CheckConstraint("delay_days >= 0 AND delay_days <= 30", name="delay_in_range"),
        CheckConstraint("run_at_minute >= 0 AND run_at_minute < 1440", name="run_at_in_range"),
    )

    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    # T+n: a deposit credited on day D (WIB) may be swept from day D+n.
    delay_days: Mapped[int] = mapped_column(Integer)
    # The provider whose withdrawal vault receives the sweep (the payout provider).
    target_provider: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    # Scheduled mode: the daily sweep runs from this minute of the WIB day.
    run_at_minute: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class SettlementSweep(Base):
    """One sweep = one ledger transfer (`settlement:<merchant>:<key>`)."""

    __tablename__ = "settlement_sweeps"
    __table_args__ = (
        UniqueConstraint("merchant_id", "sweep_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_settlement_sweeps_created", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    # "scheduled:2026-12-01" for the daily sweep, the operator's id for an on-demand one.
    sweep_key: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | on_demand
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    target_provider: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(Amount)
    delay_days: Mapped[int] = mapped_column(Integer)
    # Only deposit funds credited before this moment were swept.
    cutoff: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
