from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, UtcDateTime
from clearing_gateway.kit.clock import utcnow


class IdempotencyRecord(Base):
    """The first response to a (merchant, requestId), stored with the change it made.

    The row is written in the request's own transaction, so it becomes visible exactly
    when the change does: a concurrent request with the same requestId waits on the
    unique key and then replays this response.
    """

    __tablename__ = "idempotency_records"

    merchant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("merchants.id"), primary_key=True
    )
    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
