"""Which payments a VA may not take (pure rules; the HTTP path is in test_deposit_path)."""

from __future__ import annotations

import datetime as dt

import pytest

from clearing_gateway.deposits.service import refusal
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.events import PaymentReceived

NOW = utcnow()


def account(**overrides: object) -> VirtualAccount:
    values: dict[str, object] = {
        "status": "ACTIVE",
        "currency": "IDR",
        "min_amount": 1_000_000,
        "max_amount": 0,
        "expired_date": NOW + dt.timedelta(days=1),
    }
    values.update(overrides)
    return VirtualAccount(**values)


def payment(amount: int = 5_000_000, currency: str = "IDR") -> PaymentReceived:
    return PaymentReceived(
        provider="topremit",
        event_key="k",
        instrument="va",
        amount=amount,
        currency=currency,
        provider_payment_id="p",
    )


def test_accepts_a_normal_payment() -> None:
    assert refusal(account(), payment(), NOW) is None


@pytest.mark.parametrize(
    ("va", "paid", "words"),
    [
        (account(status="CANCELLED"), payment(), "CANCELLED"),
        (account(status="PAID"), payment(), "PAID"),
        (account(expired_date=NOW - dt.timedelta(seconds=1)), payment(), "expired"),
        (account(), payment(currency="USD"), "currency"),
        (account(), payment(amount=999_999), "minimum"),
        (account(max_amount=2_000_000), payment(amount=2_000_001), "maximum"),
    ],
)
def test_refuses(va: VirtualAccount, paid: PaymentReceived, words: str) -> None:
    reason = refusal(va, paid, NOW)
    assert reason is not None
    assert words in reason
