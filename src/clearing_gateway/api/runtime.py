"""What one running gateway process holds: settings, the database, shared clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clearing_gateway.config import Settings

if TYPE_CHECKING:
    from clearing_gateway.merchants.credentials import CredentialCache
    from clearing_gateway.providers.hub import Providers


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    extras: dict[str, Any] = field(default_factory=dict)
    # Provider connectors with their pooled HTTP clients (closed by aclose).
    providers: Providers | None = None
    # Set on SIGTERM/SIGINT: /readyz answers 503 while requests in flight finish.
    draining: bool = False
    # Verified merchant credentials of this API process (merchants/credentials.py).
    credentials: CredentialCache | None = None

    async def close_resources(self) -> None:
        """Close what domains opened lazily in `extras` (HTTP clients); not the engine."""
        for key, value in list(self.extras.items()):
            aclose = getattr(value, "aclose", None)
            if callable(aclose):
                del self.extras[key]
                await aclose()

    async def aclose(self) -> None:
        """Close everything: provider clients, lazily opened clients, then the engine."""
        if self.providers is not None:
            await self.providers.aclose()
        await self.close_resources()
        await self.engine.dispose()
