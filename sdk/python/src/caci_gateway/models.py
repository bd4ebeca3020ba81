"""Typed models of every request and response (snake_case in Python, camelCase on the wire).

Responses accept keys this SDK does not know yet (`extra="allow"`), so a gateway that adds
a field never breaks an older SDK.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

UserType = Literal["institutional", "retail", "other"]
EventType = Literal["va_payment", "transfer", "qr_payment", "debit_notify"]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class _Request(_Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    # Omit it and the client generates one, reused on every retry of the call.
    request_id: str | None = None


# --- requests ----------------------------------------------------------------------------


class WhitelistedWithdrawalAccount(_Wire):
    bank_code: str
    account_no: str
    account_name: str | None = None


class _UserFields(_Request):
    phone: str | None = None
    email: str | None = None
    nationality: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    whitelisted_kyc_names: list[str] | None = None
    whitelisted_withdrawal_accounts: list[WhitelistedWithdrawalAccount] | None = None


class CreateUserRequest(_UserFields):
    user_id: str
    kyc_name: str
    type: UserType


class UpdateUserRequest(_UserFields):
    kyc_name: str | None = None
    type: UserType | None = None


class CreateVirtualAccountRequest(_Request):
    user_id: str
    bank_code: str


class UpdateVirtualAccountRequest(_Request):
    virtual_account_name: str | None = None
    expired_date: dt.datetime | None = None


class CreateFixedAmountRequest(_Request):
    """A QRIS code or a cash-in payment request for one payment of `amount`."""

    user_id: str
    amount: str
    currency: str | None = None


class CreateWithdrawalRequest(_Request):
    user_id: str
    merchant_reference: str
    beneficiary_bank_code: str
    beneficiary_account_no: str
    beneficiary_account_name: str | None = None
    amount: str
    merchant_fee: str | None = None


class CreateWebhookRequest(_Request):
    event_type: EventType
    url: str
    headers: dict[str, str] | None = None
    is_active: bool | None = None
    description: str | None = None


class UpdateWebhookRequest(_Request):
    url: str | None = None
    headers: dict[str, str] | None = None
    is_active: bool | None = None
    description: str | None = None


class RetryWebhookRequest(_Request):
    transaction_id: str


class DepositInquiryRequest(_Wire):
    virtual_account_no: str
    bank_code: str


class SimulatedPaymentDetails(_Wire):
    amount: str
    currency: str | None = None
    payer_name: str | None = None


class DepositPaymentRequest(DepositInquiryRequest):
    payment: SimulatedPaymentDetails


class BalanceTopUpRequest(_Request):
    """Simulate Balance Top-Up (sandbox only): fund one of the merchant's vaults."""

    provider: str
    vault_type: str
    amount: str
    currency: str | None = None


class SweepRequest(_Request):
    """Sweep Settled Deposits: only a requestId (generated when omitted)."""


class TransactionFilters(_Wire):
    """Query of List Deposits / List Withdrawals (range at most 90 days)."""

    user_id: str | None = None
    status: str | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    trx_date_time_start: dt.datetime | None = None
    trx_date_time_end: dt.datetime | None = None
    limit: int | None = None
    offset: int | None = None


# --- responses ---------------------------------------------------------------------------


class Acknowledgement(_Wire):
    """The envelope of a response without `data` (deletes)."""

    code: int
    message: str
    reason: str | None = None
    request_id: str | None = None
    timestamp: int


class User(_Wire):
    id: str
    user_id: str
    kyc_name: str
    phone: str | None = None
    email: str | None = None
    type: str
    nationality: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    whitelisted_kyc_names: list[str] = Field(default_factory=list)
    whitelisted_withdrawal_accounts: list[WhitelistedWithdrawalAccount] = Field(
        default_factory=list
    )
    status: str
    created_at: str
    updated_at: str


class VirtualAccount(_Wire):
    payment_instrument_id: str
    user_id: str
    type: str
    bank_code: str
    provider: str
    virtual_account_no: str
    virtual_account_name: str
    currency: str
    min_amount: str
    max_amount: str | None = None
    qr_content: str | None = None
    payment_url: str | None = None
    status: str
    expired_date: str | None = None
    created_at: str
    updated_at: str


class Bank(_Wire):
    bank_code: str
    name: str | None = None


class PaymentInstrument(_Wire):
    type: str
    currency: str
    status: str | None = None
    bank_codes: list[str] = Field(default_factory=list)
    banks: list[Bank] = Field(default_factory=list)


class ProviderInstruments(_Wire):
    provider: str
    instruments: list[PaymentInstrument]


class Withdrawal(_Wire):
    transaction_id: str
    user_id: str
    merchant_reference: str
    beneficiary_bank_code: str
    beneficiary_account_no: str
    beneficiary_account_name: str | None = None
    amount: str
    merchant_fee: str | None = None
    fee: str
    currency: str
    status: str
    provider: str
    provider_reference: str | None = None
    failure_reason: str | None = None
    created_at: str
    updated_at: str
    completed_at: str | None = None


class Deposit(_Wire):
    transaction_id: str
    payment_instrument_id: str
    user_id: str
    virtual_account_no: str
    bank_code: str
    provider: str
    instrument: str
    payment_request_id: str
    payer_name: str | None = None
    amount: str
    fee: str
    net_amount: str
    currency: str
    status: str
    failure_reason: str | None = None
    trx_date_time: str
    created_at: str


