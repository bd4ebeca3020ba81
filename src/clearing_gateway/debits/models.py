"""A merchant vault debit that is not a withdrawal: the record `debit_notify` announces
and `GET /v1/debits/{caciTxId}` confirms."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow


class MerchantDebit(Base):
    __tablename__ = "merchant_debits"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # One record per (ledger transfer, vault debited): re-running an idempotent
        # transfer (a retried sweep, a re-run operator command) announces nothing twice.
        UniqueConstraint("transfer_id", "account_code"),
        Index("ix_merchant_debits_merchant_created", "merchant_id", "created_at"),
    )

    # The caciTxId of the webhook and the read endpoint.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    # SETTLEMENT | FEE | ADJUSTMENT | CASHOUT
    debit_type: Mapped[str] = mapped_column(String(16))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"))
    account_code: Mapped[str] = mapped_column(String(160))
    provider: Mapped[str] = mapped_column(String(32))
    vault_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(Amount)
    # Where the money went, e.g. "finpay:withdrawal" or "fee".
    destination: Mapped[str] = mapped_column(String(64))
    balance_after: Mapped[int] = mapped_column(Amount)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
