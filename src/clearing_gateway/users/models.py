from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, JsonDoc, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class User(Base):
    __tablename__ = "users"
    # A userId stays taken after a soft delete: it can never name another person.
    __table_args__ = (
        UniqueConstraint("merchant_id", "user_id"),
        Index("ix_users_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    kyc_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    type: Mapped[str] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(2), nullable=True)
    id_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    id_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    whitelisted_kyc_names: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    whitelisted_withdrawal_accounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonDoc, default=list
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
