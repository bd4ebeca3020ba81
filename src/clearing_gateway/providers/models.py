"""The provider callback inbox.

Every callback is stored raw before anything else looks at it (a rejected one keeps
only its metadata and digest). De-duplication happens
in a separate table that only verified callbacks can claim, so a forged callback that
reuses a genuine event key can never block or shadow the genuine one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, JsonDoc, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class CallbackStatus:
    RECEIVED = "received"  # stored, not yet verified (or verification could not finish)
    REJECTED = "rejected"  # forged, stale or malformed: kept, changed nothing
    VERIFIED = "verified"  # genuine and first of its key, no domain handler took it yet
    APPLIED = "applied"  # genuine, handed to its domain in the same transaction
    DUPLICATE = "duplicate"  # genuine, but its event key was already claimed
    IGNORED = "ignored"  # genuine, the domain had no use for it


class ProviderCallback(Base):
    __tablename__ = "provider_callbacks"
    __table_args__ = (
        Index("ix_provider_callbacks_provider_key", "provider", "event_key"),
        Index("ix_provider_callbacks_status_received", "status", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    headers: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    # Emptied when the row is rejected: a forged or malformed request keeps only its
    # metadata, size and digest, so forgeries cannot fill the disk.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.RECEIVED)
    event_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProviderEventClaim(Base):
    """One row per genuine (provider, event key): the first verified callback wins it."""

    __tablename__ = "provider_event_claims"
    __table_args__ = (UniqueConstraint("provider", "event_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(200))
    callback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("provider_callbacks.id"))
    claimed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
