"""The connector protocol: one typed interface per capability.

A provider package implements the capabilities it has; the registry says which
provider serves which (instrument, bank, currency). Amounts are minor units throughout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from clearing_gateway.providers.errors import CallbackRejected
from clearing_gateway.providers.events import (
    DisbursementStatus,
    DisbursementStatusChanged,
    ProviderEvent,
)


@dataclass(frozen=True)
class VirtualAccountRequest:
    reference: str  # our unique transaction id for this VA (Topremit `trxId`)
    bank_code: str  # BI numeric code, e.g. "014"
    customer_no: str
    name: str
    amount: int | None  # minor units; None for an open-amount VA
    currency: str = "IDR"
    expires_at: dt.datetime | None = None
    description: str = ""
    virtual_account_no: str | None = None  # a desired number, when the provider allows it


@dataclass(frozen=True)
class VirtualAccount:
    provider: str
    reference: str
    virtual_account_no: str
    customer_no: str
    bank_code: str
    status: str  # PENDING | PAID | EXPIRED | CANCELED
    amount: int | None
    currency: str
    expires_at: dt.datetime | None
    provider_payment_id: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class QrisRequest:
    reference: str  # our partnerReferenceNo
    amount: int
    currency: str = "IDR"
    expires_at: dt.datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class Qris:
    provider: str
    reference: str
    provider_reference: str
    qr_content: str
    status: str  # PENDING | PAID | EXPIRED
    amount: int
    currency: str
    paid_at: dt.datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AccountInquiry:
    provider: str
    bank_code: str
    account_no: str
    account_name: str
    fee: int  # minor units
    inquiry_reference: str | None  # Finpay `refCode`, required by its transfer


@dataclass(frozen=True)
class TransferRequest:
    reference: str  # our partner reference; the same across every retry
    bank_code: str
    account_no: str
    account_name: str
    amount: int
    currency: str = "IDR"
    inquiry_reference: str | None = None
    description: str = ""


@dataclass(frozen=True)
class TransferStatus:
    provider: str
    reference: str
    provider_reference: str | None
    status: DisbursementStatus
    provider_status_code: str
    message: str = ""
    amount: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    # What the provider charges us for the transfer (minor units), when it says.
    fee: int | None = None


@dataclass(frozen=True)
class PaymentRequest:
    """A cash-in payment request (Finan `POST /payments`)."""

    reference: str
    amount: int
    currency: str
    customer_name: str
    description: str = ""


@dataclass(frozen=True)
class PaymentRequestCreated:
    provider: str
    reference: str
    provider_payment_id: str
    status: str
    amount: int
    currency: str
    payment_url: str | None = None
    qr_code: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@runtime_checkable
class VirtualAccountConnector(Protocol):
    name: str

    async def create_virtual_account(self, request: VirtualAccountRequest) -> VirtualAccount: ...

    async def inquire_virtual_account(self, account: VirtualAccount) -> VirtualAccount: ...

    async def cancel_virtual_account(self, account: VirtualAccount) -> VirtualAccount: ...


@runtime_checkable
class QrisConnector(Protocol):
    name: str

    async def create_qris(self, request: QrisRequest) -> Qris: ...

    async def inquire_qris(self, reference: str, provider_reference: str) -> Qris: ...


@runtime_checkable
class DisbursementConnector(Protocol):
    name: str

    async def transfer(self, request: TransferRequest) -> TransferStatus: ...

    async def check_status(self, reference: str) -> TransferStatus: ...

    async def confirm(self, event: DisbursementStatusChanged) -> DisbursementStatusChanged: ...


@runtime_checkable
class AccountInquiryConnector(Protocol):
    """A capability of its own: a provider that can name an account's holder before a
    transfer (Finpay). One without it (Finan) checks the account at transfer time.

    `holder_hint` is the name the merchant expects; only the built-in sandboxes read it
    (docs/sandbox.md), and it is never sent in production."""

    name: str

    async def inquire_account(
        self, bank_code: str, account_no: str, *, holder_hint: str | None = None
    ) -> AccountInquiry: ...


@runtime_checkable
class CashInConnector(Protocol):
    name: str

    async def create_payment_request(self, request: PaymentRequest) -> PaymentRequestCreated: ...


@dataclass(frozen=True)
class RawCallback:
    """A provider callback exactly as it arrived."""

    provider: str
    channel: str  # which endpoint: "va", "qris", "disbursement", "webhook"
    path: str  # the path the provider called (query string included when present)
    headers: dict[str, str]  # lower-case names
    body: bytes
    # Behind PUBLIC_PATH_PREFIX the provider signs the public URL's path: the paths a
    # signature may cover, public first (empty: `path` alone).
    signed_paths: tuple[str, ...] = ()

    def paths(self) -> tuple[str, ...]:
        return self.signed_paths or (self.path,)

    source: str | None = None  # the caller's address (providers/intake.py source_of)


@dataclass(frozen=True)
class CallbackReply:
    status_code: int
    body: bytes
    media_type: str = "application/json"


class CallbackAdapter(Protocol):
    """Verifies one provider's callbacks and turns them into normalised events."""

    provider: str

    def verify(self, callback: RawCallback) -> ProviderEvent:
        """The event, or `CallbackRejected` when it is forged, stale or malformed."""
        ...

    async def confirm(self, event: ProviderEvent) -> ProviderEvent:
        """Re-read the provider's own API where its callbacks are not proof enough.

        Raises `CallbackRejected` when the provider does not confirm the event, and a
        `ProviderError` when it cannot be asked right now (the callback is retried)."""
        ...

    def accepted(self) -> CallbackReply: ...

    def rejected(self, error: CallbackRejected) -> CallbackReply: ...

    def unavailable(self) -> CallbackReply: ...
