"""`GET /v1/balances`: the merchant's vaults per provider."""

from __future__ import annotations

from itertools import groupby

from fastapi import APIRouter, Request
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, SessionDep
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.money import format_amount
from clearing_gateway.kit.schemas import documented
from clearing_gateway.ledger import service
from clearing_gateway.ledger.schemas import ProviderBalancesOut, VaultBalanceOut

router = APIRouter(prefix="/v1/balances", tags=["Balances"])


@router.get(
    "",
    responses=documented(list[ProviderBalancesOut]),
    summary="Get Balances",
    description=(
        "The merchant's balances grouped by provider, one record per vault type "
        "(deposit, withdrawal). Amounts are decimal strings. A merchant with no vaults "
        "yet gets an empty list."
    ),
)
async def get_balances(request: Request, session: SessionDep, merchant: MerchantDep) -> Response:
    vaults = await service.balances(session, merchant.id)
    data = [
        ProviderBalancesOut(
            provider=provider,
            balances=[
                VaultBalanceOut(
                    vaultType=v.vault_type,
                    currency=v.currency,
                    available=format_amount(v.available, v.currency),
                    pending=format_amount(v.pending, v.currency),
                    lastUpdated=isoformat(v.updated_at) or "",
                )
                for v in group
            ],
        ).model_dump()
        for provider, group in groupby(vaults, key=lambda v: v.provider)
    ]
    # The seed's Get Balances sample carries a `requestId`; a GET sends none, so it is the
    # server's id for the request (the `X-Request-Id` header's value).
    return EnvelopeResponse(data, request_id=getattr(request.state, "request_id", None))
