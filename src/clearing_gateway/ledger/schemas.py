"""Wire models of `GET /v1/balances` (seed 000, "Get Balances").

The seed collapses the `data` array; the gateway answers one object per provider with
one record per vault type (docs/ledger.md).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class VaultBalanceOut(BaseModel):
    vaultType: str = Field(description="deposit or withdrawal", examples=["deposit"])
    currency: str = Field(examples=["IDR"])
    available: str = Field(
        description="Spendable now: posted balance minus funds held for payouts in flight",
        examples=["1000000.00"],
    )
    pending: str = Field(
        description="Held for payouts that are not settled yet", examples=["20000.00"]
    )
    lastUpdated: str = Field(
        description="When this vault last changed (RFC 3339, UTC)",
        examples=["2026-05-25T10:00:00Z"],
    )


class ProviderBalancesOut(BaseModel):
    provider: str = Field(examples=["topremit"])
    balances: list[VaultBalanceOut]
