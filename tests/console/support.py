"""Console test helpers: seeded rows for a merchant, and a browser-like client that
signs in and posts forms with their CSRF token."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.console import service as console
from clearing_gateway.console.models import Role
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import Deposit, PaymentException
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting, withdrawal_postings
from clearing_gateway.merchants.crypto import secret_box
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.reconciliation.models import ReconciliationBreak
from clearing_gateway.users.models import User
from clearing_gateway.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from clearing_gateway.webhooks.signing import new_secret
from clearing_gateway.withdrawals import service as withdrawals
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatusChange

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Seeded:
    merchant_id: uuid.UUID
    user_id: str
    va_no: str
    deposit_id: uuid.UUID
    payment_id: str
    withdrawal_id: uuid.UUID
    merchant_reference: str
    exception_id: uuid.UUID
    webhook_id: uuid.UUID
    break_id: uuid.UUID
    job_id: uuid.UUID
    callback_id: uuid.UUID


async def create_account(
    runtime: Runtime, email: str, *, merchant_id: uuid.UUID | None = None, role: str | None = None
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        await console.create_account(
            session,
            email=email,
            password=PASSWORD,
            role=role or (Role.OPERATOR if merchant_id is None else Role.MERCHANT_ADMIN),
            merchant_id=merchant_id,
        )


async def seed(runtime: Runtime, merchant_id: uuid.UUID, tag: str) -> Seeded:
    """One of everything the console shows, for one merchant. The withdrawal is PENDING,
    flagged stuck, with its real ledger hold on a funded vault."""
    now = utcnow()
    settings = runtime.settings
    async with unit_of_work(runtime.sessionmaker) as session:
        user = User(
            id=new_id(),
            merchant_id=merchant_id,
            user_id=f"user-{tag}",
            kyc_name=f"Kyc {tag}",
            type="retail",
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        va = VirtualAccount(
            id=new_id(),
            merchant_id=merchant_id,
            user_pk=user.id,
            user_ref=user.user_id,
            kind="va",
            provider="topremit",
            bank_code="014",
            virtual_account_no=f"8889{abs(hash(tag)) % 10**10:010d}",
            virtual_account_name=user.kyc_name,
            provider_reference=f"trx-{tag}",
            currency="IDR",
            min_amount=0,
            max_amount=0,
            status="ACTIVE",
            created_at=now,
            updated_at=now,
        )
        session.add(va)
        await session.flush()
        payment_id = f"PAY-{tag}-{new_id().hex[:8]}"
        deposit = Deposit(
            id=new_id(),
            merchant_id=merchant_id,
            payment_instrument_id=va.id,
            user_pk=user.id,
            user_ref=user.user_id,
            instrument="va",
            provider="topremit",
            bank_code="014",
            virtual_account_no=va.virtual_account_no,
            payment_request_id=payment_id,
            amount=15_000_000,
            fee=0,
            net_amount=15_000_000,
            currency="IDR",
            status="COMPLETED",
            trx_date_time=now,
            created_at=now,
        )
        session.add(deposit)
        await ledger.post(
            session,
            f"top-up:{new_id()}",
            [
                Posting(
                    AccountKey.clearing("finpay"),
                    AccountKey.vault(merchant_id, "finpay", "withdrawal"),
                    10_000_000,
                )
            ],
            kind="top_up",
        )
        withdrawal_id = new_id()
        reference = f"REF-{tag}-{withdrawal_id.hex[:6]}"
        withdrawal = Withdrawal(
            id=withdrawal_id,
            merchant_id=merchant_id,
            user_pk=user.id,
            user_ref=user.user_id,
            merchant_reference=reference,
            beneficiary_bank_code="014",
            beneficiary_account_no="500654309",
            beneficiary_account_name="Karman",
            amount=2_000_000,
            fee=0,
            currency="IDR",
            status="PENDING",
            provider="finpay",
            provider_reference=withdrawals.provider_reference_for(withdrawal_id),
            outcome_unknown=False,
            polls=0,
            created_at=now - dt.timedelta(hours=30),
            updated_at=now,
            stuck_since=now,
            review_reason="pending past the horizon",
        )
        session.add(withdrawal)
        await session.flush()
        await ledger.hold(
            session,
            withdrawals.hold_id(withdrawal_id),
            withdrawal_postings(merchant_id, "finpay", 2_000_000, 0),
            kind="withdrawal",
        )
        session.add(
            WithdrawalStatusChange(
                withdrawal_id=withdrawal_id,
                from_status=None,
                to_status="PENDING",
                source="api",
                created_at=now - dt.timedelta(hours=30),
            )
        )
        exception = PaymentException(
            id=new_id(),
            provider="topremit",
            payment_request_id=f"EXC-{tag}-{new_id().hex[:6]}",
            virtual_account_no="999000111",
            merchant_id=merchant_id,
            amount=5_000_000,
            currency="IDR",
            reason="unknown virtual account",
            created_at=now,
        )
        session.add(exception)
        webhook = Webhook(
            id=new_id(),
            merchant_id=merchant_id,
            event_type="transfer",
            url=f"https://hooks.example.com/{tag}",
            headers={},
            is_active=True,
            secret_ciphertext=secret_box(settings).seal(new_secret()),
            created_at=now,
            updated_at=now,
        )
        session.add(webhook)
        event = WebhookEvent(
            id=new_id(),
            merchant_id=merchant_id,
            event_type="transfer",
            transaction_id=str(withdrawal_id),
            payload=b'{"status":"PENDING"}',
            created_at=now,
        )
        session.add(event)
        await session.flush()
        session.add(
            WebhookDelivery(
                id=new_id(),
                merchant_id=merchant_id,
                webhook_id=webhook.id,
                event_id=event.id,
                event_type="transfer",
                transaction_id=str(withdrawal_id),
                url=webhook.url,
                attempt=1,
                trigger="initial",
                status="failed",
                status_code=500,
                latency_ms=12,
                error="HTTP 500",
                created_at=now,
            )
        )
        broken = ReconciliationBreak(
            id=new_id(),
            provider="topremit",
            statement_date=now.date().isoformat(),
            kind="missing_in_ledger",
            direction="credit",
            reference=f"STMT-{tag}",
            currency="IDR",
            provider_amount=700_000,
            detail="on the statement only",
            status="open",
            created_at=now,
        )
        session.add(broken)
        job = Job(
            id=new_id(),
            kind="webhooks.deliver",
            payload={"tag": tag},
            status=JobStatus.FAILED,
            run_at=now,
            attempts=7,
            last_error="boom",
            created_at=now,
            finished_at=now,
        )
        session.add(job)
        callback = ProviderCallback(
            id=new_id(),
            provider="finpay",
            channel="disbursement",
            path="/callbacks/finpay/disbursement",
            headers={"content-type": "application/json"},
            body=b'{"order":"x"}',
            status="rejected",
            error="bad signature",
            event_key=f"{withdrawal.provider_reference}:FAILED",
            received_at=now,
        )
        session.add(callback)
        await session.flush()
        return Seeded(
            merchant_id=merchant_id,
            user_id=user.user_id,
            va_no=va.virtual_account_no,
            deposit_id=deposit.id,
            payment_id=payment_id,
            withdrawal_id=withdrawal_id,
            merchant_reference=reference,
            exception_id=exception.id,
            webhook_id=webhook.id,
            break_id=broken.id,
            job_id=job.id,
            callback_id=callback.id,
        )


class Browser:
    """An httpx client that behaves like a browser on the console: cookies, forms."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf: str | None = None

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        page = await self.client.get("/console/login")
        token = CSRF.search(page.text)
        assert token is not None
        response = await self.client.post(
            "/console/login",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
        )
        if response.status_code == 303:
            landing = await self.client.get(response.headers["location"])
            found = CSRF.search(landing.text)
            self.csrf = found.group(1) if found else None
        return response

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            assert self.csrf is not None
            body["csrf_token"] = self.csrf
        return await self.client.post(path, data=body)
