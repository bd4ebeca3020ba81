"""Every table, imported in one place so metadata (and Alembic) sees the whole schema."""

from clearing_gateway.db import Base
from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.merchants.models import Merchant, MerchantApiKey
from clearing_gateway.providers.models import ProviderCallback, ProviderEventClaim
from clearing_gateway.users.models import User

__all__ = [
    "Base",
    "IdempotencyRecord",
    "Merchant",
    "MerchantApiKey",
    "ProviderCallback",
    "ProviderEventClaim",
    "User",
]
