"""`GET /v1/debits/{caciTxId}`: confirm a `debit_notify` through the read API, as the seed
asks merchants to do for every notification."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, SessionDep
from clearing_gateway.debits import service
from clearing_gateway.debits.schemas import DebitOut, debit_out
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.schemas import documented

router = APIRouter(prefix="/v1/debits", tags=["Balances"])


@router.get(
    "/{caciTxId}",
    responses=documented(DebitOut),
    summary="Get Debit",
    description=(
        "The debit a `debit_notify` webhook announced, by its `additionalInfo.caciTxId`: "
        "a settlement sweep, a separately charged fee, an operator adjustment or a provider "
        "cash-out that took money from one of the merchant's vaults. Only the merchant's "
        "own debits are found."
    ),
)
async def get_debit(caciTxId: uuid.UUID, session: SessionDep, merchant: MerchantDep) -> Response:
    debit = await service.get_debit(session, merchant.id, caciTxId)
    return EnvelopeResponse(debit_out(debit))
