"""Account keys and postings: the vocabulary callers use to describe a movement.

An account is named by what it is (merchant vault, provider clearing, fee revenue), not
by a database id. Its id is derived from that name (UUIDv5), so the same key always
means the same row and the ledger can order locks without reading anything first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from clearing_gateway.kit.money import CURRENCY_EXPONENT, DEFAULT_CURRENCY

PROVIDERS: tuple[str, ...] = ("topremit", "finpay", "finan")
VAULTS: tuple[str, ...] = ("deposit", "withdrawal")

# Fixed namespace: account ids must never change once money sits on them.
_ACCOUNT_NAMESPACE = uuid.UUID("6f1d0c3e-3b0a-5d0e-9a57-6c6564676572")


class AccountKind(StrEnum):
    MERCHANT_VAULT = "merchant_vault"
    PROVIDER_CLEARING = "provider_clearing"
    FEE_REVENUE = "fee_revenue"


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")


def _check_currency(currency: str) -> None:
    if currency not in CURRENCY_EXPONENT:
        raise ValueError(f"unsupported currency {currency!r}")


@dataclass(frozen=True)
class AccountKey:
    kind: AccountKind
    provider: str
    currency: str
    merchant_id: uuid.UUID | None = None
    vault_type: str | None = None

    def __post_init__(self) -> None:
        _check_provider(self.provider)
        _check_currency(self.currency)
        is_vault = self.kind is AccountKind.MERCHANT_VAULT
        if is_vault and (self.merchant_id is None or self.vault_type not in VAULTS):
            raise ValueError(f"a merchant vault needs a merchant and a vault in {VAULTS}")
        if not is_vault and (self.merchant_id is not None or self.vault_type is not None):
            raise ValueError("system accounts belong to no merchant and no vault")

    @classmethod
    def vault(
        cls,
        merchant_id: uuid.UUID,
        provider: str,
        vault: str,
        currency: str = DEFAULT_CURRENCY,
    ) -> AccountKey:
        return cls(AccountKind.MERCHANT_VAULT, provider, currency, merchant_id, vault)

    @classmethod
    def clearing(cls, provider: str, currency: str = DEFAULT_CURRENCY) -> AccountKey:
        return cls(AccountKind.PROVIDER_CLEARING, provider, currency)

    @classmethod
    def fee_revenue(cls, provider: str, currency: str = DEFAULT_CURRENCY) -> AccountKey:
        return cls(AccountKind.FEE_REVENUE, provider, currency)

    @cached_property
    def code(self) -> str:
        """Stable, human-readable name; unique in `ledger_accounts.code`."""
        if self.kind is AccountKind.MERCHANT_VAULT:
            return f"merchant:{self.merchant_id}:{self.provider}:{self.vault_type}:{self.currency}"
        return f"{self.kind.value}:{self.provider}:{self.currency}"

    @cached_property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(_ACCOUNT_NAMESPACE, self.code)

    @property
    def must_not_go_negative(self) -> bool:
        """Merchant vaults hold merchants' money: never overdrawn. System accounts may
        go either way (clearing is an asset, fee revenue can be refunded)."""
        return self.kind is AccountKind.MERCHANT_VAULT

    @property
    def lock_order(self) -> tuple[bool, uuid.UUID]:
        """One global order in which a transaction locks account rows (vaults first,
        then system accounts, each by id): no two transfers can wait on each other.
        Vaults first, so an overdraft is refused before the hot clearing and fee
        accounts are locked, and those are held the shortest."""
        return (not self.must_not_go_negative, self.id)

    @classmethod
    def from_code(cls, code: str) -> AccountKey:
        parts = code.split(":")
        if parts[0] == "merchant" and len(parts) == 5:
            return cls.vault(uuid.UUID(parts[1]), parts[2], parts[3], parts[4])
        if len(parts) == 3:
            return cls(AccountKind(parts[0]), parts[1], parts[2])
        raise ValueError(f"not an account code: {code!r}")


@dataclass(frozen=True)
class Posting:
    """Move `amount` minor units from `debit` to `credit` (both in one currency)."""

    debit: AccountKey
    credit: AccountKey
    amount: int

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError(f"posting amount must be a positive integer, got {self.amount!r}")
        if self.debit == self.credit:
            raise ValueError("a posting must move money between two different accounts")
        if self.debit.currency != self.credit.currency:
            raise ValueError("a posting cannot convert currencies")


def deposit_postings(
    merchant_id: uuid.UUID,
    provider: str,
    gross: int,
    fee: int,
    currency: str = DEFAULT_CURRENCY,
) -> list[Posting]:
    """A deposit of `gross`: the provider owes us `gross`; the merchant's deposit vault
    gets `gross - fee`, fee revenue gets `fee`. Zero legs are left out."""
    if not 0 <= fee <= gross:
        raise ValueError("the fee must be between zero and the deposited amount")
    source = AccountKey.clearing(provider, currency)
    legs = [
        (AccountKey.vault(merchant_id, provider, "deposit", currency), gross - fee),
        (AccountKey.fee_revenue(provider, currency), fee),
    ]
    return [Posting(source, account, amount) for account, amount in legs if amount > 0]


def withdrawal_postings(
    merchant_id: uuid.UUID,
    provider: str,
    amount: int,
    fee: int,
    currency: str = DEFAULT_CURRENCY,
) -> list[Posting]:
    """A payout of `amount` plus `fee`, both taken from the withdrawal vault: `amount`
    goes to provider clearing (the provider pays it out), `fee` to fee revenue."""
    if amount <= 0 or fee < 0:
        raise ValueError("a payout needs a positive amount and a non-negative fee")
    source = AccountKey.vault(merchant_id, provider, "withdrawal", currency)
    legs = [
        (AccountKey.clearing(provider, currency), amount),
        (AccountKey.fee_revenue(provider, currency), fee),
    ]
    return [Posting(source, account, value) for account, value in legs if value > 0]
