from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, RuntimeDep, SessionDep
from clearing_gateway.instruments import service
from clearing_gateway.instruments.discovery import payment_instruments
from clearing_gateway.instruments.schemas import (
    CreateFixedAmountRequest,
    CreateVirtualAccountRequest,
    UpdateVirtualAccountRequest,
    VirtualAccountOut,
    virtual_account_out,
)
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.schemas import documented
from clearing_gateway.users.endpoints import UserIdPath

router = APIRouter(tags=["Virtual Accounts"])


@router.post(
    "/v1/virtual-accounts",
    responses=documented(VirtualAccountOut),
    summary="Create Virtual Account",
)
async def create_virtual_account(
    body: CreateVirtualAccountRequest,
    session: SessionDep,
    merchant: MerchantDep,
    runtime: RuntimeDep,
) -> Response:
    account = await service.create_virtual_account(session, runtime, merchant.id, body)
    return EnvelopeResponse(virtual_account_out(account), request_id=body.requestId)


@router.post(
    "/v1/qris",
    tags=["Payment Instruments"],
    responses=documented(VirtualAccountOut),
    summary="Create QRIS (gateway extension)",
)
async def create_qris(
    body: CreateFixedAmountRequest, session: SessionDep, merchant: MerchantDep, runtime: RuntimeDep
) -> Response:
    account = await service.create_qris(session, runtime, merchant.id, body)
    return EnvelopeResponse(virtual_account_out(account), request_id=body.requestId)


@router.post(
    "/v1/cash-in",
    tags=["Payment Instruments"],
    responses=documented(VirtualAccountOut),
    summary="Create cash-in payment request (gateway extension)",
)
async def create_cash_in(
    body: CreateFixedAmountRequest, session: SessionDep, merchant: MerchantDep, runtime: RuntimeDep
) -> Response:
    account = await service.create_cash_in(session, runtime, merchant.id, body)
    return EnvelopeResponse(virtual_account_out(account), request_id=body.requestId)


@router.get(
    "/v1/virtual-accounts/{paymentInstrumentId}",
    responses=documented(VirtualAccountOut),
    summary="Get Virtual Account",
)
async def get_virtual_account(
    paymentInstrumentId: uuid.UUID, session: SessionDep, merchant: MerchantDep
) -> Response:
    account = await service.get_virtual_account(session, merchant.id, paymentInstrumentId)
    return EnvelopeResponse(virtual_account_out(account))


@router.put(
    "/v1/virtual-accounts/{paymentInstrumentId}",
    responses=documented(VirtualAccountOut),
    summary="Update Virtual Account",
)
@router.patch(
    "/v1/virtual-accounts/{paymentInstrumentId}",
    responses=documented(VirtualAccountOut),
    summary="Update Virtual Account (PATCH)",
)
async def update_virtual_account(
    paymentInstrumentId: uuid.UUID,
    body: UpdateVirtualAccountRequest,
    session: SessionDep,
    merchant: MerchantDep,
) -> Response:
    account = await service.update_virtual_account(session, merchant.id, paymentInstrumentId, body)
    return EnvelopeResponse(virtual_account_out(account), request_id=body.requestId)


@router.get(
    "/v1/users/{userId}/virtual-accounts",
    tags=["User Management"],
    responses=documented(list[VirtualAccountOut]),
    summary="List User Virtual Accounts",
)
async def list_user_virtual_accounts(
    userId: UserIdPath, session: SessionDep, merchant: MerchantDep
) -> Response:
    accounts = await service.list_user_virtual_accounts(session, merchant.id, userId)
    return EnvelopeResponse([virtual_account_out(a) for a in accounts])


@router.get(
    "/v1/payment-instruments",
    tags=["Payment Instruments"],
    summary="List Merchant Payment Instruments",
)
async def list_payment_instruments(runtime: RuntimeDep, merchant: MerchantDep) -> Response:
    assert runtime.providers is not None
    return EnvelopeResponse(payment_instruments(runtime.providers.registry))
