from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, SessionDep
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.deposits.schemas import DepositOut, DepositPage, deposit_out
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.errors import not_found
from clearing_gateway.kit.listing import TransactionFilters, page_document, transaction_filters
from clearing_gateway.kit.schemas import documented

router = APIRouter(prefix="/v1/deposits", tags=["Deposits"])


@router.get("", responses=documented(DepositPage), summary="List Deposits")
async def list_deposits(
    session: SessionDep,
    merchant: MerchantDep,
    filters: Annotated[TransactionFilters, Depends(transaction_filters)],
) -> Response:
    rows, total = await DepositRepository(session).page(merchant.id, filters)
    return EnvelopeResponse(page_document(total, filters, [deposit_out(d) for d in rows]))


@router.get("/{transactionId}", responses=documented(DepositOut), summary="Get Deposit")
async def get_deposit(
    transactionId: uuid.UUID, session: SessionDep, merchant: MerchantDep
) -> Response:
    deposit = await DepositRepository(session).get(merchant.id, transactionId)
    if deposit is None:
        raise not_found(f"deposit {transactionId}")
    return EnvelopeResponse(deposit_out(deposit))
