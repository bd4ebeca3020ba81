"""`/v1/simulator/…`: mounted only outside production. The seed shows these endpoints
without authentication; a request that carries merchant credentials is verified and sees
only that merchant's accounts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from clearing_gateway.api.deps import RuntimeDep, SessionDep
from clearing_gateway.deposits.schemas import deposit_out
from clearing_gateway.instruments.schemas import virtual_account_out
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.schemas import documented
from clearing_gateway.simulator import service, topup
from clearing_gateway.simulator.schemas import (
    BalanceTopUpOut,
    BalanceTopUpRequest,
    DepositInquiryRequest,
    DepositPaymentRequest,
)

router = APIRouter(prefix="/v1/simulator", tags=["Payment Simulator"])


def _merchant_id(request: Request) -> uuid.UUID | None:
    merchant = getattr(request.state, "merchant", None)
    return merchant.id if merchant is not None else None


@router.post("/deposits/inquiry", summary="Simulate Deposit Inquiry")
async def simulate_inquiry(
    body: DepositInquiryRequest, request: Request, session: SessionDep
) -> Response:
    account = await service.find_account(session, _merchant_id(request), body)
    return EnvelopeResponse(virtual_account_out(account))


@router.post("/deposits/payment", status_code=201, summary="Simulate Deposit Payment")
async def simulate_payment(
    body: DepositPaymentRequest, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    deposit = await service.simulate_payment(
        session, runtime, request.app.state.sandboxes, _merchant_id(request), body
    )
    return EnvelopeResponse(
        deposit_out(deposit), code=201, extra={"transactionId": str(deposit.id)}
    )


@router.post(
    "/balances/top-up",
    status_code=201,
    responses=documented(BalanceTopUpOut, 201),
    summary="Simulate Balance Top-Up",
    description=(
        "Sandbox only: fund one of the merchant's vaults directly, e.g. the Finpay "
        "withdrawal vault before a first payout. Signed: the signer's vault; unsigned: "
        "the merchant named by `merchantId`. The same `requestId` tops up once."
    ),
)
async def simulate_top_up(
    body: BalanceTopUpRequest, request: Request, session: SessionDep
) -> Response:
    data = await topup.top_up(session, _merchant_id(request), body)
    return EnvelopeResponse(data, code=201)
