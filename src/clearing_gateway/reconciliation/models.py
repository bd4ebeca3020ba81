"""Statement breaks: each disagreement between a provider's statement and the ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class BreakKind(StrEnum):
    MISSING_IN_LEDGER = "missing_in_ledger"  # the provider moved money we have no record of
    MISSING_AT_PROVIDER = "missing_at_provider"  # we recorded money the statement lacks
    AMOUNT_MISMATCH = "amount_mismatch"
    STATUS_MISMATCH = "status_mismatch"


class BreakStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ReconciliationBreak(Base):
    __tablename__ = "reconciliation_breaks"
    __table_args__ = (
        # Reconciling the same statement again finds the same breaks, not new ones.
        UniqueConstraint("provider", "statement_date", "kind", "reference"),
        Index("ix_reconciliation_breaks_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16))
    statement_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC day)
    kind: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str] = mapped_column(String(8))  # credit (deposit) | debit (payout)
    reference: Mapped[str] = mapped_column(String(128))  # provider payment id / our order id
    # A credit line's own reference (VA trxId, QRIS or cash-in reference): the instrument
    # the provider says was paid, so a missing payment can be applied to it.
    instrument_reference: Mapped[str | None] = mapped_column(String(128), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    provider_amount: Mapped[int | None] = mapped_column(Amount, nullable=True)
    ledger_amount: Mapped[int | None] = mapped_column(Amount, nullable=True)
    provider_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ledger_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=BreakStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The audit of a resolution: who, when, and why.
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
