"""The gateway in sandbox mode served over real HTTP, with its three sandboxes mounted."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import create_app
from clearing_gateway.config import Settings
from clearing_gateway.providers.callbacks import handlers
from clearing_gateway.providers.hub import Providers, build_providers
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.providers.sandboxes import Sandboxes
from tests.support.live_server import LiveServer, bind_free_socket, socket_url

T = TypeVar("T")


@pytest.fixture(autouse=True)
def pipeline_without_domain_handlers() -> Iterator[None]:
    """These tests exercise the callback pipeline alone: the handlers domains register
    at import time are set aside for the test and put back afterwards."""
    saved = dict(handlers._handlers)
    handlers._handlers.clear()
    try:
        yield
    finally:
        handlers._handlers.clear()
        handlers._handlers.update(saved)


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    sock = bind_free_socket()
    yield sock
    sock.close()


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {
        "public_base_url": socket_url(live_socket),
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.1,
    }


@dataclass
class LiveGateway:
    url: str
    sandboxes: Sandboxes
    http: httpx.AsyncClient

    def sandbox_url(self, name: str) -> str:
        return f"{self.url}/sandbox/{name}"

    async def control(self, name: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(f"{self.sandbox_url(name)}/control/{path}", json=body or {})
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture
async def gateway(settings: Settings, live_socket: socket.socket) -> AsyncIterator[LiveGateway]:
    app = create_app(settings=settings)
    server = LiveServer(app, live_socket).start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            yield LiveGateway(server.url, app.state.sandboxes, client)
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def providers(settings: Settings) -> AsyncIterator[Providers]:
    built = build_providers(settings)
    try:
        yield built
    finally:
        await built.aclose()


async def inbox(runtime: Runtime, provider: str | None = None) -> list[ProviderCallback]:
    async with runtime.sessionmaker() as session:
        query = select(ProviderCallback).order_by(ProviderCallback.received_at)
        if provider:
            query = query.where(ProviderCallback.provider == provider)
        return list(await session.scalars(query))


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 8.0
) -> T:
    """Poll until `check(await probe())` holds (bounded; callbacks travel over HTTP)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if check(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def settled_inbox(
    runtime: Runtime, provider: str, count: int, timeout: float = 8.0
) -> list[ProviderCallback]:
    """The provider's inbox once `count` callbacks arrived and none is mid-processing."""
    return await eventually(
        lambda: inbox(runtime, provider),
        lambda rows: len(rows) >= count and all(r.processed_at is not None for r in rows),
        timeout,
    )
