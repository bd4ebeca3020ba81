"""The connectors one gateway process holds: built from settings, owned by the Runtime."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from clearing_gateway.config import Settings
from clearing_gateway.providers.base import CallbackAdapter
from clearing_gateway.providers.callbacks import CallbackHandlers, handlers
from clearing_gateway.providers.config import ProviderConfig, resolve_provider_config
from clearing_gateway.providers.finan.callbacks import FinanCallbacks
from clearing_gateway.providers.finan.client import FinanClient
from clearing_gateway.providers.finpay.callbacks import FinpayCallbacks
from clearing_gateway.providers.finpay.client import FinpayClient
from clearing_gateway.providers.registry import ProviderRegistry
from clearing_gateway.providers.topremit.callbacks import TopremitCallbacks
from clearing_gateway.providers.topremit.client import TopremitClient
from clearing_gateway.providers.transport import new_http_client


@dataclass
class Providers:
    config: ProviderConfig
    registry: ProviderRegistry
    topremit: TopremitClient
    finpay: FinpayClient
    finan: FinanClient
    callbacks: dict[str, CallbackAdapter]
    handlers: CallbackHandlers = field(default=handlers)
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)

    def connector(self, name: str) -> TopremitClient | FinpayClient | FinanClient:
        connectors: dict[str, TopremitClient | FinpayClient | FinanClient] = {
            "topremit": self.topremit,
            "finpay": self.finpay,
            "finan": self.finan,
        }
        return connectors[name]

    async def aclose(self) -> None:
        for client in self.http_clients:
            await client.aclose()


def build_providers(settings: Settings) -> Providers:
    config = resolve_provider_config(settings)
    clients = [new_http_client(config.connect_timeout, config.read_timeout) for _ in range(3)]
    topremit = TopremitClient(config.topremit, clients[0])
    finpay = FinpayClient(config.finpay, clients[1])
    finan = FinanClient(config.finan, clients[2])
    return Providers(
        config=config,
        registry=ProviderRegistry(va_order=settings.va_provider_order),
        topremit=topremit,
        finpay=finpay,
        finan=finan,
        callbacks={
            "topremit": TopremitCallbacks(config.topremit, topremit),
            "finpay": FinpayCallbacks(config.finpay, finpay),
            "finan": FinanCallbacks(config.finan, finan),
        },
        http_clients=clients,
    )
