from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.money import format_amount
from clearing_gateway.kit.schemas import BlankIsAbsent
from clearing_gateway.users.schemas import AccountNo, BankCode, Name, RequestId, UserId
from clearing_gateway.withdrawals.models import Withdrawal

Reference = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class CreateWithdrawalRequest(BlankIsAbsent):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    userId: UserId
    merchantReference: Reference
    beneficiaryBankCode: BankCode
    beneficiaryAccountNo: AccountNo
    beneficiaryAccountName: Name | None = None
    amount: str
    merchantFee: str | None = None


class WithdrawalOut(BaseModel):
    transactionId: str
    userId: str
    merchantReference: str
    beneficiaryBankCode: str
    beneficiaryAccountNo: str
    beneficiaryAccountName: str | None
    amount: str
    merchantFee: str | None
    fee: str
    currency: str
    status: str
    provider: str
    providerReference: str
    failureReason: str | None
    createdAt: str
    updatedAt: str
    completedAt: str | None


class WithdrawalPage(BaseModel):
    total: int
    totalCapped: bool
    limit: int
    offset: int
    transactions: list[WithdrawalOut]


def withdrawal_out(w: Withdrawal) -> dict[str, object]:
    return WithdrawalOut(
        transactionId=str(w.id),
        userId=w.user_ref,
        merchantReference=w.merchant_reference,
        beneficiaryBankCode=w.beneficiary_bank_code,
        beneficiaryAccountNo=w.beneficiary_account_no,
        beneficiaryAccountName=w.beneficiary_account_name,
        amount=format_amount(w.amount, w.currency),
        merchantFee=None if w.merchant_fee is None else format_amount(w.merchant_fee, w.currency),
        fee=format_amount(w.fee, w.currency),
        currency=w.currency,
        status=w.status,
        provider=w.provider,
        providerReference=w.provider_transaction_id or w.provider_reference,
        failureReason=w.failure_reason,
        createdAt=isoformat(w.created_at) or "",
        updatedAt=isoformat(w.updated_at) or "",
        completedAt=isoformat(w.completed_at),
    ).model_dump()
