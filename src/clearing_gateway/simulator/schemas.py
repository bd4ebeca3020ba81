from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clearing_gateway.users.schemas import BankCode, Name


class SimulatedPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    amount: str
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    payerName: Name | None = None


class DepositInquiryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    virtualAccountNo: str = Field(min_length=1, max_length=40)
    bankCode: BankCode


class DepositPaymentRequest(DepositInquiryRequest):
    payment: SimulatedPayment
