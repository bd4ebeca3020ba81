from __future__ import annotations

import pytest

from clearing_gateway.config import Settings
from clearing_gateway.providers.banks import UnknownBank, normalise_bank_code
from clearing_gateway.providers.config import ProviderConfigError, resolve_provider_config
from clearing_gateway.providers.registry import ProviderRegistry


def test_bank_codes_accept_bi_numbers_and_provider_codes() -> None:
    assert normalise_bank_code("014") == normalise_bank_code("BCA") == normalise_bank_code("14")
    assert normalise_bank_code("nobu") == "503"
    with pytest.raises(UnknownBank):
        normalise_bank_code("XYZ")


def test_routes_and_fallback_order() -> None:
    registry = ProviderRegistry()
    assert registry.virtual_account_providers("BRI") == ["topremit"]
    assert registry.virtual_account_providers("008") == []  # Mandiri VAs are not offered
    assert registry.disbursement_providers("008") == ["finpay", "finan"]
    assert registry.disbursement_providers("008", "VND") == ["finan"]
    assert registry.qris_providers() == ["topremit"]
    assert registry.cash_in_providers() == ["finan"]
    assert registry.supported_va_banks() == {"002", "014", "503"}
    assert ProviderRegistry(va_order=["finan"]).virtual_account_providers("014") == []


def test_sandbox_defaults_and_production_requirements() -> None:
    sandbox = resolve_provider_config(Settings(public_base_url="http://gw:8000"))
    assert sandbox.topremit.base_url == "http://gw:8000/sandbox/topremit"
    assert sandbox.finan.base_url == "http://gw:8000/sandbox/finan/open"
    with pytest.raises(ProviderConfigError) as missing:
        resolve_provider_config(Settings(gateway_env="production"))
    assert "TOPREMIT_CLIENT_SECRET" in str(missing.value)
    assert "FINPAY_MERCHANT_KEY" in str(missing.value)
    assert "sandbox" not in str(missing.value)
