"""A merchant's settlement in the console (both databases): the operator reads and
changes the policy and sweeps now, once per form; merchant admins read only their own."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.console.models import ConsoleAuditEntry, Role
from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.settlements import service as settlements
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep
from tests.conftest import MerchantFixture
from tests.console.support import create_account
from tests.ledger.conftest import Books

OPERATOR = "ops@gateway.test"
SWEEP_ID = re.compile(r'name="sweep_id" type="hidden" value="([0-9a-f]+)"')


async def policy_of(runtime: Runtime, merchant_id: uuid.UUID) -> SettlementPolicy | None:
    async with runtime.sessionmaker() as session:
        return await settlements.policy_of(session, merchant_id)


async def sweeps_of(runtime: Runtime, merchant_id: uuid.UUID) -> list[SettlementSweep]:
    async with runtime.sessionmaker() as session:
        return list(
            await session.scalars(
                select(SettlementSweep).where(SettlementSweep.merchant_id == merchant_id)
            )
        )


async def audited(runtime: Runtime, action: str) -> list[ConsoleAuditEntry]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(ConsoleAuditEntry)
            .where(ConsoleAuditEntry.action == action)
            .order_by(ConsoleAuditEntry.created_at)
        )
        return list(rows)


async def set_policy(runtime: Runtime, merchant_id: uuid.UUID, **policy: Any) -> None:
    async with runtime.sessionmaker() as session:
        await settlements.configure(session, merchant_id, **policy)
        await session.commit()


async def test_the_operator_sees_and_changes_the_policy_and_it_is_audited(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, OPERATOR)
    page_url = f"/console/ops/merchants/{merchant.id}"
    async with browser() as b:
        await b.login(OPERATOR)
        page = await b.get(page_url)
        assert page.status_code == 200
        assert "off (no policy set)" in page.text
        assert "SANDBOX: the whole gateway runs in sandbox" in page.text
        assert "Sweep now" not in page.text  # settlement off: nothing to sweep
        saved = await b.post(
            f"{page_url}/settlement",
            {
                "mode": "scheduled",
                "delay": "T+2",
                "target": "finpay",
                "run_at": "01:30",
                "currency": "IDR",
            },
        )
        assert saved.status_code == 303
        assert "kind=error" not in saved.headers["location"]
        page = await b.get(page_url)
        for shown in ("scheduled", "T+2", "finpay:withdrawal", "01:30 WIB", "Sweep now"):
            assert shown in page.text, shown
    policy = await policy_of(runtime, merchant.id)
    assert policy is not None
    assert (policy.mode, policy.delay_days, policy.target_provider) == ("scheduled", 2, "finpay")
    assert (policy.run_at_minute, policy.currency) == (90, "IDR")
    entries = await audited(runtime, "settlement.configure")
    assert [(e.actor_email, e.merchant_id, e.target) for e in entries] == [
        (OPERATOR, merchant.id, str(merchant.id))
    ]
    assert "mode=scheduled delay=T+2" in (entries[0].detail or "")


async def test_bad_settlement_input_says_why_and_changes_nothing(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, OPERATOR)
    await set_policy(runtime, merchant.id, mode="on_demand", delay_days=1)
    before = await policy_of(runtime, merchant.id)
    assert before is not None
    good = {"mode": "scheduled", "delay": "T+0", "target": "finpay", "run_at": "02:00"}
    refusals = {
        "mode must be one of off, on_demand, scheduled": {**good, "mode": "weekly"},
        "delay must be T+0 … T+30 or a number of days": {**good, "delay": "T+x"},
        "delay must be 0 to 30 days": {**good, "delay": "T+31"},
        "run time must be HH:MM": {**good, "run_at": "25:00"},
        "target provider must be one of": {**good, "target": "nobank"},
        "unsupported currency": {**good, "currency": "XXX"},
    }
    async with browser() as b:
        await b.login(OPERATOR)
        url = f"/console/ops/merchants/{merchant.id}/settlement"
        for reason, data in refusals.items():
            refused = await b.post(url, {"currency": "IDR", **data})
            assert refused.status_code == 303
            landing = await b.get(refused.headers["location"])
            assert 'class="flash error"' in landing.text, reason
            assert "Settlement not changed: " + reason in landing.text.replace("&#39;", "'"), reason
        unknown = await b.post(f"/console/ops/merchants/{uuid.uuid4()}/settlement", good)
        assert "kind=error" in unknown.headers["location"]
    after = await policy_of(runtime, merchant.id)
    assert after is not None
    assert (after.mode, after.delay_days, after.run_at_minute, after.updated_at) == (
        before.mode,
        before.delay_days,
        before.run_at_minute,
        before.updated_at,
    )
    assert await audited(runtime, "settlement.configure") == []


async def test_sweep_now_moves_the_settled_money_once_however_often_it_is_clicked(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, OPERATOR)
    books = Books(runtime)
    await books.top_up(merchant.id, 15_000_000, vault="deposit", provider="topremit")
    await set_policy(runtime, merchant.id, mode="on_demand", delay_days=0)
    page_url = f"/console/ops/merchants/{merchant.id}"
    async with browser() as b:
        await b.login(OPERATOR)
        page = await b.get(page_url)
        found = SWEEP_ID.search(page.text)
        assert found is not None
        form = {"sweep_id": found.group(1), "note": "month end"}
        first = await b.post(f"{page_url}/settlement/sweep", form)
        assert "kind=error" not in first.headers["location"]
        assert "Swept+150000.00+IDR" in first.headers["location"]
        # The same form again (a double click, a re-post): the same sweep, nothing moves.
        second = await b.post(f"{page_url}/settlement/sweep", form)
        assert "Already+swept" in second.headers["location"]
        page = await b.get(page_url)
        assert f"manual:{found.group(1)}" in page.text
        assert "month end" in page.text
        # A fresh form is a new sweep, but nothing is left to settle.
        fresh = SWEEP_ID.search(page.text)
        assert fresh is not None
        assert fresh.group(1) != found.group(1)
        third = await b.post(f"{page_url}/settlement/sweep", {"sweep_id": fresh.group(1)})
        assert "nothing+swept" in third.headers["location"]
    deposit = AccountKey.vault(merchant.id, "topremit", "deposit")
    withdrawal = AccountKey.vault(merchant.id, "finpay", "withdrawal")
    assert (await books.balance(deposit)).available == 0
    assert (await books.balance(withdrawal)).available == 15_000_000
    assert [(s.sweep_key, s.amount, s.trigger) for s in await sweeps_of(runtime, merchant.id)] == [
        (f"manual:{found.group(1)}", 15_000_000, "on_demand")
    ]
    assert await books.verify() == []
    assert [e.target for e in await audited(runtime, "settlement.sweep")] == [
        f"manual:{found.group(1)}",
        f"manual:{found.group(1)}",
        f"manual:{fresh.group(1)}",
    ]


async def test_sweep_now_is_refused_while_settlement_is_off(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, OPERATOR)
    books = Books(runtime)
    await books.top_up(merchant.id, 1_000_000, vault="deposit", provider="topremit")
    async with browser() as b:
        await b.login(OPERATOR)
        refused = await b.post(
            f"/console/ops/merchants/{merchant.id}/settlement/sweep", {"sweep_id": "abc"}
        )
        assert "kind=error" in refused.headers["location"]
        assert "settlement+is+off" in refused.headers["location"]
    assert await sweeps_of(runtime, merchant.id) == []
    deposit = AccountKey.vault(merchant.id, "topremit", "deposit")
    assert (await books.balance(deposit)).available == 1_000_000


async def test_settlement_forms_without_a_csrf_token_are_refused(
    runtime: Runtime, merchant: MerchantFixture, browser: Any
) -> None:
    await create_account(runtime, OPERATOR)
    books = Books(runtime)
    await books.top_up(merchant.id, 1_000_000, vault="deposit", provider="topremit")
    await set_policy(runtime, merchant.id, mode="on_demand", delay_days=0)
    base = f"/console/ops/merchants/{merchant.id}/settlement"
    async with browser() as b:
        await b.login(OPERATOR)
        configure = await b.post(
            base, {"mode": "off", "delay": "T+1", "target": "finpay"}, csrf=False
        )
        assert configure.status_code == 403
        assert "security token" in configure.text
        sweep = await b.post(f"{base}/sweep", {"sweep_id": "abc"}, csrf=False)
        assert sweep.status_code == 403
    policy = await policy_of(runtime, merchant.id)
    assert policy is not None
    assert policy.mode == "on_demand"
    assert await sweeps_of(runtime, merchant.id) == []


async def test_merchant_admins_read_only_their_own_settlement(
    runtime: Runtime, merchant: MerchantFixture, other_merchant: MerchantFixture, browser: Any
) -> None:
    books = Books(runtime)
    await books.top_up(merchant.id, 2_000_000, vault="deposit", provider="topremit")
    await set_policy(runtime, merchant.id, mode="on_demand", delay_days=0)
    async with runtime.sessionmaker() as session:
        await settlements.sweep(
            session, merchant.id, sweep_key="manual:mine", trigger=settlements.Trigger.ON_DEMAND
        )
        await session.commit()
    await books.top_up(other_merchant.id, 3_000_000, vault="deposit", provider="topremit")
    await set_policy(runtime, other_merchant.id, mode="on_demand", delay_days=0)
    async with runtime.sessionmaker() as session:
        await settlements.sweep(
            session,
            other_merchant.id,
            sweep_key="manual:theirs",
            trigger=settlements.Trigger.ON_DEMAND,
        )
        await session.commit()
    await set_policy(runtime, other_merchant.id, mode="scheduled", delay_days=7)
    await create_account(runtime, "admin@acme.test", merchant_id=merchant.id)
    await create_account(
        runtime, "viewer@acme.test", merchant_id=merchant.id, role=Role.MERCHANT_VIEWER
    )
    async with browser() as b:
        await b.login("admin@acme.test")
        assert "/console/m/settlement" in (await b.get("/console/m")).text
        own = await b.get("/console/m/settlement")
        assert own.status_code == 200
        for shown in ("on_demand", "T+0", "manual:mine", "20000.00 IDR", "sandbox"):
            assert shown in own.text, shown
        for foreign in ("manual:theirs", "T+7", "30000.00 IDR"):
            assert foreign not in own.text, foreign
        assert '<form method="post" action="/console/ops' not in own.text  # read-only
        # No operator page or action, for its own merchant or another's.
        for merchant_id in (merchant.id, other_merchant.id):
            assert (await b.get(f"/console/ops/merchants/{merchant_id}")).status_code == 403
            changed = await b.post(
                f"/console/ops/merchants/{merchant_id}/settlement",
                {"mode": "off", "delay": "T+0", "target": "finpay", "currency": "IDR"},
            )
            assert changed.status_code == 403
            swept = await b.post(
                f"/console/ops/merchants/{merchant_id}/settlement/sweep", {"sweep_id": "m1"}
            )
            assert swept.status_code == 403
    async with browser() as viewer:
        await viewer.login("viewer@acme.test")
        assert (await viewer.get("/console/m/settlement")).status_code == 403
        assert "/console/m/settlement" not in (await viewer.get("/console/m")).text
    mine, theirs = (
        await policy_of(runtime, merchant.id),
        await policy_of(runtime, other_merchant.id),
    )
    assert mine is not None
    assert theirs is not None
    assert (mine.mode, theirs.mode) == ("on_demand", "scheduled")
    assert [s.sweep_key for s in await sweeps_of(runtime, merchant.id)] == ["manual:mine"]
    assert [s.sweep_key for s in await sweeps_of(runtime, other_merchant.id)] == ["manual:theirs"]
    assert await audited(runtime, "settlement.configure") == []
    assert await audited(runtime, "settlement.sweep") == []
