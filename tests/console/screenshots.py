"""Screenshots of the console for docs/console.md, from a scratch SQLite database.

    .tools/bin/uv run --frozen python -m tests.console.screenshots docs/console

Seeds two merchants with a day of deposits and withdrawals (one withdrawal carried
through PROCESSING to SUCCESS, with its callback and webhook), then photographs the
overview and that withdrawal's timeline in Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from clearing_gateway.app import build_runtime, create_app
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.merchants.service import MerchantService
from clearing_gateway.migrations.runner import upgrade
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.webhooks.models import WebhookDelivery
from clearing_gateway.withdrawals import service as withdrawals
from clearing_gateway.withdrawals.models import WithdrawalStatus
from clearing_gateway.withdrawals.repository import WithdrawalRepository
from tests.conftest import make_settings
from tests.console.support import PASSWORD, create_account, seed
from tests.support.live_server import LiveServer, bind_free_socket, socket_url


async def main(target: Path, url: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    sock = bind_free_socket()
    settings = make_settings(
        url, public_base_url=socket_url(sock), run_worker_in_process=False, log_level="WARNING"
    )
    runtime = build_runtime(settings)
    async with unit_of_work(runtime.sessionmaker) as session:
        acme = await MerchantService(settings).create(session, name="Acme Exchange", ips=[])
        beta = await MerchantService(settings).create(session, name="Beta Trade", ips=[])
    await create_account(runtime, "ops@gateway.example")
    seeded = await seed(runtime, acme.merchant_id, "acme")
    await seed(runtime, beta.merchant_id, "beta")
    now = utcnow()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(15)
    async with unit_of_work(runtime.sessionmaker) as session:
        template = await session.get(Deposit, seeded.deposit_id)
        assert template is not None
        for _ in range(160):
            at = start + dt.timedelta(
                seconds=rng.uniform(0, max(60.0, (now - start).total_seconds()))
            )
            amount = rng.choice([50_000, 150_000, 500_000, 1_000_000, 2_500_000]) * 100
            session.add(
                Deposit(
                    id=new_id(),
                    merchant_id=template.merchant_id,
                    payment_instrument_id=template.payment_instrument_id,
                    user_pk=template.user_pk,
                    user_ref=template.user_ref,
                    instrument="va",
                    provider=rng.choice(["topremit", "topremit", "finan"]),
                    bank_code="014",
                    virtual_account_no=template.virtual_account_no,
                    payment_request_id=f"PAY-{new_id().hex[:12]}",
                    amount=amount,
                    fee=0,
                    net_amount=amount,
                    currency="IDR",
                    status="COMPLETED" if rng.random() > 0.04 else "FAILED",
                    trx_date_time=at,
                    created_at=at,
                )
            )
        # One withdrawal's whole life: submitted, PROCESSING, the provider's SUCCESS
        # callback, the ledger posting and the merchant's webhook.
        withdrawal = await WithdrawalRepository(session).get_for_update(seeded.withdrawal_id)
        assert withdrawal is not None
        withdrawal.stuck_since = None
        withdrawal.review_reason = None
        withdrawal.submitted_at = now - dt.timedelta(minutes=9)
        withdrawal.provider_transaction_id = "FP-88213407"
        await withdrawals.move(session, withdrawal, WithdrawalStatus.PROCESSING, source="worker")
        withdrawal.provider_status_code = "00"
        withdrawal.provider_message = "Transfer success"
        session.add(
            ProviderCallback(
                id=new_id(),
                provider="finpay",
                channel="disbursement",
                path="/callbacks/finpay/disbursement",
                headers={},
                body=b"{}",
                status="applied",
                event_type="DisbursementStatusChanged",
                event_key=f"{withdrawal.provider_reference}:SUCCESS",
                received_at=now,
            )
        )
        await withdrawals.move(session, withdrawal, WithdrawalStatus.SUCCESS, source="callback")
        session.add(
            WebhookDelivery(
                id=new_id(),
                merchant_id=withdrawal.merchant_id,
                webhook_id=seeded.webhook_id,
                event_id=new_id(),
                event_type="transfer",
                transaction_id=str(withdrawal.id),
                url="https://hooks.example.com/acme",
                attempt=2,
                trigger="automatic",
                status="succeeded",
                status_code=200,
                latency_ms=85,
                created_at=now,
            )
        )
    server = LiveServer(create_app(runtime=runtime), sock).start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            await page.goto(f"{server.url}/console/login")
            await page.get_by_label("Email").fill("ops@gateway.example")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url("**/console/ops")
            await page.screenshot(path=str(target / "overview.png"), full_page=True)
            await page.goto(f"{server.url}/console/ops/withdrawals/{seeded.withdrawal_id}")
            await page.screenshot(path=str(target / "withdrawal-timeline.png"), full_page=True)
            await browser.close()
    finally:
        await asyncio.to_thread(server.stop)
        await runtime.aclose()


if __name__ == "__main__":
    database = f"sqlite:///{Path(tempfile.mkdtemp()) / 'console.sqlite3'}"
    upgrade(database)  # before the loop: Alembic runs its own
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console"), database))
