from __future__ import annotations

from pydantic import BaseModel

from clearing_gateway.deposits.models import Deposit
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import format_amount


class DepositOut(BaseModel):
    transactionId: str
    paymentInstrumentId: str
    userId: str
    virtualAccountNo: str
    bankCode: str
    provider: str
    instrument: str
    paymentRequestId: str
    payerName: str | None
    amount: str
    fee: str
    netAmount: str
    currency: str
    status: str
    failureReason: str | None
    trxDateTime: str
    createdAt: str


class DepositPage(BaseModel):
    total: int
    totalCapped: bool
    limit: int
    offset: int
    transactions: list[DepositOut]


def deposit_out(deposit: Deposit) -> dict[str, object]:
    return DepositOut(
        transactionId=str(deposit.id),
        paymentInstrumentId=str(deposit.payment_instrument_id),
        userId=deposit.user_ref,
        virtualAccountNo=deposit.virtual_account_no,
        bankCode=deposit.bank_code,
        provider=deposit.provider,
        instrument=deposit.instrument,
        paymentRequestId=deposit.payment_request_id,
        payerName=deposit.payer_name,
        amount=format_amount(deposit.amount, deposit.currency),
        fee=format_amount(deposit.fee, deposit.currency),
        netAmount=format_amount(deposit.net_amount, deposit.currency),
        currency=deposit.currency,
        status=deposit.status,
        failureReason=deposit.failure_reason,
        trxDateTime=isoformat(deposit.trx_date_time) or "",
        createdAt=isoformat(deposit.created_at) or "",
    ).model_dump()
