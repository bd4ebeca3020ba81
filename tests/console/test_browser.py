"""The console driven in a real headless Chromium (Debian's, through Playwright) against
the gateway served by uvicorn on a free port: what an operator and a merchant do."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.app import create_app
from clearing_gateway.config import Settings
from clearing_gateway.deposits.models import PaymentException
from clearing_gateway.jobs.models import Job
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.merchants.repository import MerchantRepository
from tests.conftest import MerchantFixture
from tests.console.support import PASSWORD, Seeded, create_account, seed
from tests.support.live_server import LiveServer, bind_free_socket, socket_url

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)"
)
OPERATOR = "ops@gateway.test"
# Set to a directory to keep screenshots of the pages the test walks (docs/console.md).
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    sock = bind_free_socket()
    yield sock
    sock.close()


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {"public_base_url": socket_url(live_socket), "run_worker_in_process": False}


@pytest.fixture
async def console_url(settings: Settings, live_socket: socket.socket) -> AsyncIterator[str]:
    server = LiveServer(create_app(settings=settings), live_socket).start()
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(browser: Browser, url: str, email: str) -> Page:
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/console/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    return page


async def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def test_an_operator_works_the_console_in_a_browser(
    runtime: Runtime, merchant: MerchantFixture, console_url: str, chromium: Browser
) -> None:
    await create_account(runtime, OPERATOR)
    seeded: Seeded = await seed(runtime, merchant.id, "a")
    page = await sign_in(chromium, console_url, OPERATOR)
    await expect(page).to_have_url(f"{console_url}/console/ops")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.locator("#volume-by-hour-today--utc--idr svg")).to_be_visible()
    await expect(page.locator("#flows")).to_contain_text("topremit")
    await shot(page, "overview")

    # Find a deposit by its id from the search box.
    await page.get_by_label("Search").fill(str(seeded.deposit_id))
    await page.get_by_label("Search").press("Enter")
    await expect(page).to_have_url(re.compile(rf"/console/ops/deposits/{seeded.deposit_id}\?"))
    await expect(page.locator("#deposit")).to_contain_text(seeded.payment_id)

    # Follow a withdrawal from the list to its timeline.
    await page.get_by_role("link", name="Withdrawals", exact=True).click()
    await page.get_by_role("link", name=str(seeded.withdrawal_id)).click()
    timeline = page.locator("#timeline li")
    await expect(timeline.first).to_contain_text("Withdrawal requested")
    await expect(page.locator("#timeline")).to_contain_text("Ledger: hold")
    await expect(page.locator("#timeline")).to_contain_text("Status — → PENDING")
    await expect(page.locator("#timeline")).to_contain_text("Callback from finpay")
    await expect(page.locator("#timeline")).to_contain_text("Webhook transfer attempt 1")
    await shot(page, "withdrawal-timeline")

    # Resolve a payment exception with a note.
    await page.get_by_role("link", name="Exceptions").click()
    row = page.locator("#exceptions tr", has_text=str(seeded.exception_id))
    await row.get_by_placeholder("What was done").fill("refunded to the payer, ticket 7")
    await row.get_by_role("button", name="Resolve").click()
    await expect(page.locator(".flash")).to_contain_text("resolved")
    await expect(page.locator("#exceptions")).not_to_contain_text(str(seeded.exception_id))

    # Retry a failed webhook delivery.
    await page.get_by_role("link", name="Webhooks").click()
    await page.locator("#deliveries").get_by_role("button", name="Redeliver").first.click()
    await expect(page.locator(".flash")).to_contain_text("Redelivery scheduled to 1 webhook")

    # Rotate the merchant's key: the new secret is shown once.
    await page.get_by_role("link", name="Merchants").click()
    await page.get_by_role("link", name="Acme Exchange").click()
    await page.get_by_label("Hours the old keys keep working").fill("0")
    await page.get_by_role("button", name="Rotate key").click()
    await expect(page.locator("#secret")).to_contain_text("Shown once")
    new_key = await page.locator('code[data-label="apiKey"]').inner_text()
    assert new_key.startswith("ck_test_")

    # A form whose CSRF token was removed is refused, and changes nothing.
    await page.get_by_role("link", name="Breaks").click()
    await page.locator('#breaks input[name="csrf_token"]').evaluate_all(
        "inputs => inputs.forEach(i => i.remove())"
    )
    row = page.locator("#breaks tr", has_text="STMT-a")
    await row.get_by_placeholder("Why it is settled").fill("forged")
    await row.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_role("heading", name="403 · Form refused")).to_be_visible()

    async with runtime.sessionmaker() as session:
        exception = await session.get(PaymentException, seeded.exception_id)
        assert exception is not None
        assert exception.resolution_note == "refunded to the payer, ticket 7"
        manual = (await session.scalars(select(Job).where(Job.kind == "webhooks.deliver"))).all()
        assert [j.payload.get("trigger") for j in manual if j.id != seeded.job_id] == ["manual"]
        keys = await MerchantRepository(session).live_keys(merchant.id, utcnow())
        assert [k.api_key for k in keys] == [new_key]  # overlap 0: the old key is gone
    assert await page.context.cookies()
    assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in await page.context.cookies())


async def test_a_merchant_browser_cannot_reach_another_merchant_or_operator_pages(
    runtime: Runtime,
    merchant: MerchantFixture,
    other_merchant: MerchantFixture,
    console_url: str,
    chromium: Browser,
) -> None:
    mine = await seed(runtime, merchant.id, "mine")
    theirs = await seed(runtime, other_merchant.id, "theirs")
    await create_account(runtime, "admin@acme.test", merchant_id=merchant.id)
    page = await sign_in(chromium, console_url, "admin@acme.test")
    await expect(page).to_have_url(f"{console_url}/console/m")
    await page.get_by_role("link", name="Deposits", exact=True).click()
    await expect(page.locator("#deposits")).to_contain_text(str(mine.deposit_id))
    await expect(page.locator("#deposits")).not_to_contain_text(str(theirs.deposit_id))
    for path, status in (
        (f"/console/m/deposits/{theirs.deposit_id}", 404),
        (f"/console/m/withdrawals/{theirs.withdrawal_id}", 404),
        ("/console/ops", 403),
        (f"/console/ops/withdrawals/{theirs.withdrawal_id}", 403),
        (f"/console/ops/merchants/{other_merchant.id}", 403),
    ):
        response = await page.goto(f"{console_url}{path}")
        assert response is not None
        assert response.status == status, path
    await page.goto(f"{console_url}/console/m/withdrawals/{mine.withdrawal_id}")
    await expect(page.locator("#timeline")).to_contain_text("Withdrawal requested")
    # A merchant's timeline shows its own story, not the provider's raw callbacks.
    await expect(page.locator("#timeline")).not_to_contain_text("Callback from")
