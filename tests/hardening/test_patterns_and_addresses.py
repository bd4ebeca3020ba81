"""Validation patterns match the whole value; deprecated site-local IPv6 is not public."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import pytest

from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.ledger.fees import FeeScheduleError, _check
from clearing_gateway.users.schemas import _email
from clearing_gateway.webhooks.addresses import (
    BlockedAddressError,
    SystemResolver,
    check_url,
    is_public,
)
from tests.conftest import PRODUCTION_SETTINGS, MerchantFixture, make_settings


@pytest.mark.parametrize("text", ["100.00\n", "100\n", "5\n"])
def test_an_amount_with_a_trailing_newline_is_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_a_fee_method_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(FeeScheduleError):
        _check("topremit", "va\n")


def test_an_email_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="email"):
        _email("user@example.com\n")


async def test_a_webhook_header_name_ending_in_newline_is_refused(
    merchant: MerchantFixture,
) -> None:
    body: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "eventType": "va_payment",
        "url": "https://merchant.example/hook",
        "headers": {"X-Trace\n": "1"},
    }
    response = await merchant.client.post("/v1/webhooks", body)
    assert response.status_code == 422, response.text
    assert response.json()["reason"].startswith("headers")
    assert (await merchant.client.get("/v1/webhooks")).json()["data"] == []


@pytest.mark.parametrize("address", ["fec0::1", "fec0:1234::5", "feff:ffff::1"])
def test_site_local_ipv6_is_not_public(address: str) -> None:
    assert not is_public(ipaddress.IPv6Address(address))


async def test_production_refuses_a_site_local_webhook_address() -> None:
    settings = make_settings("sqlite:///unused.sqlite3", **PRODUCTION_SETTINGS)
    with pytest.raises(BlockedAddressError):
        await check_url("https://[fec0::1]/hook", settings, SystemResolver())
