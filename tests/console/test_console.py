"""The console over HTTP (both databases): sign-in, CSRF, every operator page and action,
audit, and one merchant never seeing another's data."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.console.models import ConsoleAuditEntry, ConsoleSession
from clearing_gateway.deposits.models import PaymentException
from clearing_gateway.jobs.models import Job
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.reconciliation.models import ReconciliationBreak
from clearing_gateway.webhooks.models import WebhookEvent
from clearing_gateway.withdrawals.models import Withdrawal
from tests.conftest import MerchantFixture
from tests.console.support import PASSWORD, Seeded, create_account, seed

OPERATOR = "ops@gateway.test"


async def audit_actions(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(ConsoleAuditEntry).order_by(ConsoleAuditEntry.created_at)
        )
        return [(r.actor_email, r.action, r.target) for r in rows]


@pytest.fixture
async def seeded(runtime: Runtime, merchant: MerchantFixture) -> Seeded:
    await create_account(runtime, OPERATOR)
    return await seed(runtime, merchant.id, "a")


async def test_sign_in_sets_a_strict_http_only_cookie_and_wrong_passwords_are_refused(
    runtime: Runtime, seeded: Seeded, browser: Any
) -> None:
    async with browser() as b:
        assert (await b.get("/console/ops")).status_code == 303  # to the login page
        wrong = await b.login(OPERATOR, "not the password at all")
        assert wrong.status_code == 401
        assert "Wrong email or password" in wrong.text
        response = await b.login(OPERATOR)
        assert response.status_code == 303
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("cgw_console=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Secure" not in cookie  # sandbox: plain HTTP on a laptop
        page = await b.get("/console/ops")
        assert page.status_code == 200
        assert "Overview" in page.text
        assert page.headers["x-frame-options"] == "DENY"
    async with runtime.sessionmaker() as session:
        stored = (await session.scalars(select(ConsoleSession))).all()
    token = cookie.split(";")[0].split("=", 1)[1]
    assert stored
    assert all(s.token_sha256 != token for s in stored)
    assert ("ops@gateway.test", "login.failed", OPERATOR) in await audit_actions(runtime)


async def test_logins_are_rate_limited(runtime: Runtime, seeded: Seeded, browser: Any) -> None:
    async with browser() as b:
        for _ in range(runtime.settings.console_login_failures):
            assert (await b.login(OPERATOR, "wrong password, again")).status_code == 401
        # Blocked now, even with the right password.
        blocked = await b.login(OPERATOR)
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text


async def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(
    runtime: Runtime, seeded: Seeded, browser: Any
) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        url = f"/console/ops/queues/exceptions/{seeded.exception_id}/resolve"
        missing = await b.post(url, {"note": "refunded"}, csrf=False)
        assert missing.status_code == 403
        assert "security token" in missing.text
        forged = await b.client.post(url, data={"note": "refunded", "csrf_token": "x" * 43})
        assert forged.status_code == 403
        # The login form too: no token, no sign-in.
        refused = await b.client.post(
            "/console/login", data={"email": OPERATOR, "password": PASSWORD}
        )
        assert refused.status_code == 403
    async with runtime.sessionmaker() as session:
        exception = await session.get(PaymentException, seeded.exception_id)
        assert exception is not None
        assert exception.resolved_at is None


async def test_operator_pages_render(runtime: Runtime, seeded: Seeded, browser: Any) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        pages = {
            "/console/ops": ["Stuck withdrawals", "<svg", "topremit"],
            "/console/ops/deposits": [str(seeded.deposit_id)],
            f"/console/ops/deposits?va={seeded.va_no}": [str(seeded.deposit_id)],
            "/console/ops/deposits?status=FAILED": ["No deposits match"],
            "/console/ops/withdrawals": [seeded.merchant_reference],
            f"/console/ops/deposits/{seeded.deposit_id}": [seeded.payment_id],
            f"/console/ops/withdrawals/{seeded.withdrawal_id}": ["Timeline", "Ledger: hold"],
            "/console/ops/queues/exceptions": [str(seeded.exception_id)],
            "/console/ops/queues/withdrawals": [str(seeded.withdrawal_id)],
            "/console/ops/queues/breaks": ["STMT-a"],
            "/console/ops/queues/callbacks": [str(seeded.callback_id)],
            f"/console/ops/queues/callbacks/{seeded.callback_id}": [
                "bad signature",
                "{&#34;order&#34;:&#34;x&#34;}",
            ],
            "/console/ops/queues/jobs": [str(seeded.job_id)],
            "/console/ops/queues/webhooks": ["HTTP 500"],
            "/console/ops/merchants": ["Acme Exchange"],
            f"/console/ops/merchants/{seeded.merchant_id}": ["API keys", "Balances"],
            "/console/ops/audit": ["login"],
        }
        for path, expected in pages.items():
            response = await b.get(path)
            assert response.status_code == 200, (path, response.status_code)
            for text in expected:
                assert text in response.text, (path, text)
        bad = await b.get("/console/ops/deposits?startDate=yesterday")
        assert bad.status_code == 303
        assert "Filter+refused" in bad.headers["location"]
        assert (await b.get(f"/console/ops/withdrawals/{uuid.uuid4()}")).status_code == 404
        assert (await b.get("/console/ops/withdrawals/not-an-id")).status_code == 404


@pytest.mark.parametrize(
    "query_of",
    [
        lambda s: str(s.deposit_id),
        lambda s: s.payment_id,
        lambda s: str(s.withdrawal_id),
        lambda s: s.merchant_reference,
        lambda s: f"WD{s.withdrawal_id.hex}",
    ],
    ids=["deposit-id", "provider-payment-id", "withdrawal-id", "merchant-ref", "provider-ref"],
)
async def test_search_goes_straight_to_the_one_match(
    seeded: Seeded, browser: Any, query_of: Any
) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        response = await b.get("/console/ops/search", params={"q": query_of(seeded)})
        assert response.status_code == 303
        assert any(
            str(x) in response.headers["location"]
            for x in (seeded.deposit_id, seeded.withdrawal_id)
        )


async def test_search_lists_va_and_webhook_matches(seeded: Seeded, browser: Any) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        by_va = await b.get("/console/ops/search", params={"q": seeded.va_no})
        assert by_va.status_code == 200
        assert f"VA {seeded.va_no}" in by_va.text
        by_webhook = await b.get("/console/ops/search", params={"q": str(seeded.webhook_id)})
        assert "Webhook transfer" in by_webhook.text
        nothing = await b.get("/console/ops/search", params={"q": "no-such-thing"})
        assert "Nothing matches" in nothing.text


async def test_work_queue_actions_change_state_and_are_audited(
    runtime: Runtime, seeded: Seeded, browser: Any
) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        r = await b.post(
            f"/console/ops/queues/exceptions/{seeded.exception_id}/resolve",
            {"note": "refunded to payer, ticket 42"},
        )
        assert r.status_code == 303
        assert "resolved" in r.headers["location"]
        again = await b.post(
            f"/console/ops/queues/exceptions/{seeded.exception_id}/resolve", {"note": "twice"}
        )
        assert "kind=error" in again.headers["location"]
        r = await b.post(
            f"/console/ops/queues/breaks/{seeded.break_id}/resolve", {"note": "bank reversal"}
        )
        assert r.status_code == 303
        r = await b.post(f"/console/ops/queues/jobs/{seeded.job_id}/retry")
        assert r.status_code == 303
        r = await b.post(
            "/console/ops/queues/webhooks/redeliver",
            {"merchant": str(seeded.merchant_id), "transaction": str(seeded.withdrawal_id)},
        )
        assert r.status_code == 303
        assert "kind=error" not in r.headers["location"]
        empty_note = await b.post(
            f"/console/ops/withdrawals/{seeded.withdrawal_id}/resolve",
            {"status": "SUCCESS", "note": ""},
        )
        assert "kind=error" in empty_note.headers["location"]
        r = await b.post(
            f"/console/ops/withdrawals/{seeded.withdrawal_id}/resolve",
            {"status": "FAILED", "note": "never submitted; merchant asked to cancel"},
        )
        assert r.status_code == 303
        assert "kind=error" not in r.headers["location"], r.headers
    async with runtime.sessionmaker() as session:
        exception = await session.get(PaymentException, seeded.exception_id)
        assert exception is not None
        assert exception.resolution_note == "refunded to payer, ticket 42"
        broken = await session.get(ReconciliationBreak, seeded.break_id)
        assert broken is not None
        assert broken.status == "resolved"
        assert broken.resolved_by == f"console:{OPERATOR}"
        job = await session.get(Job, seeded.job_id)
        assert job is not None
        assert job.status == "pending"
        assert job.attempts == 0
        redeliveries = (
            await session.scalars(
                select(Job).where(Job.kind == "webhooks.deliver", Job.id != seeded.job_id)
            )
        ).all()
        # The redelivery asked for, and the delivery of the FAILED `transfer` event the
        # resolution published (deliveries are queued with the event itself).
        assert sorted(j.payload["trigger"] for j in redeliveries) == ["initial", "manual"]
        withdrawal = await session.get(Withdrawal, seeded.withdrawal_id)
        assert withdrawal is not None
        assert withdrawal.status == "FAILED"
        assert withdrawal.stuck_since is None
        # The hold is released: the whole top-up is available again, nothing lost or doubled.
        vault = await ledger.account_balance(
            session, AccountKey.vault(seeded.merchant_id, "finpay", "withdrawal")
        )
        assert vault.available == 10_000_000
        assert vault.debits_pending == 0
    actions = [(who, what) for who, what, _ in await audit_actions(runtime)]
    for what in (
        "exception.resolve",
        "break.resolve",
        "job.retry",
        "webhook.redeliver",
        "withdrawal.resolve",
    ):
        assert (OPERATOR, what) in actions


async def test_merchant_create_and_key_rotation_show_the_secret_once(
    runtime: Runtime, seeded: Seeded, browser: Any
) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        created = await b.post(
            "/console/ops/merchants", {"name": "Beta Trade", "ips": "10.0.0.0/8"}
        )
        assert created.status_code == 200
        assert "ck_test_" in created.text
        assert "apiSecret" in created.text
        rotated = await b.post(
            f"/console/ops/merchants/{seeded.merchant_id}/keys/rotate", {"overlap_hours": "0"}
        )
        assert rotated.status_code == 200
        assert "Shown once" in rotated.text
        page = await b.get(f"/console/ops/merchants/{seeded.merchant_id}")
        assert "apiSecret" not in page.text
        ips = await b.post(f"/console/ops/merchants/{seeded.merchant_id}/ips", {"ips": "not-an-ip"})
        assert "kind=error" in ips.headers["location"]
        ips = await b.post(
            f"/console/ops/merchants/{seeded.merchant_id}/ips", {"ips": "192.0.2.1\n10.1.0.0/16"}
        )
        assert "kind=error" not in ips.headers["location"]
    async with runtime.sessionmaker() as session:
        merchant = await MerchantRepository(session).get(seeded.merchant_id)
        assert merchant is not None
        assert merchant.allowed_ips == ["192.0.2.1/32", "10.1.0.0/16"]
        names = [m.name for m in await MerchantRepository(session).list()]
        assert "Beta Trade" in names


async def test_merchants_see_only_their_own_data(
    runtime: Runtime, merchant: MerchantFixture, other_merchant: MerchantFixture, browser: Any
) -> None:
    mine = await seed(runtime, merchant.id, "mine")
    theirs = await seed(runtime, other_merchant.id, "theirs")
    await create_account(runtime, "admin@acme.test", merchant_id=merchant.id)
    await create_account(runtime, "admin@other.test", merchant_id=other_merchant.id)
    async with browser() as b:
        assert (await b.login("admin@acme.test")).headers["location"] == "/console/m"
        own_pages = {
            "/console/m": ["Balances"],
            "/console/m/deposits": [str(mine.deposit_id)],
            f"/console/m/deposits/{mine.deposit_id}": [mine.payment_id],
            "/console/m/withdrawals": [mine.merchant_reference],
            f"/console/m/withdrawals/{mine.withdrawal_id}": ["Timeline"],
            "/console/m/users": [mine.user_id],
            "/console/m/virtual-accounts": [mine.va_no],
            "/console/m/webhooks": [str(mine.webhook_id)],
            "/console/m/keys": [merchant.credentials.api_key],
            "/console/m/team": ["admin@acme.test"],
        }
        for path, expected in own_pages.items():
            response = await b.get(path)
            assert response.status_code == 200, path
            for text in expected:
                assert text in response.text, (path, text)
            for foreign in (
                str(theirs.deposit_id),
                theirs.merchant_reference,
                theirs.user_id,
                theirs.va_no,
                str(theirs.webhook_id),
                other_merchant.credentials.api_key,
                "admin@other.test",
            ):
                assert foreign not in response.text, (path, foreign)
        # Another merchant's rows answer 404, exactly like rows that do not exist.
        for path in (
            f"/console/m/deposits/{theirs.deposit_id}",
            f"/console/m/withdrawals/{theirs.withdrawal_id}",
        ):
            assert (await b.get(path)).status_code == 404, path
        # And its actions neither.
        test_event = await b.post(f"/console/m/webhooks/{theirs.webhook_id}/test")
        assert test_event.status_code == 404
        retry = await b.post(
            "/console/m/webhooks/retry",
            {"transaction": str(theirs.withdrawal_id), "merchant": str(other_merchant.id)},
        )
        assert "kind=error" in retry.headers["location"]
        other_keys = await runtime_keys(runtime, other_merchant)
        revoke = await b.post(f"/console/m/keys/{other_keys[0]}/revoke")
        assert revoke.status_code == 404
        # No operator page, no operator action.
        for path in (
            "/console/ops",
            "/console/ops/deposits",
            f"/console/ops/merchants/{merchant.id}",
            "/console/ops/search?q=x",
            "/console/ops/audit",
        ):
            assert (await b.get(path)).status_code == 403, path
        refused = await b.post(
            f"/console/ops/queues/exceptions/{theirs.exception_id}/resolve", {"note": "x"}
        )
        assert refused.status_code == 403
        # Its own actions work: a retry of its own delivery, a test event to its webhook.
        own_retry = await b.post(
            "/console/m/webhooks/retry", {"transaction": str(mine.withdrawal_id)}
        )
        assert "kind=error" not in own_retry.headers["location"]
        own_test = await b.post(f"/console/m/webhooks/{mine.webhook_id}/test")
        assert own_test.status_code == 303
    async with runtime.sessionmaker() as session:
        other_keys_after = await MerchantRepository(session).live_keys(
            other_merchant.id, ledger_now()
        )
        assert [k.expires_at for k in other_keys_after] == [None]
        exception = await session.get(PaymentException, theirs.exception_id)
        assert exception is not None
        assert exception.resolved_at is None
        events = (
            await session.scalars(
                select(WebhookEvent).where(WebhookEvent.merchant_id == merchant.id)
            )
        ).all()
        assert any(e.transaction_id.startswith("test_") for e in events)
        assert not (
            await session.scalars(
                select(WebhookEvent).where(
                    WebhookEvent.merchant_id == other_merchant.id,
                    WebhookEvent.transaction_id.like("test_%"),
                )
            )
        ).all()


async def test_merchant_admin_rotates_its_key_and_adds_a_viewer_who_cannot(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, "admin@acme.test", merchant_id=merchant.id)
    async with browser() as b:
        await b.login("admin@acme.test")
        rotated = await b.post("/console/m/keys/rotate", {"overlap_hours": "1"})
        assert rotated.status_code == 200
        assert "apiSecret" in rotated.text
        added = await b.post(
            "/console/m/team", {"email": "viewer@acme.test", "role": "merchant_viewer"}
        )
        assert added.status_code == 200
        assert "password" in added.text
        password = added.text.split('data-label="password">')[1].split("<")[0]
    async with browser() as viewer:
        assert (await viewer.login("viewer@acme.test", password)).status_code == 303
        assert (await viewer.get("/console/m/keys")).status_code == 200
        assert (
            await viewer.post("/console/m/keys/rotate", {"overlap_hours": "1"})
        ).status_code == 403
        assert (
            await viewer.post("/console/m/team", {"email": "x@acme.test", "role": "merchant_admin"})
        ).status_code == 403
    assert ("admin@acme.test", "key.rotate") in [(w, a) for w, a, _ in await audit_actions(runtime)]


async def runtime_keys(runtime: Runtime, merchant: MerchantFixture) -> list[uuid.UUID]:
    async with runtime.sessionmaker() as session:
        return [
            k.id for k in await MerchantRepository(session).live_keys(merchant.id, ledger_now())
        ]


def ledger_now() -> Any:
    from clearing_gateway.kit.clock import utcnow

    return utcnow()


async def test_callback_replay_updates_its_verdict_and_recheck_needs_a_submission(
    runtime: Runtime, seeded: Seeded, browser: Any
) -> None:
    async with browser() as b:
        await b.login(OPERATOR)
        replayed = await b.post(f"/console/ops/queues/callbacks/{seeded.callback_id}/replay")
        assert replayed.status_code == 303
        assert "Replayed" in replayed.headers["location"]
        assert "rejected" in replayed.headers["location"]  # the stored body is unsigned
        recheck = await b.post(f"/console/ops/withdrawals/{seeded.withdrawal_id}/recheck")
        assert "kind=error" in recheck.headers["location"]
        assert "only+a+submitted+one" in recheck.headers["location"]
    async with runtime.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(ProviderCallback).where(ProviderCallback.provider == "finpay")
            )
        ).all()
        # The replay is the same callback run again: its own row carries the new verdict.
        assert [(r.id, r.status) for r in rows] == [(seeded.callback_id, "rejected")]
    async with browser() as b:
        await b.login(OPERATOR)
        unknown = await b.post(f"/console/ops/queues/callbacks/{uuid.uuid4()}/replay")
        assert "kind=error" in unknown.headers["location"]
        assert "no+callback" in unknown.headers["location"]
