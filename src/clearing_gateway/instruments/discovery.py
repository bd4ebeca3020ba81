"""`GET /v1/payment-instruments`: what a merchant can use, grouped by upstream provider."""

from __future__ import annotations

from typing import Any

from clearing_gateway.providers.banks import BANKS, SHORT_CODE
from clearing_gateway.providers.registry import Capability, ProviderRegistry

INSTRUMENT_TYPES = {
    Capability.VIRTUAL_ACCOUNT: "VA",
    Capability.QRIS: "QRIS",
    Capability.CASH_IN: "CASH_IN",
    Capability.DISBURSEMENT: "DISBURSEMENT",
}


def payment_instruments(registry: ProviderRegistry) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for route in registry.routes:
        if (
            route.capability is Capability.VIRTUAL_ACCOUNT
            and registry.va_order
            and route.provider not in registry.va_order
        ):
            continue  # configured out of VA_PROVIDER_ORDER
        banks = sorted(route.banks) if route.banks is not None else sorted(BANKS)
        for currency in sorted(route.currencies):
            grouped.setdefault(route.provider, []).append(
                {
                    "type": INSTRUMENT_TYPES[route.capability],
                    "currency": currency,
                    "status": "ACTIVE",
                    "bankCodes": banks if route.capability is not Capability.QRIS else [],
                    "banks": [
                        {"bankCode": code, "name": SHORT_CODE.get(code) or BANKS.get(code, code)}
                        for code in banks
                        if route.capability is not Capability.QRIS
                    ],
                }
            )
    return [{"provider": provider, "instruments": items} for provider, items in grouped.items()]
