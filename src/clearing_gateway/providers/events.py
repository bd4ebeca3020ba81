"""Normalised provider events: what every callback becomes once verified."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

Instrument = Literal["va", "qris", "cashin"]


class DisbursementStatus(StrEnum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    NOT_FOUND = "NOT_FOUND"

    @property
    def is_terminal(self) -> bool:
        return self in (
            DisbursementStatus.SUCCESS,
            DisbursementStatus.FAILED,
            DisbursementStatus.REFUNDED,
        )


@dataclass(frozen=True)
class PaymentReceived:
    """Money arrived on one of our instruments (VA, QRIS, cash-in payment request)."""

    provider: str
    event_key: str
    instrument: Instrument
    amount: int  # minor units
    currency: str
    provider_payment_id: str
    virtual_account_no: str | None = None
    # Our reference for the instrument: VA trxId, QRIS partnerReferenceNo, cash-in reference_id.
    reference: str | None = None
    paid_at: dt.datetime | None = None
    payer_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    # True when `amount` is the running total paid on `provider_payment_id` (Finan's
    # `paid_amount`), which grows as a payment is completed in steps: the deposit is
    # then the increase over what was already accounted for.
    cumulative: bool = False


@dataclass(frozen=True)
class DisbursementStatusChanged:
    """A transfer we asked for moved (or was confirmed) at the provider."""

    provider: str
    event_key: str
    reference: str  # our partner reference (the order id we sent)
    provider_reference: str | None
    status: DisbursementStatus
    provider_status_code: str
    message: str = ""
    amount: int | None = None  # minor units, when the provider says
    currency: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    # What the notification itself said, when confirmation replaced it with the read API's
    # status (which may lag behind: the domain keeps the news and re-checks).
    notified_status: DisbursementStatus | None = None

    def with_status(
        self, status: DisbursementStatus, code: str, message: str
    ) -> DisbursementStatusChanged:
        return replace(
            self,
            status=status,
            provider_status_code=code,
            message=message,
            notified_status=self.notified_status or self.status,
        )


ProviderEvent = PaymentReceived | DisbursementStatusChanged
