from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Amount, Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class VirtualAccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAID = "PAID"  # a fixed-amount instrument (QRIS, cash-in) after its one payment
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class VirtualAccount(Base):
    """A payment instrument issued by a provider for one merchant user: a bank VA
    (open amount, reusable), a QRIS code or a cash-in payment request (fixed amount)."""

    __tablename__ = "virtual_accounts"
    __table_args__ = (
        # The number a payer types is unique per bank at its provider.
        UniqueConstraint("provider", "bank_code", "virtual_account_no"),
        Index("ix_virtual_accounts_merchant_user", "merchant_id", "user_ref"),
        # The console's search by VA number, whatever the bank.
        Index("ix_virtual_accounts_number", "virtual_account_no"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    user_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    user_ref: Mapped[str] = mapped_column(String(64))  # the merchant's userId
    kind: Mapped[str] = mapped_column(String(8), default="va")  # va | qris
    provider: Mapped[str] = mapped_column(String(16))
    bank_code: Mapped[str] = mapped_column(String(8))
    virtual_account_no: Mapped[str] = mapped_column(String(40))
    virtual_account_name: Mapped[str] = mapped_column(String(200))
    # The provider's handles for inquiry / cancel (Topremit: customerNo and trxId; its
    # partnerServiceId is one per gateway, in settings).
    provider_reference: Mapped[str] = mapped_column(String(64))
    customer_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="IDR")
    min_amount: Mapped[int] = mapped_column(Amount, default=0)
    max_amount: Mapped[int] = mapped_column(Amount, default=0)  # 0: no maximum
    # QRIS payload / Finan payment page, for instruments that are not bank VAs.
    qr_content: Mapped[str | None] = mapped_column(Text, nullable=True)
    payment_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=VirtualAccountStatus.ACTIVE)
    expired_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    def status_at(self, now: dt.datetime) -> str:
        """The stored status, except that an ACTIVE instrument past its expiry is EXPIRED
        (derived on read: nothing has to run at the moment it expires)."""
        if (
            self.status == VirtualAccountStatus.ACTIVE
            and self.expired_date is not None
            and self.expired_date <= now
        ):
            return VirtualAccountStatus.EXPIRED
        return self.status
