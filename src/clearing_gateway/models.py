"""Every table, imported in one place so metadata (and Alembic) sees the whole schema."""

from clearing_gateway.console.models import ConsoleAccount, ConsoleAuditEntry, ConsoleSession
from clearing_gateway.db import Base
from clearing_gateway.debits.models import MerchantDebit
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.jobs.models import Job
from clearing_gateway.ledger.models import (
    FeeSchedule,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    LedgerTransfer,
)
from clearing_gateway.merchants.models import Merchant, MerchantApiKey
from clearing_gateway.providers.models import ProviderCallback, ProviderEventClaim
from clearing_gateway.reconciliation.models import ReconciliationBreak
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep
from clearing_gateway.users.models import User
from clearing_gateway.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatusChange

__all__ = [
    "Base",
    "ConsoleAccount",
    "ConsoleAuditEntry",
    "ConsoleSession",
    "Deposit",
    "FeeSchedule",
    "IdempotencyRecord",
    "Job",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "LedgerTransfer",
    "Merchant",
    "MerchantApiKey",
    "MerchantDebit",
    "PaymentException",
    "ProviderCallback",
    "ProviderEventClaim",
    "ReconciliationBreak",
    "SettlementPolicy",
    "SettlementSweep",
    "User",
    "VirtualAccount",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "Withdrawal",
    "WithdrawalStatusChange",
]
