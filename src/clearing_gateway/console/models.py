"""Console accounts (operators and merchants' users), their sessions and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class Role:
    OPERATOR = "operator"
    MERCHANT_ADMIN = "merchant_admin"  # may add users, keys and webhooks for its merchant
    MERCHANT_VIEWER = "merchant_viewer"  # reads its merchant's data, retries webhooks

    MERCHANT_ROLES = (MERCHANT_ADMIN, MERCHANT_VIEWER)
    ALL = (OPERATOR, MERCHANT_ADMIN, MERCHANT_VIEWER)


class ConsoleAccount(Base):
    __tablename__ = "console_accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    # Stored lower-cased: one person, one account, however they type it.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Set for merchants' users: every page and action is scoped to it. None for operators.
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("merchants.id"), nullable=True, index=True
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR and self.merchant_id is None


class ConsoleSession(Base):
    """A logged-in browser. Only the token's sha256 is stored: a database dump holds no
    usable session."""

    __tablename__ = "console_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("console_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ConsoleAuditEntry(Base):
    """Every console action, with who did it: kept, never edited."""

    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_created", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_email: Mapped[str] = mapped_column(String(254))
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
