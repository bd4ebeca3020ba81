"""The gateway and its sandboxes over real HTTP (fixtures shared with tests/deposits).

The in-process worker is off: these tests run reconciliation passes themselves, and a
periodic pass of the worker landing between two steps would change what they count."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.deposits.conftest import live_merchant  # noqa: F401  (fixtures)
from tests.providers.conftest import gateway, live_socket  # noqa: F401  (fixtures)
from tests.support.live_server import socket_url


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:  # noqa: F811
    return {
        "public_base_url": socket_url(live_socket),
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.1,
        "run_worker_in_process": False,
    }
