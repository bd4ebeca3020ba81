"""Every table, imported in one place so metadata (and Alembic) sees the whole schema."""

from clearing_gateway.db import Base
from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.ledger.models import (
    FeeSchedule,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    LedgerTransfer,
)
from clearing_gateway.merchants.models import Merchant, MerchantApiKey
from clearing_gateway.users.models import User

__all__ = [
    "Base",
    "FeeSchedule",
    "IdempotencyRecord",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "LedgerTransfer",
    "Merchant",
    "MerchantApiKey",
    "User",
]
