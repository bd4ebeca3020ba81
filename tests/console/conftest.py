from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.console.support import Browser


@pytest.fixture
def browser(app: FastAPI) -> Callable[[], AbstractAsyncContextManager[Browser]]:
    """A fresh browser (own cookie jar) per call."""

    @asynccontextmanager
    async def _open() -> AsyncIterator[Browser]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Browser(client)

    return _open
