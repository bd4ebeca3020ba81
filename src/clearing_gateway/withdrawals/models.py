from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class WithdrawalStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


# Statuses only move forward: the rank of each, and which are final.
STATUS_RANK = {
    WithdrawalStatus.PENDING: 0,
    WithdrawalStatus.PROCESSING: 1,
    WithdrawalStatus.SUCCESS: 2,
    WithdrawalStatus.FAILED: 2,
    WithdrawalStatus.REFUNDED: 3,
}
ALLOWED_MOVES = {
    WithdrawalStatus.PENDING: {
        WithdrawalStatus.PROCESSING,
        WithdrawalStatus.SUCCESS,
        WithdrawalStatus.FAILED,
    },
    WithdrawalStatus.PROCESSING: {WithdrawalStatus.SUCCESS, WithdrawalStatus.FAILED},
    WithdrawalStatus.SUCCESS: {WithdrawalStatus.REFUNDED},
    WithdrawalStatus.FAILED: set(),
    WithdrawalStatus.REFUNDED: set(),
}


class Withdrawal(Base):
    __tablename__ = "withdrawals"
    __table_args__ = (
        UniqueConstraint("merchant_id", "merchant_reference"),
        UniqueConstraint("provider_reference"),
        Index("ix_withdrawals_merchant_created", "merchant_id", "created_at", "id"),
        Index("ix_withdrawals_merchant_user_created", "merchant_id", "user_ref", "created_at"),
        Index("ix_withdrawals_status_updated", "status", "updated_at"),
        # The console: every merchant's withdrawals by time, and search by reference.
        Index("ix_withdrawals_created_provider", "created_at", "provider"),
        Index("ix_withdrawals_merchant_reference", "merchant_reference"),
        # The stuck queue and its count read only the few flagged rows.
        Index(
            "ix_withdrawals_stuck_since",
            "stuck_since",
            postgresql_where=text("stuck_since IS NOT NULL"),
            sqlite_where=text("stuck_since IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)  # caciTxId
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    user_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    user_ref: Mapped[str] = mapped_column(String(64))
    merchant_reference: Mapped[str] = mapped_column(String(64))
    beneficiary_bank_code: Mapped[str] = mapped_column(String(8))
    beneficiary_account_no: Mapped[str] = mapped_column(String(34))
    beneficiary_account_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The holder name the provider's account inquiry returned.
    verified_account_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[int] = mapped_column(Amount)
    merchant_fee: Mapped[int | None] = mapped_column(Amount, nullable=True)
    fee: Mapped[int] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=WithdrawalStatus.PENDING)
    provider: Mapped[str] = mapped_column(String(16))
    # Ours, sent to the provider; the same on every retry, so it can never pay twice.
    provider_reference: Mapped[str] = mapped_column(String(64))
    # The provider's own id for the transfer, once known.
    provider_transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_status_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    provider_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Submitted but the answer was lost (timeout, 5xx, garbage): never resubmit blindly.
    outcome_unknown: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stuck_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Why the withdrawal waits for an operator (set together with stuck_since).
    review_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The submission fence: the run holding it is the only one that may call the provider
    # or record its answer, until the lease ends (docs/withdrawals.md, "Submission").
    submit_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submit_lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A genuine provider notification that Check Status does not confirm yet (its code and
    # when it came): kept and re-checked by the reconciliation, never dropped.
    notice_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    notice_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # What the provider charged us for the transfer (Finpay feeAmount), once known.
    provider_fee: Mapped[int | None] = mapped_column(Amount, nullable=True)
    trx_date_time: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WithdrawalStatusChange(Base):
    """Audit trail: every status move, with what caused it (provider, poll, operator)."""

    __tablename__ = "withdrawal_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    withdrawal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("withdrawals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))  # api | worker | callback | poll | operator
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
