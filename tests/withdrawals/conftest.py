"""Withdrawals end to end: the gateway over real HTTP with the Finpay sandbox mounted,
a funded withdrawal vault, and a worker the test drives by hand."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.crosscheck.service import verify_all
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting
from clearing_gateway.providers.callbacks import handlers
from clearing_gateway.providers.events import DisbursementStatusChanged
from clearing_gateway.providers.finpay.sandbox import FinpaySandbox
from clearing_gateway.tasks import load_task_modules
from clearing_gateway.webhooks.models import WebhookEvent
from clearing_gateway.withdrawals.callbacks import apply_disbursement_status
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatusChange
from tests.conftest import MerchantFixture
from tests.providers.conftest import LiveGateway, eventually, gateway, live_socket
from tests.support.clock import ManualClock
from tests.support.live_server import socket_url

__all__ = ["gateway", "live_socket"]

ACCOUNT_NO = "500654309"
BANK = "014"
HOLDER = "Karman Prasasta"


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {
        "public_base_url": socket_url(live_socket),
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.1,
        # The test drives the worker; the live server must not run one of its own.
        "run_worker_in_process": False,
    }


@dataclass
class Payouts:
    """What a withdrawal test needs, in one place."""

    runtime: Runtime
    gateway: LiveGateway
    merchant: MerchantFixture
    clock: ManualClock
    user_id: str

    @property
    def finpay(self) -> FinpaySandbox:
        sandbox: FinpaySandbox = self.gateway.sandboxes.finpay
        return sandbox

    def worker(self, **kw: Any) -> Worker:
        return Worker(self.runtime, clock=self.clock, poll_interval=0.02, **kw)

    async def run_jobs(self) -> None:
        await self.worker().run_until_idle(timeout=20)

    async def fund(self, amount: int) -> None:
        async with unit_of_work(self.runtime.sessionmaker) as session:
            await ledger.post(
                session,
                f"top-up:{new_id()}",
                [
                    Posting(
                        AccountKey.clearing("finpay"),
                        AccountKey.vault(self.merchant.id, "finpay", "withdrawal"),
                        amount,
                    )
                ],
                kind="top_up",
            )

    async def vault(self) -> ledger.AccountBalance:
        async with self.runtime.sessionmaker() as session:
            return await ledger.account_balance(
                session, AccountKey.vault(self.merchant.id, "finpay", "withdrawal")
            )

    async def create(self, **overrides: Any) -> Any:
        body: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "userId": self.user_id,
            "merchantReference": f"M-{uuid.uuid4().hex[:12]}",
            "beneficiaryBankCode": BANK,
            "beneficiaryAccountNo": ACCOUNT_NO,
            "beneficiaryAccountName": HOLDER,
            "amount": "20000.00",
        }
        body.update(overrides)
        return await self.merchant.client.post("/v1/withdrawals", body)

    async def get(self, transaction_id: str) -> dict[str, Any]:
        response = await self.merchant.client.get(f"/v1/withdrawals/{transaction_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def status(self, transaction_id: str) -> str:
        return str((await self.get(transaction_id))["status"])

    async def until_status(self, transaction_id: str, wanted: str, timeout: float = 8.0) -> str:
        return await eventually(lambda: self.status(transaction_id), lambda s: s == wanted, timeout)

    async def row(self, transaction_id: str) -> Withdrawal:
        async with self.runtime.sessionmaker() as session:
            found = await session.get(Withdrawal, uuid.UUID(transaction_id))
            assert found is not None
            return found

    async def history(self, transaction_id: str) -> list[tuple[str | None, str, str]]:
        async with self.runtime.sessionmaker() as session:
            rows = await session.scalars(
                select(WithdrawalStatusChange)
                .where(WithdrawalStatusChange.withdrawal_id == uuid.UUID(transaction_id))
                .order_by(WithdrawalStatusChange.created_at, WithdrawalStatusChange.id)
            )
            return [(r.from_status, r.to_status, r.source) for r in rows]

    async def events(self, transaction_id: str) -> list[dict[str, Any]]:
        async with self.runtime.sessionmaker() as session:
            rows = await session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.transaction_id == transaction_id)
                .order_by(WebhookEvent.created_at, WebhookEvent.id)
            )
            return [json.loads(r.payload) for r in rows]

    async def assert_ledger_sound(self) -> None:
        async with self.runtime.sessionmaker() as session:
            findings = await verify_all(session)
        assert findings == [], [str(f) for f in findings]

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.gateway.control("finpay", path, body)


@pytest.fixture
async def payouts(
    runtime: Runtime, gateway: LiveGateway, merchant: MerchantFixture
) -> AsyncIterator[Payouts]:
    load_task_modules()
    # Other suites swap the process-wide callback handler out; make sure ours is in.
    handlers.register(DisbursementStatusChanged, apply_disbursement_status)
    await gateway.control(
        "finpay", "accounts", {"bankCode": BANK, "accountNo": ACCOUNT_NO, "accountName": HOLDER}
    )
    user_id = uuid.uuid4().hex[:8]
    created = await merchant.client.post(
        "/v1/users",
        {
            "requestId": str(uuid.uuid4()),
            "userId": user_id,
            "kycName": "Karman Prasasta",
            "type": "retail",
            "whitelistedKycNames": ["Siti Rahayu"],
        },
    )
    assert created.status_code == 201, created.text
    payouts = Payouts(runtime, gateway, merchant, ManualClock(), user_id)
    yield payouts
    await payouts.assert_ledger_sound()
