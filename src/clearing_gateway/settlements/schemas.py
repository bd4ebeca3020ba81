"""Wire models of `POST /v1/settlements/sweeps` (an addition: the seed has no settlement)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import format_amount
from clearing_gateway.kit.request_id import RequestId
from clearing_gateway.settlements.models import SettlementSweep


class SweepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId


class SweepOut(BaseModel):
    swept: bool = Field(description="false: nothing had settled yet, nothing moved")
    sweepId: str | None = None
    amount: str = Field(description="Moved into the withdrawal vault", examples=["150000.00"])
    currency: str = Field(examples=["IDR"])
    targetProvider: str = Field(description="Whose withdrawal vault received it")
    delay: str = Field(description="The merchant's settlement delay", examples=["T+1"])
    cutoff: str = Field(description="Deposits credited before this moment were swept")
    transferId: str | None = Field(default=None, description="The ledger transfer")
    createdAt: str | None = None


def sweep_out(
    sweep: SettlementSweep | None,
    *,
    currency: str,
    target_provider: str,
    delay_days: int,
    cutoff: str,
) -> dict[str, object]:
    if sweep is None:
        return SweepOut(
            swept=False,
            amount=format_amount(0, currency),
            currency=currency,
            targetProvider=target_provider,
            delay=f"T+{delay_days}",
            cutoff=cutoff,
        ).model_dump()
    return SweepOut(
        swept=True,
        sweepId=str(sweep.id),
        amount=format_amount(sweep.amount, sweep.currency),
        currency=sweep.currency,
        targetProvider=sweep.target_provider,
        delay=f"T+{sweep.delay_days}",
        cutoff=isoformat(sweep.cutoff) or "",
        transferId=sweep.transfer_id,
        createdAt=isoformat(sweep.created_at),
    ).model_dump()