Item = TypeVar("Item")


class Page(_Wire, Generic[Item]):
    """One page of List Deposits / List Withdrawals. `total` stops counting at 10,000
    (`total_capped` is then true)."""

    total: int
    total_capped: bool = False
    limit: int
    offset: int
    transactions: list[Item]


WithdrawalPage = Page[Withdrawal]
DepositPage = Page[Deposit]


class VaultBalance(_Wire):
    vault_type: str
    currency: str
    available: str
    pending: str
    last_updated: str


class ProviderBalances(_Wire):
    provider: str
    balances: list[VaultBalance]


class Debit(_Wire):
    """Get Debit: the vault debit a debit_notify announced (the authoritative record)."""

    transaction_id: str
    caci_tx_id: str
    debit_type: str
    status: str
    amount: str
    currency: str
    provider: str
    vault_type: str
    source_account_no: str | None = None
    destination_account_no: str | None = None
    balance_after: str | None = None
    description: str | None = None
    original_reference_no: str | None = None
    trx_date_time: str | None = None
    created_at: str | None = None


class Sweep(_Wire):
    """Sweep Settled Deposits: what moved into the withdrawal vault (`swept` false: nothing
    had settled yet)."""

    swept: bool
    sweep_id: str | None = None
    amount: str
    currency: str
    target_provider: str
    delay: str
    cutoff: str
    transfer_id: str | None = None
    created_at: str | None = None


class BalanceTopUp(_Wire):
    """Simulate Balance Top-Up: the ledger transfer and the vault's balance after it."""

    transfer_id: str
    merchant_id: str
    provider: str
    vault_type: str
    amount: str
    currency: str
    available: str
    pending: str


class Webhook(_Wire):
    id: str
    # Same as `id`; sent by gateways from 1.0.3 on (older ones send `id` only).
    webhook_id: str | None = None
    event_type: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    is_active: bool
    description: str | None = None
    disabled_reason: str | None = None
    created_at: str
    updated_at: str


class WebhookWithSecret(Webhook):
    secret: str


class WebhookSecret(_Wire):
    id: str
    secret: str
    previous_secret_expires_at: str | None = None


class ScheduledDelivery(_Wire):
    webhook_id: str
    url: str


class WebhookRetry(_Wire):
    transaction_id: str
    event_id: str
    event_type: str
    scheduled: list[ScheduledDelivery]


class WebhookDelivery(_Wire):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    transaction_id: str
    url: str
    attempt: int
    trigger: str
    status: str
    status_code: int | None = None
    latency_ms: int
    response_body: str | None = None
    error: str | None = None
    next_attempt_at: str | None = None
    created_at: str


class SimulatedDeposit(Deposit):
    """Simulate Deposit Payment: the deposit created (also the top-level transactionId)."""


# --- outgoing webhook payloads (the document's "Payload Schemas") -----------------------


class Amount(_Wire):
    value: str
    currency: str


class CustomerInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    customer_id: str | None = None
    customer_ref_id: str | None = None
    given_name: str | None = None
    email: str | None = None
    mobile: str | None = None


class DepositEventInfo(_Wire):
    min_amount: int | None = None
    max_amount: int | None = None
    bank_code: str | None = None
    customer_info: CustomerInfo | None = None
    expired_date: str | None = None
    failure_reason: str | None = None
    merchant_user_id: str | None = None
    caci_tx_id: str


class VaPaymentEvent(_Wire):
    """`va_payment` (and `qr_payment`, virtualAccountType "02")."""

    partner_service_id: str | None = None
    customer_no: str | None = None
    virtual_account_no: str | None = None
    trx_id: str | None = None
    payment_request_id: str | None = None
    paid_amount: Amount
    trx_date_time: str | None = None
    virtual_account_name: str | None = None
    virtual_account_type: str | None = None
    virtual_account_phone: str | None = None
    virtual_account_email: str | None = None
    additional_info: DepositEventInfo


class TransferEventInfo(_Wire):
    merchant_user_id: str | None = None
    caci_tx_id: str


class TransferEvent(_Wire):
    original_reference_no: str | None = None
    original_partner_reference_no: str | None = None
    response_code: str
    response_message: str | None = None
    amount: Amount
    payment_instrument_id: str | None = None
    beneficiary_account_no: str | None = None
    beneficiary_bank_code: str | None = None
    source_account_no: str | None = None
    additional_info: TransferEventInfo


class DebitNotifyInfo(_Wire):
    balance_after: str | None = None
    caci_tx_id: str


class DebitNotifyEvent(_Wire):
    """A vault debit that is not a withdrawal (settlement sweep, fee, adjustment, cash-out).
    The document lists the event type without a payload; the gateway's follows `transfer`.
    Confirm with `get_debit(additional_info.caci_tx_id)`."""

    original_reference_no: str | None = None
    response_code: str | None = None
    response_message: str | None = None
    debit_type: str | None = None
    amount: Amount | None = None
    provider: str | None = None
    vault_type: str | None = None
    source_account_no: str | None = None
    destination_account_no: str | None = None
    trx_date_time: str | None = None
    description: str | None = None
    additional_info: DebitNotifyInfo


EventPayload = VaPaymentEvent | TransferEvent | DebitNotifyEvent
