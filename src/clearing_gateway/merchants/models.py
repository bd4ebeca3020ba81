from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from clearing_gateway.db import Base, JsonDoc, UtcDateTime
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Addresses and CIDRs allowed to call the API. Empty: any address in sandbox,
    # none in production.
    allowed_ips: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class MerchantApiKey(Base):
    __tablename__ = "merchant_api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merchants.id"), index=True)
    # The public half (sent as X-Api-Key); unique, looked up on every request.
    api_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The HMAC secret, Fernet-encrypted: verification needs the plaintext.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set when the key is rotated out: it keeps working until then (the overlap).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
