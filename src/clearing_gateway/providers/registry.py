"""Which provider serves which (capability, bank, currency), in order of preference."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clearing_gateway.providers.banks import UnknownBank, normalise_bank_code


class Capability(StrEnum):
    VIRTUAL_ACCOUNT = "va"
    QRIS = "qris"
    CASH_IN = "cashin"
    DISBURSEMENT = "disbursement"


@dataclass(frozen=True)
class Route:
    provider: str
    capability: Capability
    currencies: frozenset[str]
    banks: frozenset[str] | None = None  # None: any bank

    def serves(self, capability: Capability, currency: str, bank: str | None) -> bool:
        if capability is not self.capability or currency not in self.currencies:
            return False
        return self.banks is None or (bank is not None and bank in self.banks)


DEFAULT_ROUTES: tuple[Route, ...] = (
    Route(
        "topremit", Capability.VIRTUAL_ACCOUNT, frozenset({"IDR"}), frozenset({"002", "014", "503"})
    ),
    Route("topremit", Capability.QRIS, frozenset({"IDR"})),
    Route("finan", Capability.CASH_IN, frozenset({"IDR", "VND"})),
    Route("finpay", Capability.DISBURSEMENT, frozenset({"IDR"})),
    Route("finan", Capability.DISBURSEMENT, frozenset({"IDR", "VND"})),
)


class ProviderRegistry:
    """Routes are listed in preference order; `va_order` reorders VA providers."""

    def __init__(
        self, routes: tuple[Route, ...] = DEFAULT_ROUTES, va_order: list[str] | None = None
    ) -> None:
        self.routes = routes
        self.va_order = va_order or []

    def providers_for(
        self, capability: Capability, currency: str = "IDR", bank_code: str | None = None
    ) -> list[str]:
        bank = None
        if bank_code is not None:
            try:
                bank = normalise_bank_code(bank_code)
            except UnknownBank:
                return []
        found: list[str] = []
        for route in self.routes:
            if route.serves(capability, currency.upper(), bank) and route.provider not in found:
                found.append(route.provider)
        if capability is Capability.VIRTUAL_ACCOUNT and self.va_order:
            # Configured order first; providers not named there are not used for VAs.
            found = [name for name in self.va_order if name in found]
        return found

    def virtual_account_providers(self, bank_code: str, currency: str = "IDR") -> list[str]:
        return self.providers_for(Capability.VIRTUAL_ACCOUNT, currency, bank_code)

    def qris_providers(self, currency: str = "IDR") -> list[str]:
        return self.providers_for(Capability.QRIS, currency)

    def cash_in_providers(self, currency: str = "IDR") -> list[str]:
        return self.providers_for(Capability.CASH_IN, currency)

    def disbursement_providers(self, bank_code: str, currency: str = "IDR") -> list[str]:
        return self.providers_for(Capability.DISBURSEMENT, currency, bank_code)

    def supported_va_banks(self) -> set[str]:
        banks: set[str] = set()
        for route in self.routes:
            if route.capability is Capability.VIRTUAL_ACCOUNT and route.banks:
                banks |= route.banks
        return banks
