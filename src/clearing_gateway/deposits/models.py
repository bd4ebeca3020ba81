from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class DepositStatus(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Deposit(Base):
    __tablename__ = "deposits"
    __table_args__ = (
        # One provider payment is one deposit, however often it is notified.
        UniqueConstraint("provider", "payment_request_id"),
        # Newest-first listing per merchant, optionally narrowed by user or status.
        Index("ix_deposits_merchant_created", "merchant_id", "created_at", "id"),
        Index("ix_deposits_merchant_user_created", "merchant_id", "user_ref", "created_at"),
        Index("ix_deposits_merchant_status_created", "merchant_id", "status", "created_at"),
        # The console: every merchant's deposits by time, and a payer's VA number.
        Index("ix_deposits_created_provider", "created_at", "provider"),
        Index("ix_deposits_virtual_account_no", "virtual_account_no"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)  # caciTxId
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    payment_instrument_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("virtual_accounts.id"))
    user_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    user_ref: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(8))  # va | qris | cashin
    provider: Mapped[str] = mapped_column(String(16))
    bank_code: Mapped[str] = mapped_column(String(8))
    virtual_account_no: Mapped[str] = mapped_column(String(40))
    payment_request_id: Mapped[str] = mapped_column(String(128))
    payer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[int] = mapped_column(Amount)
    fee: Mapped[int] = mapped_column(Amount)
    net_amount: Mapped[int] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    trx_date_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaymentException(Base):
    """A provider payment the gateway did not credit (unknown, cancelled or expired VA,
    amount or currency outside what the VA allows): kept for operators to resolve."""

    __tablename__ = "payment_exceptions"
    __table_args__ = (UniqueConstraint("provider", "payment_request_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16))
    payment_request_id: Mapped[str] = mapped_column(String(128))
    virtual_account_no: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("merchants.id"), nullable=True)
    deposit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deposits.id"), nullable=True)
    amount: Mapped[int] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
