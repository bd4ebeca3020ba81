"""The gateway over real HTTP with its sandboxes, a funded withdrawal vault and a worker
the test drives (the withdrawals suite's fixtures), plus a merchant webhook endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.receiver import Receiver
from tests.withdrawals.conftest import gateway, live_socket, payouts, settings_overrides

__all__ = ["gateway", "live_socket", "payouts", "settings_overrides"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()
