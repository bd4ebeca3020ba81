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


class BalanceTopUpRequest(BaseModel):
    """Fund a vault directly (sandbox only). `merchantId` names the merchant when the
    request is unsigned; a signed request tops up the signer's own vault."""

    model_config = ConfigDict(extra="ignore")

    requestId: str | None = Field(default=None, min_length=1, max_length=64)
    merchantId: str | None = Field(default=None, max_length=64)
    provider: str = Field(examples=["finpay"])
    vaultType: str = Field(examples=["withdrawal"])
    amount: str = Field(examples=["1000000.00"])
    currency: str = Field(default="IDR", pattern=r"^[A-Z]{3}$")


class BalanceTopUpOut(BaseModel):
    transferId: str
    merchantId: str
    provider: str
    vaultType: str
    amount: str
    currency: str
    available: str
    pending: str
