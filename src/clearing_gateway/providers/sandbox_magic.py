"""Magic values of the built-in sandboxes (docs/sandbox.md): test mode as Stripe, Xendit
and Midtrans do it. Any well-formed account is a real account; these few numbers and
amounts trigger one outcome each, so a merchant can try every path without registering
anything. The table lives here so that the sandboxes and the docs test agree."""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import quote, unquote


class PayoutOutcome(StrEnum):
    NAME_MISMATCH = "name_mismatch"
    INVALID_ACCOUNT = "invalid_account"
    TIMEOUT = "timeout"
    PENDING = "pending"
    FAILED = "failed"
    REFUNDED = "refunded"
    INSUFFICIENT_BALANCE = "insufficient_balance"


# Beneficiary account numbers (any bank) → the outcome of a payout to them.
PAYOUT_ACCOUNTS: dict[str, PayoutOutcome] = {
    "9990000001": PayoutOutcome.NAME_MISMATCH,
    "9990000002": PayoutOutcome.INVALID_ACCOUNT,
    "9990000003": PayoutOutcome.TIMEOUT,
    "9990000004": PayoutOutcome.PENDING,
    "9990000006": PayoutOutcome.FAILED,
    "9990000007": PayoutOutcome.REFUNDED,
    "9990000008": PayoutOutcome.INSUFFICIENT_BALANCE,
}

# The holder an inquiry of the name-mismatch account reports: nobody's KYC name.
MISMATCH_HOLDER = "SANDBOX OTHER HOLDER"
# The holder of a well-formed account when the caller gave no name to expect.
DEFAULT_HOLDER = "SANDBOX ACCOUNT HOLDER"

# The gateway's sandbox-only hint: the holder name the merchant expects (percent-encoded,
# so any name fits in a header). Sent only outside production; a real provider ignores it.
HOLDER_HINT_HEADER = "X-Sandbox-Holder-Name"

_WELL_FORMED = re.compile(r"^[0-9]{4,34}$")


def well_formed_account(account_no: str) -> bool:
    """The merchant API's own account number rule (4 to 34 digits)."""
    return bool(_WELL_FORMED.match(account_no))


def payout_outcome(account_no: str) -> PayoutOutcome | None:
    return PAYOUT_ACCOUNTS.get(account_no)


def encode_hint(name: str) -> str:
    return quote(name, safe="")


def decode_hint(value: str | None) -> str | None:
    if not value:
        return None
    name = unquote(value).strip()
    return name[:200] or None


def holder_for(account_no: str, hint: str | None) -> str | None:
    """The holder a sandbox reports for an account nobody registered: None (unknown
    account) for the invalid-account number or a malformed one; the mismatch name for
    the name-mismatch number; else the name the caller expects."""
    outcome = payout_outcome(account_no)
    if outcome is PayoutOutcome.INVALID_ACCOUNT or not well_formed_account(account_no):
        return None
    if outcome is PayoutOutcome.NAME_MISMATCH:
        return MISMATCH_HOLDER
    return hint or DEFAULT_HOLDER


class DepositOutcome(StrEnum):
    FAILED = "failed"
    LATE_CALLBACK = "late_callback"
    DUPLICATE_CALLBACK = "duplicate_callback"
    PARTIAL = "partial"


# Payment amounts (the currency's major unit, as the merchant writes them) → outcome.
DEPOSIT_AMOUNTS: dict[str, DepositOutcome] = {
    "66600.00": DepositOutcome.FAILED,
    "77700.00": DepositOutcome.LATE_CALLBACK,
    "88800.00": DepositOutcome.DUPLICATE_CALLBACK,
    "55500.00": DepositOutcome.PARTIAL,
}
_DEPOSIT_MINOR = {int(text.replace(".", "")): outcome for text, outcome in DEPOSIT_AMOUNTS.items()}


def deposit_outcome(minor_amount: int | None) -> DepositOutcome | None:
    """For an amount in minor units of a two-decimal currency (IDR)."""
    return None if minor_amount is None else _DEPOSIT_MINOR.get(minor_amount)
