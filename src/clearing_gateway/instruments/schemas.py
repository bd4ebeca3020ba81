from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import isoformat, utcnow
from clearing_gateway.kit.money import format_amount
from clearing_gateway.kit.schemas import BlankIsAbsent
from clearing_gateway.users.schemas import BankCode, Name, RequestId, UserId


class CreateVirtualAccountRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    userId: UserId
    bankCode: BankCode


class UpdateVirtualAccountRequest(BlankIsAbsent):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    virtualAccountName: Name | None = None
    expiredDate: dt.datetime | None = None


class CreateFixedAmountRequest(BaseModel):
    """A QRIS code or a cash-in payment request for one payment of `amount`."""

    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    userId: UserId
    amount: str
    currency: str = Field(default="IDR", pattern=r"^[A-Z]{3}$")


class VirtualAccountOut(BaseModel):
    paymentInstrumentId: str
    userId: str
    type: str
    bankCode: str
    provider: str
    virtualAccountNo: str
    virtualAccountName: str
    currency: str
    minAmount: str
    maxAmount: str | None
    qrContent: str | None = None
    paymentUrl: str | None = None
    status: str
    expiredDate: str | None
    createdAt: str
    updatedAt: str


def virtual_account_out(va: VirtualAccount) -> dict[str, object]:
    # Bank VAs keep the seed's shape; QRIS / cash-in add their payload fields.
    exclude = {"qrContent", "paymentUrl"} if va.kind == "va" else set()
    return VirtualAccountOut(
        paymentInstrumentId=str(va.id),
        userId=va.user_ref,
        type=va.kind.upper(),
        bankCode=va.bank_code,
        provider=va.provider,
        virtualAccountNo=va.virtual_account_no,
        virtualAccountName=va.virtual_account_name,
        currency=va.currency,
        minAmount=format_amount(va.min_amount, va.currency),
        maxAmount=format_amount(va.max_amount, va.currency) if va.max_amount else None,
        qrContent=va.qr_content,
        paymentUrl=va.payment_url,
        status=va.status_at(utcnow()),
        expiredDate=isoformat(va.expired_date),
        createdAt=isoformat(va.created_at) or "",
        updatedAt=isoformat(va.updated_at) or "",
    ).model_dump(exclude=exclude)
