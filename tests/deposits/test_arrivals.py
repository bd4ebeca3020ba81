"""A simulated payment is answered when its deposit commits, not at the next poll."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from sqlalchemy import text

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits import arrivals
from clearing_gateway.simulator import service as simulator
from tests.deposits.conftest import Merchant
from tests.support.live_server import socket_url


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    # A simulator that would wait two minutes for its deposit.
    return {"public_base_url": socket_url(live_socket), "simulator_wait_seconds": 120.0}


class Abandon(Exception):
    pass


async def _announce_and_roll_back(runtime: Runtime, payment_id: str) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        arrivals.announce(session, "topremit", payment_id)
        await session.execute(text("SELECT 1"))
        raise Abandon


async def test_a_commit_wakes_its_waiters_and_a_rollback_wakes_none(runtime: Runtime) -> None:
    with (
        arrivals.waiting_for("topremit", "PAID-1") as committed,
        arrivals.waiting_for("topremit", "PAID-2") as rolled_back,
        arrivals.waiting_for("topremit", "PAID-3") as never_announced,
    ):
        with pytest.raises(Abandon):
            await _announce_and_roll_back(runtime, "PAID-2")
        async with unit_of_work(runtime.sessionmaker) as session:
            arrivals.announce(session, "topremit", "PAID-1")
            await session.execute(text("SELECT 1"))
        assert committed.done()
        assert not rolled_back.done()
        assert not never_announced.done()
    assert arrivals._waiters == {}  # every waiter removed itself


async def test_the_simulator_answers_on_the_deposits_commit(
    live_merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No poll within the simulator's two-minute wait: only the COMMIT's wake-up can
    # answer the request within the minute this test allows it.
    monkeypatch.setattr(simulator, "POLL_SECONDS", 600.0)
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    async with asyncio.timeout(60):
        paid = await live_merchant.pay(account, "150000.00")
    assert paid.status_code == 201, paid.text
    assert paid.json()["data"]["amount"] == "150000.00"
