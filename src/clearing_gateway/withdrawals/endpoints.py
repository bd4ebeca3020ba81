from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, RuntimeDep, SessionDep
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.errors import not_found
from clearing_gateway.kit.listing import TransactionFilters, page_document, transaction_filters
from clearing_gateway.kit.schemas import documented
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.repository import WithdrawalRepository
from clearing_gateway.withdrawals.schemas import (
    CreateWithdrawalRequest,
    WithdrawalOut,
    WithdrawalPage,
    withdrawal_out,
)

router = APIRouter(prefix="/v1/withdrawals", tags=["Withdrawals"])


@router.post(
    "",
    status_code=201,
    responses=documented(WithdrawalOut, 201),
    summary="Create Withdrawal (Async)",
)
async def create_withdrawal(
    body: CreateWithdrawalRequest, session: SessionDep, merchant: MerchantDep, runtime: RuntimeDep
) -> Response:
    assert runtime.providers is not None
    withdrawal = await service.create_withdrawal(
        session, runtime.settings, runtime.providers.registry, merchant.id, body
    )
    return EnvelopeResponse(withdrawal_out(withdrawal), code=201, request_id=body.requestId)


@router.get("", responses=documented(WithdrawalPage), summary="List Withdrawals")
async def list_withdrawals(
    session: SessionDep,
    merchant: MerchantDep,
    filters: Annotated[TransactionFilters, Depends(transaction_filters)],
) -> Response:
    rows, total = await WithdrawalRepository(session).page(merchant.id, filters)
    return EnvelopeResponse(page_document(total, filters, [withdrawal_out(w) for w in rows]))


@router.get("/{transactionId}", responses=documented(WithdrawalOut), summary="Get Withdrawal")
async def get_withdrawal(
    transactionId: uuid.UUID, session: SessionDep, merchant: MerchantDep
) -> Response:
    withdrawal = await WithdrawalRepository(session).get(merchant.id, transactionId)
    if withdrawal is None:
        raise not_found(f"withdrawal {transactionId}")
    return EnvelopeResponse(withdrawal_out(withdrawal))
